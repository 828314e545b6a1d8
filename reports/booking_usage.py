"""Booking figures of a space for one local month: hours booked, hours open, when it is busy.

Four queries whatever the number of resources, bookings and members: the resources with their
bookings counted and summed by the database, the month's closures, the bookings' (start, end)
grouped for the heatmap, and the members who booked. Hours are real elapsed hours (a night across
a daylight-saving change lasts 2 or 4 hours, not 3); the heatmap files them under the wall-clock
hour they were spent in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, DurationField, F, FilteredRelation, Q, Sum, Value
from django.db.models.functions import Least

from coworking.months import month_days, month_first, month_following
from spaces.models import Booking, Closure, Resource, Space
from spaces.opening_hours import intervals_on, local_datetime

HOUR = dt.timedelta(hours=1)
ZERO = dt.timedelta(0)


def month_bounds(space: Space, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first day 00:00, next month's first day 00:00) in the space's timezone, as instants."""
    return (
        local_datetime(month_first(month), ZERO, space.tz),
        local_datetime(month_following(month), ZERO, space.tz),
    )


def hours(duration: dt.timedelta) -> float:
    return round(duration / HOUR, 2)


def occupancy(booked: dt.timedelta, opened: dt.timedelta) -> float | None:
    return round(booked / opened, 4) if opened else None


def _figures(bookings: int, booked: dt.timedelta, opened: dt.timedelta) -> dict[str, Any]:
    return {
        "bookings": bookings,
        "booked_hours": hours(booked),
        "open_hours": hours(opened),
        "occupancy": occupancy(booked, opened),
    }


@dataclass
class _Sums:
    """Bookings, hours booked and hours open, added up over resources."""

    bookings: int = 0
    booked: dt.timedelta = ZERO
    opened: dt.timedelta = ZERO

    def figures(self) -> dict[str, Any]:
        return _figures(self.bookings, self.booked, self.opened)


def _open_time_by_day(
    opening_hours: Mapping[str, Iterable], days: list[dt.date], tz: ZoneInfo
) -> dict[dt.date, dt.timedelta]:
    # Subtract in UTC: two datetimes sharing a tzinfo subtract as wall clocks, which would make
    # the night of a daylight-saving change 24 hours long.
    return {
        day: sum(
            (
                closes.astimezone(dt.UTC) - opens.astimezone(dt.UTC)
                for opens, closes in intervals_on(opening_hours, day, tz)
            ),
            ZERO,
        )
        for day in days
    }


def _closed_days(space: Space, days: list[dt.date]) -> tuple[set[dt.date], dict[int, set[dt.date]]]:
    """Days closed for the whole space, and days closed for single resources (one query)."""
    first, last = days[0], days[-1]
    space_closed: set[dt.date] = set()
    resource_closed: dict[int, set[dt.date]] = defaultdict(set)
    closures = Closure.objects.filter(space=space, starts_on__lte=last, ends_on__gte=first)
    for resource_id, starts_on, ends_on in closures.values_list(
        "resource_id", "starts_on", "ends_on"
    ):
        closed = {day for day in days if starts_on <= day <= ends_on}
        (resource_closed[resource_id] if resource_id else space_closed).update(closed)
    return space_closed, resource_closed


def _spread_over_hours(
    start: dt.datetime, end: dt.datetime, tz: ZoneInfo
) -> Iterable[tuple[int, int, dt.timedelta]]:
    """(ISO weekday, local hour, elapsed time) for each wall-clock hour that [start, end) touches.

    Steps in UTC from one local hour boundary to the next, so an hour repeated when clocks go
    back is counted twice under the same wall-clock hour and a skipped hour never appears.
    """
    cursor = start.astimezone(dt.UTC)
    end = end.astimezone(dt.UTC)
    while cursor < end:
        local = cursor.astimezone(tz)
        hour_start = local.replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        boundary = min(hour_start + HOUR, end)
        yield local.isoweekday(), local.hour, boundary - cursor
        cursor = boundary


