"""What is free in a space on one local day, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Value

from coworking.models import Member

from .models import Booking, Closure, Resource, Space
from .opening_hours import Interval, intervals_on, local_datetime
from .rules import SLOT_MINUTES
from .schedule import periods_of

# An interval of the day, its ends both as distances from the start of the day (instants, so
# compared rightly even across a daylight-saving change) and as local ISO text:
# (start, end, start ISO, end ISO).
Span = tuple[dt.timedelta, dt.timedelta, str, str]


def _span(interval: Interval, origin: dt.datetime, tz: ZoneInfo) -> Span:
    start, end = interval
    return (
        start - origin,
        end - origin,
        start.astimezone(tz).isoformat(),
        end.astimezone(tz).isoformat(),
    )


# A booking of the day as the query returns it: (resource id, start, end, member id), its ends
# as distances from the start of the day.
BookingRow = tuple[int, dt.timedelta, dt.timedelta, int]


def _free_spans(
    opened: list[Span], bookings: list[BookingRow], written: dict[dt.timedelta, str]
) -> list[dict[str, str]]:
    """The `opened` spans minus the `bookings` (both sorted, half-open), written out; the ISO
    text of every end of a booking is in `written`."""
    free = []
    for start, end, start_iso, end_iso in opened:
        cursor, cursor_iso = start, start_iso
        for _resource, busy_start, busy_end, _member in bookings:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                free.append({"start": cursor_iso, "end": written[busy_start]})
            if busy_end > cursor:
                cursor, cursor_iso = busy_end, written[busy_end]
        if cursor < end:
            free.append({"start": cursor_iso, "end": end_iso})
    return free


class _BookedRange(Func):
    """`tstzrange(start, end, '[)')`: the expression of the `booking_confirmed_span` GiST index
    (and of the `booking_no_overlap` exclusion constraint)."""

    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"

    def __init__(self) -> None:
        from django.contrib.postgres.fields import DateTimeRangeField

        super().__init__(F("start"), F("end"), output_field=DateTimeRangeField())


def _bookings_overlapping(start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """Confirmed bookings that overlap [start, end).

    On PostgreSQL the same condition is also written as a range overlap, which adds nothing
    logically but lets the planner use the GiST index on confirmed spans (migration 0003)
    instead of reading every booking ever made.
    """
    bookings = Booking.objects.filter(status=Booking.Status.CONFIRMED, start__lt=end, end__gt=start)
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

        bookings = bookings.alias(span=_BookedRange()).filter(
            span__overlap=DateTimeTZRange(start, end, "[)")
        )
    return bookings


def space_availability(space: Space, day: dt.date, member: Member | None = None) -> list[dict]:
    """Every active resource of `space` on `day`: open, booked and free intervals.

    Two queries whatever the number of resources and bookings: resources (plain rows, with a
    closure flag computed by the database) and the day's bookings.

    Thousands of bookings share a few dozen slot boundaries, so the bookings query returns each
    end as its distance from the day's start (an interval, which the driver decodes much faster
    than a timestamp); every interval of the day is compared as such a distance, and each
    distinct distance is turned into local ISO text once.
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
    resources = (
        Resource.objects.filter(space=space, is_active=True)
        .annotate(closed=Exists(closures), training_name=F("training__name"))
        .order_by("kind", "name")
        .values_list(
            "id",
            "name",
            "kind",
            "desk_type",
            "capacity",
            "members_only",
            "training_name",
            "opening_hours",
            "closed",
            named=True,
        )
    )
    rows = (
        _bookings_overlapping(day_start, day_end)
        .filter(resource__space=space)
        .order_by("start")
        .annotate(start_offset=F("start") - Value(origin), end_offset=F("end") - Value(origin))
        .values_list("resource_id", "start_offset", "end_offset", "member_id")
    )

    # 1. The day's bookings, in order of start, grouped by resource.
    bookings: dict[int, list[BookingRow]] = {}
    for row in rows:
        group = bookings.get(row[0])
        if group is None:
            bookings[row[0]] = [row]
        else:
            group.append(row)

    # 2. Opening intervals and desk periods, once per set of opening hours (most resources
    #    follow the space's).
    by_hours: dict[str | None, tuple[list[Span], dict[str, Span]]] = {}

    def opening(hours: dict | None) -> tuple[list[Span], dict[str, Span]]:
        key = None if hours is None else repr(hours)
        found = by_hours.get(key)
        if found is None:
            intervals = intervals_on(hours or space.opening_hours, day, tz)
            periods = periods_of(intervals, space, day)
            found = by_hours[key] = (
                [_span(interval, origin, tz) for interval in intervals],
                {name: _span(interval, origin, tz) for name, interval in periods.items()},
            )
        return found

    # 3. One entry per resource. Each distinct end of a booking (a few dozen slot boundaries)
    #    is written out once.
    written: dict[dt.timedelta, str] = {}

    def write(offset: dt.timedelta) -> str:
        written[offset] = text = (origin + offset).astimezone(tz).isoformat()
        return text

    member_id = member.pk if member is not None else None
    result = []
    for resource in resources:
        if resource.closed:
            opened, periods = [], {}  # type: ignore[var-annotated]
        else:
            opened, periods = opening(resource.opening_hours or None)
        group = bookings.get(resource.id, [])
        booked = [
            {
                "start": written.get(start) or write(start),
                "end": written.get(end) or write(end),
                "mine": booker_id == member_id,
            }
            for _resource, start, end, booker_id in group
        ]
        entry: dict[str, Any] = {
            "id": resource.id,
            "name": resource.name,
            "kind": resource.kind,
            "desk_type": resource.desk_type,
            "capacity": resource.capacity,
            "members_only": resource.members_only,
            "training": resource.training_name,
            "slot_minutes": None if resource.kind == Resource.Kind.DESK else SLOT_MINUTES,
            "closed": not opened,
            "open": [{"start": start_iso, "end": end_iso} for _s, _e, start_iso, end_iso in opened],
            "booked": booked,
            "free": _free_spans(opened, group, written),
        }
        if resource.kind == Resource.Kind.DESK:
            entry["periods"] = {
                name: {
                    "start": start_iso,
                    "end": end_iso,
                    "free": not any(s < end and start < e for _r, s, e, _m in group),
                }
                for name, (start, end, start_iso, end_iso) in periods.items()
            }
        result.append(entry)
    return result
