"""One day of a space as the booking page shows it, built from `space_availability`.

Presentation only: which buttons and time choices to offer. Whether a booking is allowed is
decided by `booking_create` when the member presses one.

Moments are kept as instants (UTC) and compared as such: two datetimes of one timezone compare
and add as wall clocks, which on a daylight-saving night would offer times the clocks skip.
Templates show them in the space's timezone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from spaces.models import Resource, Space

PERIOD_LABELS = {"morning": _("Matin"), "afternoon": _("Après-midi"), "day": _("Journée")}
DEFAULT_MINUTES = 60


@dataclass(frozen=True)
class Span:
    start: dt.datetime
    end: dt.datetime
    mine: bool = False


@dataclass(frozen=True)
class DeskPeriod:
    name: str
    label: str
    start: dt.datetime
    end: dt.datetime
    free: bool
    mine: bool
    over: bool


@dataclass
class ResourceDay:
    id: int
    name: str
    kind: str
    kind_label: str
    capacity: int
    training: str | None
    closed: bool
    periods: list[DeskPeriod] = field(default_factory=list)
    free: list[Span] = field(default_factory=list)
    booked: list[Span] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    default_start: str | None = None
    default_end: str | None = None

    @property
    def mine(self) -> list[Span]:
        return [span for span in self.booked if span.mine]

    @property
    def bookable(self) -> bool:
        if self.kind == Resource.Kind.DESK:
            return any(period.free for period in self.periods)
        return bool(self.starts)

    @property
    def over(self) -> bool:
        """Nothing left to book or to see: closed, or every free moment is past."""
        if self.kind == Resource.Kind.DESK:
            return all(period.over and not period.mine for period in self.periods)
        return not self.starts and not self.mine


@dataclass
class DayView:
    desks: list[ResourceDay]
    rooms: list[ResourceDay]
    machines: list[ResourceDay]

    @property
    def closed(self) -> bool:
        return all(r.closed for r in (*self.desks, *self.rooms, *self.machines))

    @property
    def free_desks(self) -> int:
        return sum(1 for desk in self.desks if desk.bookable)

    @property
    def empty(self) -> bool:
        return not (self.desks or self.rooms or self.machines)

    @property
    def over(self) -> bool:
        """The day has nothing more to offer (it is past, or today after the last slot)."""
        return all(r.over for r in (*self.desks, *self.rooms, *self.machines))

    @property
    def desk_periods(self) -> list[DeskPeriod]:
        """The periods of the first open desk: the column heads of the desk table."""
        return next((desk.periods for desk in self.desks if desk.periods), [])


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _slot_choices(
    row: ResourceDay, slot: dt.timedelta, not_before: dt.datetime, tz: ZoneInfo
) -> None:
    """Start and end times on the slot grid inside the free spans, from `not_before` on, as
    the wall-clock times the form sends back."""

    def _hhmm(moment: dt.datetime) -> str:
        return moment.astimezone(tz).strftime("%H:%M")

    for span in row.free:
        start = span.start
        first_start = None
        while start + slot <= span.end:
            if start >= not_before:
                row.starts.append(_hhmm(start))
                first_start = first_start or start
            start += slot
        if first_start is None:
            continue
        end = first_start + slot
        while end <= span.end:
            row.ends.append(_hhmm(end))
            end += slot
        if row.default_start is None:
            row.default_start = _hhmm(first_start)
            row.default_end = _hhmm(
                min(first_start + dt.timedelta(minutes=DEFAULT_MINUTES), span.end)
            )


def day_view(
    space: Space, day: dt.date, resources: list[dict[str, Any]], *, now: dt.datetime
) -> DayView:
    """Group the day's resources by kind and work out what each one offers."""
    tz = space.tz
    now = now.astimezone(dt.UTC)
    view = DayView(desks=[], rooms=[], machines=[])
    for entry in resources:
        row = ResourceDay(
            id=entry["id"],
            name=entry["name"],
            kind=entry["kind"],
            kind_label=str(Resource.Kind(entry["kind"]).label),
            capacity=entry["capacity"],
            training=entry["training"],
            closed=entry["closed"],
            free=[Span(_instant(s["start"]), _instant(s["end"])) for s in entry["free"]],
            booked=[
                Span(_instant(s["start"]), _instant(s["end"]), s["mine"]) for s in entry["booked"]
            ],
        )
        if row.kind == Resource.Kind.DESK:
            for name in ("morning", "afternoon", "day"):
                period = entry.get("periods", {}).get(name)
                if period is None:
                    continue
                start, end = _instant(period["start"]), _instant(period["end"])
                row.periods.append(
                    DeskPeriod(
                        name=name,
                        label=str(PERIOD_LABELS[name]),
                        start=start,
                        end=end,
                        # A period that has ended cannot be booked any more.
                        free=period["free"] and end > now,
                        # Yours when one of your bookings covers it (a morning is not the day).
                        mine=any(s.mine and s.start <= start and end <= s.end for s in row.booked),
                        over=end <= now,
                    )
                )
            view.desks.append(row)
            continue
        slot = dt.timedelta(minutes=entry["slot_minutes"])
        current_slot = now.replace(second=0, microsecond=0)
        current_slot -= dt.timedelta(minutes=now.astimezone(tz).minute % entry["slot_minutes"])
        # What is already past is not "free" any more: show only what is left of the day.
        row.free = [
            Span(max(span.start, current_slot), span.end)
            for span in row.free
            if span.end > current_slot
        ]
        _slot_choices(row, slot, not_before=current_slot, tz=tz)
        (view.rooms if row.kind == Resource.Kind.ROOM else view.machines).append(row)
    return view
