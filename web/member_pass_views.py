"""Member page "Mon ch'tipass": the rotating QR, allowance left and recent visits.

The page carries the current credential so that the QR shows at once; `pass.js` then loads the
rest of the day's credentials from the API and keeps rotating them, offline too. The service
worker that lets the page reopen offline is served from under /pass/ so that its scope covers it.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coworking.http import AuthenticatedHttpRequest
from passes import codec
from passes.models import Pass, Visit
from passes.selectors import allowance_left, current_pass
from passes.services import credential_rotating
from spaces.models import Space

RECENT_VISITS = 10
SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "web" / "pass-sw.js"


def _last_revoked(member) -> Pass | None:
    """The latest revoked pass, to tell a member without a current pass why."""
    return (
        Pass.objects.filter(member=member, status=Pass.Status.REVOKED)
        .select_related("membership__space")
        .order_by("-status_changed_at", "-id")
        .first()
    )


def _pass_script_strings() -> dict[str, str]:
    """The words pass.js shows, in the page's language ({seconds} and {time} are filled in)."""
    return {
        "countdown": _("Nouveau code dans {seconds} s"),
        "loading": _("Chargement du code…"),
        "unavailable": _(
            "Pas de code pour cet instant : reconnectez-vous à Internet pour recharger votre "
            "ch'tipass."
        ),
        "readyUntil": _("Prêt hors ligne jusqu'à {time}"),
        "fullscreen": _("Plein écran"),
        "exitFullscreen": _("Quitter le plein écran"),
    }


@never_cache
@login_required
def pass_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    member = request.user
    now = timezone.now()
    today = timezone.localdate(now)
    pass_obj = current_pass(member)
    context: dict = {
        "pass": pass_obj,
        "revoked": None if pass_obj else _last_revoked(member),
        "visits": list(
            Visit.objects.filter(member=member)
            .select_related("host")
            .order_by("-date", "-id")[:RECENT_VISITS]
        ),
        "visits_this_month": Visit.objects.filter(
            member=member, date__gte=today.replace(day=1), date__lte=today
        ).count(),
    }
    config: dict = {
        "active": False,
        "passId": None,
        "swUrl": reverse("web:pass_sw"),
        "swScope": reverse("web:pass"),
    }
    if pass_obj is not None:
        left = allowance_left(pass_obj, today)
        names = dict(Space.objects.filter(slug__in=left.per_host_left).values_list("slug", "name"))
        membership = pass_obj.membership
        context.update(
            network_left=left.network_left,
            network_total=pass_obj.network.monthly_visits,
            per_host_total=pass_obj.network.monthly_visits_per_host,
            per_host=sorted(
                ((names.get(slug, slug), count) for slug, count in left.per_host_left.items()),
                key=lambda item: item[0],
            ),
            home_space=membership.space,
            membership_active=(
                membership.status == membership.Status.ACTIVE and membership.is_active_on(today)
            ),
        )
        config["passId"] = pass_obj.pk
        if pass_obj.status == Pass.Status.ACTIVE:
            counter, credential = credential_rotating(pass_obj, now=now)[0]
            context["credential"] = credential
            config.update(
                active=True,
                apiUrl=reverse("my-pass"),
                windowSeconds=codec.WINDOW_SECONDS,
                counter=counter,
                credential=credential,
                firstName=member.first_name,
                strings=_pass_script_strings(),
            )
    context["config"] = config
    return render(request, "web/member/pass.html", context)


@require_GET
def pass_service_worker(request: HttpRequest) -> HttpResponse:
    """The pass page's service worker, served under /pass/ so that its scope covers the page."""
    response = HttpResponse(
        SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8"
    )
    # Browsers check for a new worker on each visit; never let a proxy keep an old one.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("web:pass")
    return response
