"""The web face: shared views (home, login). Pages call services and selectors only."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse

from spaces.selectors import co_managed_space_ids


def home(request):
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect(reverse("web:book"))


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def navigation(request) -> dict:
    """Template context: what the signed-in person may reach."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_co_manager": False}
    return {"nav_co_manager": bool(co_managed_space_ids(user))}