def booking_usage(space: Space, month: dt.date) -> dict[str, Any]:
    """Bookings, booked and open hours, occupancy and the weekly heatmap of `space` in `month`.

    Only confirmed bookings count, in the month where they start, their hours cut at the end
    of the month. Inactive resources appear only if they were booked that month.
    """
    tz = space.tz
    month_start, month_end = month_bounds(space, month)
    days = month_days(month)
    confirmed = Booking.objects.filter(
        status=Booking.Status.CONFIRMED, start__gte=month_start, start__lt=month_end
    )

    # 1. Bookings and booked hours by resource, counted by the database.
    # The month's condition goes into the JOIN, where the (resource, start) index serves it,
    # rather than into the aggregates, which would read every booking ever made.
    resources = list(
        Resource.objects.filter(space=space)
        .annotate(
            month_bookings=FilteredRelation(
                "bookings",
                condition=Q(
                    bookings__status=Booking.Status.CONFIRMED,
                    bookings__start__gte=month_start,
                    bookings__start__lt=month_end,
                ),
            )
        )
        .annotate(
            booking_count=Count("month_bookings"),
            booked=Sum(
                Least(F("month_bookings__end"), Value(month_end)) - F("month_bookings__start"),
                output_field=DurationField(),
            ),
        )
        .filter(Q(is_active=True) | Q(booking_count__gt=0))
        .order_by("kind", "name", "id")
    )

    # 2. Open time: the weekly hours of each day, minus the closed days (one query).
    space_closed, resource_closed = _closed_days(space, days)
    open_by_hours: dict[str, dict[dt.date, dt.timedelta]] = {}
    by_resource = []
    by_kind = {kind: _Sums() for kind in Resource.Kind.values}
    total = _Sums()
    for resource in resources:
        weekly = resource.opening_hours or space.opening_hours
        key = json.dumps(weekly, sort_keys=True)
        if key not in open_by_hours:
            open_by_hours[key] = _open_time_by_day(weekly, days, tz)
        closed = space_closed | resource_closed.get(resource.pk, set())
        opened = sum((time for day, time in open_by_hours[key].items() if day not in closed), ZERO)
        booked = resource.booked or ZERO
        by_resource.append(
            {
                "id": resource.pk,
                "name": resource.name,
                "kind": resource.kind,
                **_figures(resource.booking_count, booked, opened),
            }
        )
        for sums in (by_kind[resource.kind], total):
            sums.bookings += resource.booking_count
            sums.booked += booked
            sums.opened += opened

    # 3. The heatmap, from the bookings' (start, end): the database groups identical slots
    #    (a month of 09:00–10:00 bookings is a few rows), each of which is spread once.
    in_space = confirmed.filter(resource__space=space).order_by()
    slots: Counter[tuple[dt.datetime, dt.datetime]] = Counter()
    for start, end, times in (
        in_space.values("start", "end")
        .annotate(times=Count("id"))
        .values_list("start", "end", "times")
    ):
        slots[(start, min(end, month_end))] += times
    # 4. The members who booked.
    members = in_space.aggregate(members=Count("member", distinct=True))["members"]
    cells = [[ZERO] * 24 for _weekday in range(7)]
    for (start, end), times in slots.items():
        for weekday, hour, elapsed in _spread_over_hours(start, end, tz):
            cells[weekday - 1][hour] += elapsed * times

    by_weekday = [sum(row, ZERO) for row in cells]
    by_hour = [sum((row[hour] for row in cells), ZERO) for hour in range(24)]
    return {
        "space": space.slug,
        "month": month.strftime("%Y-%m"),
        "timezone": space.timezone,
        "period": {
            "start": month_start.astimezone(tz).isoformat(),
            "end": month_end.astimezone(tz).isoformat(),
        },
        "resources": by_resource,
        "kinds": {kind: sums.figures() for kind, sums in by_kind.items()},
        "totals": total.figures(),
        "heatmap": [[hours(cell) for cell in row] for row in cells],
        "busiest_weekdays": [
            {"weekday": weekday, "booked_hours": hours(time)}
            for weekday, time in sorted(
                enumerate(by_weekday, start=1), key=lambda item: (-item[1], item[0])
            )
            if time
        ],
        "busiest_hours": [
            {"hour": hour, "booked_hours": hours(time)}
            for hour, time in sorted(enumerate(by_hour), key=lambda item: (-item[1], item[0]))
            if time
        ],
        "distinct_members": members,
    }
