"""Weekly opening hours stored as JSON: {"mon": [["09:00", "19:00"]], …, "sun": []}.

Times are wall-clock times in the space's timezone, so a daylight-saving change never moves the
opening of a day; "24:00" closes at midnight. They become instants (UTC) through `wall_clock`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .wall_clock import opening_instant

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[dt.datetime, dt.datetime]


def default_opening_hours() -> dict[str, list[list[str]]]:
    weekday = [["08:30", "19:00"]]
    return {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": [],
        "sun": [],
    }


def _parse_time(value: str) -> dt.timedelta:
    """'09:30' -> 9h30 after midnight; '24:00' is allowed as the end of the day."""
    try:
        hours_text, minutes_text = value.split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except (AttributeError, ValueError):
        raise ValidationError(_("Heure invalide : %(value)s"), params={"value": value}) from None
    if not (0 <= minutes < 60 and (0 <= hours < 24 or (hours == 24 and minutes == 0))):
        raise ValidationError(_("Heure invalide : %(value)s"), params={"value": value})
    return dt.timedelta(hours=hours, minutes=minutes)


def validate_opening_hours(value: object) -> None:
    if not isinstance(value, Mapping) or set(value) - set(WEEKDAYS):
        raise ValidationError(_("Attendu : un objet avec les clés mon … sun."))
    for day, intervals in value.items():
        if not isinstance(intervals, list):
            raise ValidationError(
                _("%(day)s : une liste d'intervalles est attendue."), params={"day": day}
            )
        previous_end = dt.timedelta(0)
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValidationError(
                    _("%(day)s : un intervalle est [ouverture, fermeture]."), params={"day": day}
                )
            opens, closes = _parse_time(interval[0]), _parse_time(interval[1])
            if not previous_end <= opens < closes:
                raise ValidationError(
                    _("%(day)s : les intervalles doivent être croissants et disjoints."),
                    params={"day": day},
                )
            previous_end = closes


def local_datetime(day: dt.date, offset: dt.timedelta, tz: ZoneInfo) -> dt.datetime:
    """The instant (UTC) of the opening hour `offset` after midnight of `day` in `tz`."""
    return opening_instant(dt.datetime.combine(day, dt.time()) + offset, tz)


def intervals_on(hours: Mapping[str, Iterable], day: dt.date, tz: ZoneInfo) -> list[Interval]:
    """The opening intervals of one local day, as instants (UTC)."""
    return [
        (local_datetime(day, _parse_time(opens), tz), local_datetime(day, _parse_time(closes), tz))
        for opens, closes in hours.get(WEEKDAYS[day.weekday()], [])
    ]
