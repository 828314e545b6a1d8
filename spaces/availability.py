"""What is free in a space on one local day, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Value

from coworking.models import Member

from .models import Booking, Closure, Resource, Space
from .opening_hours import Interval, local_datetime
from .rules import SLOT_MINUTES
from .schedule import desk_periods, open_intervals

# An interval with its ends already written out: (start, end, start ISO, end ISO).
Span = tuple[dt.datetime, dt.datetime, str, str]
# A booking of the day: its span plus whether it is the asking member's.
Booked = tuple[dt.datetime, dt.datetime, str, str, bool]


def _free_spans(opened: list[Span], taken: list[Booked]) -> list[dict[str, str]]:
    """The `opened` spans minus the `taken` ones (both sorted, half-open), written out."""
    free = []
    for start, end, start_iso, end_iso in opened:
        cursor, cursor_iso = start, start_iso
        for busy_start, busy_end, busy_start_iso, busy_end_iso, _mine in taken:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                free.append({"start": cursor_iso, "end": busy_start_iso})
            if busy_end > cursor:
                cursor, cursor_iso = busy_end, busy_end_iso
        if cursor < end:
            free.append({"start": cursor_iso, "end": end_iso})
    return free


class _BookedRange(Func):
    """`tstzrange(start, end, '[)')`: the expression of the `booking_no_overlap` GiST index."""

    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"

    def __init__(self) -> None:
        from django.contrib.postgres.fields import DateTimeRangeField

        super().__init__(F("start"), F("end"), output_field=DateTimeRangeField())


def _bookings_overlapping(start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """Confirmed bookings that overlap [start, end).

    On PostgreSQL the same condition is also written as a range overlap, which adds nothing
    logically but lets the planner use the exclusion constraint's GiST index instead of reading
    every booking ever made.
    """
    bookings = Booking.objects.filter(status=Booking.Status.CONFIRMED, start__lt=end, end__gt=start)
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

        bookings = bookings.alias(span=_BookedRange()).filter(
            span__overlap=DateTimeTZRange(start, end, "[)")
        )
    return bookings


def _span(interval: Interval) -> dict[str, str]:
    return {"start": interval[0].isoformat(), "end": interval[1].isoformat()}


def _spans(intervals: list[Interval]) -> list[Span]:
    return [(start, end, start.isoformat(), end.isoformat()) for start, end in intervals]


def space_availability(space: Space, day: dt.date, member: Member | None = None) -> list[dict]:
    """Every active resource of `space` on `day`: open, booked and free intervals.

    Two queries whatever the number of resources and bookings: resources (with a closure flag
    computed by the database) and the day's bookings.

    Thousands of bookings share a few dozen slot boundaries, so the bookings query returns each
    end as its distance from the day's start (an interval, which the driver decodes much faster
    than a timestamp), and each distinct distance is turned into a local time and written out
    once.
    """
    tz = space.tz
    day_start = local_datetime(day, dt.timedelta(0), tz)
    day_end = local_datetime(day + dt.timedelta(days=1), dt.timedelta(0), tz)
    origin = day_start.astimezone(dt.UTC)
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
    rows = (
        _bookings_overlapping(day_start, day_end)
        .filter(resource__space=space)
        .order_by("start")
        .annotate(start_offset=F("start") - Value(origin), end_offset=F("end") - Value(origin))
        .values_list("resource_id", "start_offset", "end_offset", "member_id")
    )
    moments: dict[dt.timedelta, tuple[dt.datetime, str]] = {}

    def moment(offset: dt.timedelta) -> tuple[dt.datetime, str]:
        local = (origin + offset).astimezone(tz)
        moments[offset] = found = (local, local.isoformat())
        return found

    booked: dict[int, list[Booked]] = defaultdict(list)
    member_id = member.pk if member is not None else None
    for resource_id, start_offset, end_offset, booker_id in rows:
        start, start_iso = moments.get(start_offset) or moment(start_offset)
        end, end_iso = moments.get(end_offset) or moment(end_offset)
        booked[resource_id].append((start, end, start_iso, end_iso, booker_id == member_id))

    # Most resources follow the space's opening hours: compute those once.
    space_hours: list[Span] | None = None
    result = []
    for resource in resources:
        resource.space = space  # already loaded: no query per resource
        if resource.closed:
            opened: list[Span] = []
        elif resource.opening_hours:
            opened = _spans(open_intervals(resource, day))
        else:
            if space_hours is None:
                space_hours = _spans(open_intervals(resource, day))
            opened = space_hours
        taken = booked.get(resource.pk, [])
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
            "open": [{"start": start_iso, "end": end_iso} for _s, _e, start_iso, end_iso in opened],
            "booked": [
                {"start": start_iso, "end": end_iso, "mine": mine}
                for _s, _e, start_iso, end_iso, mine in taken
            ],
            "free": _free_spans(opened, taken),
        }
        if resource.kind == Resource.Kind.DESK:
            periods = desk_periods(resource, day) if opened else {}
            entry["periods"] = {
                name: {
                    **_span(interval),
                    "free": not any(s < interval[1] and interval[0] < e for s, e, *_ in taken),
                }
                for name, interval in periods.items()
            }
        result.append(entry)
    return result
