"""When a resource is open on a given local day: opening hours, closures and desk periods."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import Closure, Resource, Space
from .opening_hours import Interval, intervals_on, local_datetime


def closures_for(resource: Resource) -> QuerySet[Closure]:
    """Closures of the whole space plus those of this resource only."""
    return Closure.objects.filter(
        Q(resource__isnull=True) | Q(resource=resource), space_id=resource.space_id
    )


def is_closed_on(resource: Resource, day: dt.date) -> bool:
    return closures_for(resource).filter(starts_on__lte=day, ends_on__gte=day).exists()


def open_intervals(resource: Resource, day: dt.date) -> list[Interval]:
    hours = resource.opening_hours if resource.opening_hours else resource.space.opening_hours
    return intervals_on(hours, day, resource.space.tz)


def desk_periods(resource: Resource, day: dt.date) -> dict[str, Interval]:
    """The bookable shapes of a desk on `day`: the whole day and, when it splits, half-days."""
    return periods_of(open_intervals(resource, day), resource.space, day)


def periods_of(intervals: list[Interval], space: Space, day: dt.date) -> dict[str, Interval]:
    """The desk periods of a day open over `intervals` (a desk's opening intervals that day)."""
    if not intervals:
        return {}
    opens, closes = intervals[0][0], intervals[-1][1]
    periods = {"day": (opens, closes)}
    split_time = space.half_day_split
    split = local_datetime(
        day, dt.timedelta(hours=split_time.hour, minutes=split_time.minute), space.tz
    )
    if opens < split < closes:
        periods["morning"] = (opens, split)
        periods["afternoon"] = (split, closes)
    return periods
