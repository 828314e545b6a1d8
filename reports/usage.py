"""A space's monthly review: bookings, visits, settlement and active members, for the API and
the monthly summary email."""

from __future__ import annotations

import datetime as dt
from typing import Any

from passes.settlement import month_visits, settlement_lines
from spaces.models import Booking, Space

from .booking_usage import booking_usage, month_bounds
from .visit_usage import visit_usage


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
