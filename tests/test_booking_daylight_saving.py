"""Europe/Paris daylight-saving changes never shift or lose a booking.

Summer time starts on Sunday 28 March 2027 (02:00 → 03:00) and ended on Sunday 25 October 2026
(03:00 → 02:00).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from spaces.availability import space_availability
from spaces.models import Booking
from spaces.services import booking_create, booking_series_create

from .conftest import paris

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
ALL_DAY_EVERY_DAY = {
    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


@pytest.fixture
def open_all_week(mutualab, room):
    mutualab.opening_hours = ALL_DAY_EVERY_DAY
    mutualab.max_booking_minutes = 24 * 60
    mutualab.save()
    room.refresh_from_db()
    return room


def test_a_weekly_series_keeps_its_wall_clock_time_across_spring_forward(alice, room):
    with time_machine.travel(paris(2027, 3, 15, 9), tick=False):
        series = booking_series_create(
            member=alice,
            resource=room,
            until=dt.date(2027, 4, 5),
            start=paris(2027, 3, 22, 10),
            end=paris(2027, 3, 22, 11),
        )
    bookings = list(series.bookings.order_by("start"))
    assert [b.start.astimezone(room.space.tz).hour for b in bookings] == [10, 10, 10]
    # 09:00 UTC in winter, 08:00 UTC in summer: the stored instant moves, the local hour not.
    assert [b.start.astimezone(UTC).hour for b in bookings] == [9, 8, 8]
    assert all(b.end - b.start == dt.timedelta(hours=1) for b in bookings)


def test_a_weekly_series_keeps_its_wall_clock_time_across_fall_back(alice, room):
    with time_machine.travel(paris(2026, 10, 12, 9), tick=False):
        series = booking_series_create(
            member=alice,
            resource=room,
            until=dt.date(2026, 11, 2),
            start=paris(2026, 10, 19, 18),
            end=paris(2026, 10, 19, 19),
        )
    local_hours = [
        b.start.astimezone(room.space.tz).hour for b in series.bookings.order_by("start")
    ]
    assert local_hours == [18, 18, 18]


def test_a_booking_across_spring_forward_lasts_its_real_duration(alice, open_all_week):
    with time_machine.travel(paris(2027, 3, 26, 9), tick=False):
        booking = booking_create(
            member=alice,
            resource=open_all_week,
            start=paris(2027, 3, 28, 1),
            end=paris(2027, 3, 28, 4),
        )
    booking.refresh_from_db()
    assert booking.end - booking.start == dt.timedelta(hours=2)  # 02:00–03:00 does not exist
    assert booking.start.astimezone(open_all_week.space.tz).hour == 1
    assert booking.end.astimezone(open_all_week.space.tz).hour == 4


def test_the_repeated_hour_of_fall_back_can_be_booked_twice_without_conflict(
    alice, bob, open_all_week
):
    first = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=0)
    second = first.replace(fold=1)
    with time_machine.travel(paris(2026, 10, 20, 9), tick=False):
        # Aware arithmetic on one tzinfo is wall-clock: go through UTC for a real hour.
        a = booking_create(
            member=alice,
            resource=open_all_week,
            start=first,
            end=first.astimezone(UTC) + dt.timedelta(hours=1),
        )
        b = booking_create(
            member=bob,
            resource=open_all_week,
            start=second.astimezone(UTC),
            end=paris(2026, 10, 25, 4),
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.start.astimezone(UTC) == dt.datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert b.start.astimezone(UTC) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert Booking.objects.count() == 2


def test_desk_half_days_on_the_day_after_a_change_are_at_local_hours(alice, desk):
    with time_machine.travel(paris(2027, 3, 26, 9), tick=False):
        from spaces.schedule import desk_periods

        periods = desk_periods(desk, dt.date(2027, 3, 29))
        booking = booking_create(
            member=alice, resource=desk, start=periods["morning"][0], end=periods["morning"][1]
        )
    booking.refresh_from_db()
    local = booking.start.astimezone(desk.space.tz)
    assert (local.hour, local.minute) == (8, 30)
    assert booking.start.astimezone(UTC).hour == 6  # summer time: UTC+2


def test_availability_on_the_short_day_shows_local_opening_hours(mutualab, open_all_week):
    day = dt.date(2027, 3, 28)
    [entry] = space_availability(mutualab, day)
    assert entry["open"] == [
        {"start": "2027-03-28T00:00:00+01:00", "end": "2027-03-29T00:00:00+02:00"}
    ]


def test_availability_of_the_fall_back_day_keeps_both_passes_of_the_repeated_hour(
    alice, bob, mutualab, open_all_week
):
    # 02:00–02:30 is booked twice: in summer time (00:00 UTC), then in winter time (01:00 UTC).
    summer = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=0)
    winter = summer.replace(fold=1)
    for member, start in ((alice, summer), (bob, winter)):
        start = start.astimezone(UTC)
        Booking.objects.create(
            resource=open_all_week,
            member=member,
            start=start,
            end=start + dt.timedelta(minutes=30),
        )

    [entry] = space_availability(mutualab, dt.date(2026, 10, 25), member=alice)

    assert entry["booked"] == [
        {"start": "2026-10-25T02:00:00+02:00", "end": "2026-10-25T02:30:00+02:00", "mine": True},
        {"start": "2026-10-25T02:00:00+01:00", "end": "2026-10-25T02:30:00+01:00", "mine": False},
    ]
    # Compared as instants, not as wall-clock times: the half hour between them is free.
    assert entry["free"] == [
        {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-25T02:00:00+02:00"},
        {"start": "2026-10-25T02:30:00+02:00", "end": "2026-10-25T02:00:00+01:00"},
        {"start": "2026-10-25T02:30:00+01:00", "end": "2026-10-26T00:00:00+01:00"},
    ]


def test_a_desk_booked_in_the_second_pass_of_the_repeated_hour_is_not_free(alice, mutualab, desk):
    mutualab.opening_hours = ALL_DAY_EVERY_DAY
    mutualab.half_day_split = dt.time(2, 30)
    mutualab.save()
    winter = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=1)
    Booking.objects.create(
        resource=desk,
        member=alice,
        start=winter.astimezone(UTC),
        end=winter.astimezone(UTC) + dt.timedelta(minutes=45),
    )

    [entry] = space_availability(mutualab, dt.date(2026, 10, 25))

    # The booking is 01:00–01:45 UTC, after the morning (22:00–00:30 UTC) has ended.
    assert entry["periods"]["morning"]["free"] is True
    assert entry["periods"]["afternoon"]["free"] is False
    assert entry["periods"]["day"]["free"] is False
