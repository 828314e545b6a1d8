"""Calendar months (coworking/months.py), the one month arithmetic of every floor: year ends,
leap years, and months that hold a daylight-saving change."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from coworking.months import (
    month_days,
    month_first,
    month_following,
    month_last_day,
    month_parse,
    month_previous,
)
from reports.booking_usage import month_bounds
from spaces.models import Space

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("day", "following"),
    [
        (dt.date(2026, 12, 31), dt.date(2027, 1, 1)),
        (dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        (dt.date(2027, 1, 31), dt.date(2027, 2, 1)),
        (dt.date(2028, 2, 29), dt.date(2028, 3, 1)),
    ],
)
def test_the_month_after_crosses_the_year_end(day, following):
    assert month_following(day) == following


@pytest.mark.parametrize(
    ("day", "previous"),
    [
        (dt.date(2027, 1, 1), dt.date(2026, 12, 1)),
        (dt.date(2027, 1, 31), dt.date(2026, 12, 1)),
        (dt.date(2027, 3, 31), dt.date(2027, 2, 1)),
    ],
)
def test_the_month_before_crosses_the_year_end(day, previous):
    assert month_previous(day) == previous


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (dt.date(2026, 12, 5), dt.date(2026, 12, 31)),
        (dt.date(2027, 2, 1), dt.date(2027, 2, 28)),
        (dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (dt.date(2100, 2, 1), dt.date(2100, 2, 28)),
        (dt.date(2026, 4, 30), dt.date(2026, 4, 30)),
    ],
)
def test_the_last_day_of_a_month_knows_leap_years(day, last):
    assert month_last_day(day) == last


def test_a_months_days_run_from_the_first_to_the_last():
    days = month_days(dt.date(2028, 2, 17))
    assert (days[0], days[-1], len(days)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29), 29)
    assert month_first(dt.date(2026, 12, 31)) == dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-12", dt.date(2026, 12, 1)),
        ("2000-01", dt.date(2000, 1, 1)),
        ("2100-12", dt.date(2100, 12, 1)),
        ("2026-13", None),
        ("2026-00", None),
        ("1999-12", None),
        ("2101-01", None),
        ("2026-1", None),
        ("２０２６-１２", None),
        ("2026-12-01", None),
    ],
)
def test_a_month_is_read_from_yyyy_mm_within_the_supported_years(text, month):
    assert month_parse(text) == month


@pytest.mark.parametrize(
    ("month", "hours"),
    [
        (dt.date(2026, 3, 1), 31 * 24 - 1),  # clocks go forward on 29 March
        (dt.date(2026, 10, 1), 31 * 24 + 1),  # and back on 25 October
        (dt.date(2026, 12, 1), 31 * 24),
    ],
)
def test_a_spaces_month_runs_from_local_midnight_to_local_midnight(month, hours):
    space = Space(slug="mutualab", name="Mutualab", timezone="Europe/Paris")
    start, end = month_bounds(space, month)
    assert start.astimezone(PARIS).replace(tzinfo=None) == dt.datetime.combine(month, dt.time())
    assert end.astimezone(PARIS).date() == month_following(month)
    assert (end - start) / dt.timedelta(hours=1) == hours
