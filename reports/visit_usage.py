"""Visit figures of a space for one month: who came from where, where its members went."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import ExtractIsoWeekDay

from passes.settlement import month_visits
from spaces.models import Space


def visit_usage(space: Space, month: dt.date) -> dict[str, Any]:
    """Visits hosted by `space` and made by its members elsewhere in `month`: four queries."""
    visits = month_visits(month)
    hosted = visits.filter(host=space).exclude(home=space)
    made = visits.filter(home=space).exclude(host=space)

    by_home = dict(
        hosted.values("home__slug")
        .annotate(count=Count("id"))
        .order_by("-count", "home__slug")
        .values_list("home__slug", "count")
    )
    by_host = dict(
        made.values("host__slug")
        .annotate(count=Count("id"))
        .order_by("-count", "host__slug")
        .values_list("host__slug", "count")
    )
    network_visit = ~Q(home=F("host"))
    at_space = visits.filter(host=space).aggregate(
        home_check_ins=Count("id", filter=Q(home=space)),
        flagged=Count("id", filter=Q(flagged=True) & network_visit),
        visitors=Count("member", filter=network_visit, distinct=True),
    )
    by_weekday = dict(
        hosted.annotate(weekday=ExtractIsoWeekDay("date"))
        .values("weekday")
        .annotate(count=Count("id"))
        .values_list("weekday", "count")
    )
    return {
        "visits_hosted": sum(by_home.values()),
        "visits_hosted_by_home": by_home,
        "visits_made": sum(by_host.values()),
        "visits_made_by_host": by_host,
        "home_check_ins": at_space["home_check_ins"],
        "flagged_visits": at_space["flagged"],
        "visits_by_weekday": [
            {"weekday": weekday, "visits": by_weekday.get(weekday, 0)} for weekday in range(1, 8)
        ],
        "distinct_visitors": at_space["visitors"],
    }
