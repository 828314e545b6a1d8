"""Calendar months, the one implementation every floor uses: a month is named by its first day.

Pure functions on dates (no Django, no clock): the callers pass `today` and the time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

MONTH_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}")
# A typo such as 0202-11 or 9999-12 is no month to review: the figures' date arithmetic (the
# month after, in a space's time zone) would leave the calendar at its ends.
MONTH_YEARS = range(2000, 2101)


def month_first(day: dt.date) -> dt.date:
    """The first day of `day`'s month: the name of that month."""
    return day.replace(day=1)


def month_following(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    first = month_first(day)
    return (
        dt.date(first.year + 1, 1, 1) if first.month == 12 else first.replace(month=first.month + 1)
    )


def month_previous(day: dt.date) -> dt.date:
    """The first day of the month before `day`'s."""
    return month_first(month_first(day) - dt.timedelta(days=1))


def month_last_day(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return month_following(day) - dt.timedelta(days=1)


def month_days(day: dt.date) -> list[dt.date]:
    """Every day of `day`'s month, in order."""
    first = month_first(day)
    return [first + dt.timedelta(days=n) for n in range((month_following(first) - first).days)]


def month_local_midnights(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[first day 00:00, next month's first day 00:00) on the wall clock of `tz`, as aware
    instants. A midnight that a daylight-saving change skips is read as the instant after the gap
    (`fold=0` then normalized through UTC), so the two bounds are always real instants."""

    def midnight(date: dt.date) -> dt.datetime:
        naive = dt.datetime.combine(date, dt.time())
        return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)

    first = month_first(day)
    return midnight(first), midnight(month_following(first))


def month_parse(text: str) -> dt.date | None:
    """`YYYY-MM` (ASCII digits, a year of MONTH_YEARS) as the month's first day; None otherwise."""
    if not MONTH_PATTERN.fullmatch(text):
        return None
    year, month = int(text[:4]), int(text[5:])
    if year not in MONTH_YEARS or not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1)
