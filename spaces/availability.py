"""What is free in a space on one local day, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Exists, OuterRef, Q

from coworking.models import Member

from .models import Booking, Closure, Resource, Space
from .opening_hours import Interval, local_datetime
from .rules import SLOT_MINUTES
from .schedule import desk_periods, open_intervals


def _subtract(intervals: list[Interval], taken: list[Interval]) -> list[Interval]:
    """`intervals` minus `taken` (both sorted, half-open)."""
    free = []
    for start, end in intervals:
        cursor = start
        for busy_start, busy_end in taken:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                free.append((cursor, busy_start))
            cursor = max(cursor, busy_end)
        if cursor < end:
            free.append((cursor, end))
    return free


def _span(interval: Interval) -> dict[str, str]:
    return {"start": interval[0].isoformat(), "end": interval[1].isoformat()}


def space_availability(space: Space, day: dt.date, member: Member | None = None) -> list[dict]:
    """Every active resource of `space` on `day`: open, booked and free intervals.

    Two queries whatever the number of resources and bookings: resources (with a closure flag
    computed by the database) and the day's bookings.
    """
    tz = space.tz
    day_start = local_datetime(day, dt.timedelta(0), tz)
    day_end = local_datetime(day + dt.timedelta(days=1), dt.timedelta(0), tz)
    closures = Closure.objects.filter(
        Q(resource__isnull=True) | Q(resource=OuterRef("pk")),
        space=space,
        starts_on__lte=day,
        ends_on__gte=day,
    )
    resources = list(
        Resource.objects.filter(space=space, is_active=True)
        .annotate(closed=Exists(closures))
        .select_related("training")
        .order_by("kind", "name")
    )
    booked: dict[int, list[tuple[dt.datetime, dt.datetime, bool]]] = defaultdict(list)
    rows = (
        Booking.objects.filter(
            resource__space=space,
            status=Booking.Status.CONFIRMED,
            start__lt=day_end,
            end__gt=day_start,
        )
        .order_by("start")
        .values_list("resource_id", "start", "end", "member_id")
    )
    member_id = member.pk if member is not None else None
    for resource_id, start, end, booker_id in rows:
        booked[resource_id].append(
            (start.astimezone(tz), end.astimezone(tz), booker_id == member_id)
        )

    result = []
    for resource in resources:
        resource.space = space  # already loaded: no query per resource
        opened = [] if resource.closed else open_intervals(resource, day)
        taken = [(start, end) for start, end, _mine in booked[resource.pk]]
        entry: dict[str, Any] = {
            "id": resource.pk,
            "name": resource.name,
            "kind": resource.kind,
            "desk_type": resource.desk_type,
            "capacity": resource.capacity,
            "members_only": resource.members_only,
            "training": resource.training.name if resource.training else None,
            "slot_minutes": None if resource.kind == Resource.Kind.DESK else SLOT_MINUTES,
            "closed": not opened,
            "open": [_span(i) for i in opened],
            "booked": [{**_span((s, e)), "mine": mine} for s, e, mine in booked[resource.pk]],
            "free": [_span(i) for i in _subtract(opened, taken)],
        }
        if resource.kind == Resource.Kind.DESK:
            periods = desk_periods(resource, day) if opened else {}
            entry["periods"] = {
                name: {
                    **_span(interval),
                    "free": not any(s < interval[1] and interval[0] < e for s, e in taken),
                }
                for name, interval in periods.items()
            }
        result.append(entry)
    return result
