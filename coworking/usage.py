"""A space's monthly review: bookings, visits, settlement and active members, for the API and
the monthly summary email."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Q

from passes.models import Network, NetworkSpace
from passes.usage import month_visits, visit_usage
from spaces.models import Booking, Space
from spaces.usage import booking_usage, month_bounds

MONTH_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}")
# A typo such as 0202-11 or 9999-12 is no month to review: the figures' date arithmetic (the
# month after, in a space's time zone) would leave the calendar at its ends.
MONTH_YEARS = range(2000, 2101)


def month_parse(text: str) -> dt.date | None:
    """`YYYY-MM` (ASCII digits, a year of MONTH_YEARS) as the month's first day; None otherwise."""
    if not MONTH_PATTERN.fullmatch(text):
        return None
    year, month = int(text[:4]), int(text[5:])
    if year not in MONTH_YEARS or not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1)


def settlement_lines(space: Space, month: dt.date) -> list[dict[str, Any]]:
    """The balance of `space` with each other space of each network it belongs to.

    `balance` is positive when the other space owes `space`. Only the visits `space` hosted or
    sent are read (not the whole network's matrix): three queries whatever the network's size.
    """
    networks = list(Network.objects.filter(spaces=space).order_by("id"))
    if not networks:
        return []
    others: dict[int, set[str]] = defaultdict(set)
    for network_id, slug in NetworkSpace.objects.filter(network__in=networks).values_list(
        "network_id", "space__slug"
    ):
        others[network_id].add(slug)
    counts: dict[tuple[int, str, str], int] = {}
    rows = (
        month_visits(month)
        .filter(Q(host=space) | Q(home=space), network__in=networks)
        .exclude(host=F("home"))
        .values("network_id", "host__slug", "home__slug")
        .annotate(visits=Count("id"))
        .values_list("network_id", "host__slug", "home__slug", "visits")
    )
    for network_id, host, home, visits in rows:
        counts[(network_id, host, home)] = visits
        # A space that has left the network still settles the visits it hosted or sent.
        others[network_id].update((host, home))
    lines = []
    for network in networks:
        for other in sorted(others[network.pk] - {space.slug}):
            hosted = counts.get((network.pk, space.slug, other), 0)
            made = counts.get((network.pk, other, space.slug), 0)
            lines.append(
                {
                    "network": network.slug,
                    "space": other,
                    "hosted": hosted,
                    "made": made,
                    "balance": (hosted - made) * network.day_rate,
                }
            )
    return lines


def distinct_active_members(space: Space, month: dt.date) -> int:
    """Members with a confirmed booking or a check-in at home in `month`: one UNION query."""
    month_start, month_end = month_bounds(space, month)
    booked = Booking.objects.filter(
        resource__space=space,
        status=Booking.Status.CONFIRMED,
        start__gte=month_start,
        start__lt=month_end,
    ).values("member_id")
    checked_in = month_visits(month).filter(host=space, home=space).values("member_id")
    return booked.order_by().union(checked_in).count()


def space_usage(space: Space, month: dt.date) -> dict[str, Any]:
    """Everything a co-manager reviews for `space` in `month`, in a fixed number of queries."""
    month = month.replace(day=1)
    return {
        "space": space.slug,
        "month": month.strftime("%Y-%m"),
        "bookings": booking_usage(space, month),
        "visits": visit_usage(space, month),
        "settlement": settlement_lines(space, month),
        "distinct_active_members": distinct_active_members(space, month),
    }
