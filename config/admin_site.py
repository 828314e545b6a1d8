"""The admin is for co-managers too: Mutualab has no staff, members run it.

A co-manager is not `is_staff`; they may log in and see only their own spaces' objects. What
they may manage is said in spaces/admin_scoping.py; this site lets them in, and gives every
admin registered on it (ours and third-party ones) the scoping mixins, so none can skip them.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from spaces.admin_scoping import managed_admin_class


def may_use_admin(user) -> bool:
    from spaces.selectors import co_managed_space_ids

    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or bool(co_managed_space_ids(user))


class CoManagerAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        if not may_use_admin(user):
            raise ValidationError(
                _("Cet espace est réservé aux co-gérant·es d'un lieu."), code="invalid_login"
            )


class ChtipassAdminSite(admin.AdminSite):
    site_header = _("ch'tipass — administration")
    site_title = _("ch'tipass")
    index_title = _("Gestion de vos lieux")
    login_form = CoManagerAuthenticationForm

    def has_permission(self, request) -> bool:
        return may_use_admin(request.user)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = managed_admin_class(admin_class or admin.ModelAdmin)
        super().register(model_or_iterable, admin_class, **options)
