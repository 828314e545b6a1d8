"""Wall-clock times of a space and the instants they name: the one place that converts.

Every instant leaving this module is a UTC datetime. Python compares and subtracts two datetimes
that share a tzinfo as wall clocks (ignoring their offsets and `fold`), and an equality test
between zones is always False for a time the clocks skip or repeat: local datetimes are for
showing, never for computing.

Twice a year the wall clock of a zone like Europe/Paris is not a plain number line:

- when the clocks go forward (02:00 → 03:00 on the last Sunday of March) the times in between
  name no instant. A booking there is refused (`NonexistentLocalTime`); an opening hour there
  moves later by the length of the gap (02:30 opens at 03:30 summer time), as zoneinfo reads it.
- when the clocks go back (03:00 → 02:00 on the last Sunday of October) the times in between
  name two instants. An opening hour is the first of them (summer time, fold=0). A booking
  [start, end) takes the pair that keeps it as long as its wall-clock times say, so that
  02:30–03:00 is the half hour after the second 02:30, not an hour and a half; when both
  passes would (02:00–02:30) or neither, the first. An API client that means the other pass
  sends the UTC offset.
"""

from __future__ import annotations

import datetime as dt
from itertools import product
from zoneinfo import ZoneInfo

UTC = dt.UTC


class NonexistentLocalTime(ValueError):
    """A wall-clock time that the clocks skip in that zone (no instant has it)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment
        super().__init__(f"{moment.isoformat()} does not exist in {moment.tzinfo}")


def _offsets(naive: dt.datetime, tz: ZoneInfo) -> tuple[dt.timedelta, dt.timedelta]:
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    return first.utcoffset(), second.utcoffset()  # type: ignore[return-value]


def exists(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether some instant reads `naive` on the clocks of `tz`."""
    back = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return back.replace(tzinfo=None) == naive


def is_ambiguous(naive: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether two instants read `naive` on the clocks of `tz` (the hour repeated in autumn)."""
    first, second = _offsets(naive, tz)
    return first != second and exists(naive, tz)


def opening_instant(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of an opening or closing hour: a skipped time moves later by the length
    of the gap, a repeated one is its first pass."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def interval(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as UTC instants. Aware ends are instants already; naive ones are wall-clock
    times of `tz`, read as the module docstring says (skipped: NonexistentLocalTime)."""
    for moment in (start, end):
        if moment.tzinfo is None and not exists(moment, tz):
            raise NonexistentLocalTime(moment.replace(tzinfo=tz))
    if start.tzinfo is not None or end.tzinfo is not None:
        # An instant at either end: no wall-clock length to keep, the first pass.
        return _at(start, tz, 0), _at(end, tz, 0)
    wall_length = end - start
    pairs = [
        (_at(start, tz, start_fold), _at(end, tz, end_fold))
        for start_fold, end_fold in product(_folds(start, tz), _folds(end, tz))
    ]
    return next((pair for pair in pairs if pair[1] - pair[0] == wall_length), pairs[0])


def _folds(naive: dt.datetime, tz: ZoneInfo) -> tuple[int, ...]:
    return (0, 1) if is_ambiguous(naive, tz) else (0,)


def _at(moment: dt.datetime, tz: ZoneInfo, fold: int) -> dt.datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=tz, fold=fold).astimezone(UTC)


def wall_clock(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The naive wall-clock time that `moment` (aware, or naive and already wall-clock) reads in
    `tz`."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(tz).replace(tzinfo=None)


def time_text(moment: dt.datetime, tz: ZoneInfo) -> str:
    """The hour and minute of `moment` in `tz` ("02:30"), with the UTC offset when the clocks
    read that time twice that night ("02:30 (UTC+01:00)"): what is shown names one instant."""
    local = moment.astimezone(tz)
    text = local.strftime("%H:%M")
    if is_ambiguous(local.replace(tzinfo=None), tz):
        offset = local.strftime("%z")
        text += f" (UTC{offset[:3]}:{offset[3:]})"
    return text
