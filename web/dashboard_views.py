"""The co-manager dashboard (SPEC §6): one space's month, read from the usage services.

The view picks the space and the month, calls `space_usage` and the network settlement, and
hands their figures to `dashboard_sections`, which shapes them for the templates. Every figure
comes from reports.usage and passes.settlement; none is computed here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.http import AuthenticatedHttpRequest
from coworking.months import month_parse
from passes.models import Network
from passes.settlement import networks_settlement
from reports.usage import space_usage
from spaces.models import Space
from spaces.selectors import co_managed_spaces

from . import dashboard_sections as sections

RESOURCES_SHOWN_OPEN = 12  # a longer resource list starts folded, to keep phones scrollable


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """`?space=<slug>&month=YYYY-MM`; by default the first co-managed space and this month."""
    spaces = list(co_managed_spaces(request.user))
    if not spaces:
        raise PermissionDenied
    space = _chosen_space(spaces, request.GET.get("space", ""))
    this_month = timezone.localdate(timezone=space.tz).replace(day=1)
    raw_month = request.GET.get("month", "").strip()
    chosen_month = month_parse(raw_month)  # None: the page shows this month
    month = chosen_month or this_month

    usage = space_usage(space, month)
    networks = list(Network.objects.filter(spaces=space).order_by("id"))
    settlements = networks_settlement(networks, month)
    names = _space_names(usage, settlements)
    resources = sections.resource_tables(usage["bookings"])
    return render(
        request,
        "web/dashboard/dashboard.html",
        {
            "space": space,
            "spaces": spaces,
            "month": month,
            "month_value": month.strftime("%Y-%m"),
            "month_invalid": raw_month if raw_month and chosen_month is None else "",
            "nav": _month_links(space, month, this_month),
            "figures": sections.figure_cards(
                space, usage, settlements, flagged_url=_flagged_visits_url(space, month)
            ),
            "heatmap": sections.heatmap_grid(usage["bookings"]),
            **resources,
            "resources_open": len(resources["resources"]) <= RESOURCES_SHOWN_OPEN,
            "visits": sections.visit_lists(usage["visits"], names),
            "settlements": [
                sections.settlement_table(settlement, network, space, names)
                for settlement, network in zip(settlements, networks, strict=True)
            ],
            "exports": _exports(space, month, networks),
            "admin_links": _admin_links(space, month),
        },
    )


# --- Choosing what to show ------------------------------------------------------------------


def _chosen_space(spaces: list[Space], slug: str) -> Space:
    if not slug:
        return spaces[0]
    for space in spaces:
        if space.slug == slug:
            return space
    raise Http404  # not a space, or not one of theirs: the same answer


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _dashboard_url(space: Space, month: dt.date) -> str:
    query = urlencode({"space": space.slug, "month": month.strftime("%Y-%m")})
    return f"{reverse('web:dashboard')}?{query}"


def _month_links(space: Space, month: dt.date, this_month: dt.date) -> dict[str, Any]:
    previous, following = _shift(month, -1), _shift(month, 1)
    return {
        "previous": {"month": previous, "url": _dashboard_url(space, previous)},
        "next": {"month": following, "url": _dashboard_url(space, following)},
        "this_month": None if month == this_month else _dashboard_url(space, this_month),
    }


def _space_names(usage: dict[str, Any], settlements: list[dict[str, Any]]) -> dict[str, str]:
    """Names for the slugs the figures use (one query)."""
    visits = usage["visits"]
    slugs = {*visits["visits_hosted_by_home"], *visits["visits_made_by_host"]}
    for settlement in settlements:
        slugs.update(settlement["spaces"])
    if not slugs:
        return {}
    return dict(Space.objects.filter(slug__in=slugs).values_list("slug", "name"))


# --- Links out: CSV exports and the admin ---------------------------------------------------


def _exports(space: Space, month: dt.date, networks: list[Network]) -> list[dict[str, str]]:
    query = {"month": month.strftime("%Y-%m")}
    usage_url = reverse("space-usage", kwargs={"slug": space.slug})
    exports = [
        {
            "label": _("Usage de %(space)s") % {"space": space.name},
            "url": f"{usage_url}?{urlencode({**query, 'format': 'csv'})}",
        }
    ]
    for network in networks:
        exports.append(
            {
                "label": _("Règlement du réseau %(network)s") % {"network": network.name},
                "url": f"{reverse('network-settlement')}?"
                + urlencode({**query, "network": network.slug, "format": "csv"}),
            }
        )
    return exports


def _admin_url(model: str, **filters: Any) -> str:
    url = reverse(f"admin:{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _flagged_visits_url(space: Space, month: dt.date) -> str:
    return _admin_url(
        "passes_visit",
        host__id__exact=space.pk,
        flagged__exact=1,
        date__year=month.year,
        date__month=month.month,
    )


def _admin_links(space: Space, month: dt.date) -> list[dict[str, str]]:
    this_month = {"year": month.year, "month": month.month}
    links = [
        ("coworking_member", _("Membres"), {"memberships__space__id__exact": space.pk}),
        ("spaces_membership", _("Adhésions"), {"space__id__exact": space.pk}),
        ("spaces_resource", _("Ressources"), {"space__id__exact": space.pk}),
        (
            "spaces_booking",
            _("Réservations du mois"),
            {
                "resource__space__id__exact": space.pk,
                **{f"start__{part}": value for part, value in this_month.items()},
            },
        ),
        ("spaces_closure", _("Fermetures"), {"space__id__exact": space.pk}),
        ("passes_partnerkey", _("Clés des lecteurs"), {"space__id__exact": space.pk}),
        ("passes_pass", _("Pass ch'tipass"), {"membership__space__id__exact": space.pk}),
        (
            "passes_visit",
            _("Visites accueillies du mois"),
            {
                "host__id__exact": space.pk,
                **{f"date__{part}": value for part, value in this_month.items()},
            },
        ),
    ]
    return [
        {"key": model, "label": label, "url": _admin_url(model, **filters)}
        for model, label, filters in links
    ]
