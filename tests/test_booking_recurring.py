"""Weekly recurring bookings: all or nothing, and cancelled over a range of dates."""

import datetime as dt

import pytest

from spaces.models import Booking, BookingSeries, Closure
from spaces.rules import BookingError
from spaces.services import booking_create, booking_series_cancel, booking_series_create

from .conftest import paris

pytestmark = pytest.mark.django_db


def weekly(member, room, until, start=None, end=None, **kwargs):
    return booking_series_create(
        member=member,
        resource=room,
        until=until,
        start=start or paris(2026, 12, 2, 10),
        end=end or paris(2026, 12, 2, 11),
        **kwargs,
    )


def test_a_weekly_series_books_every_week_until_the_date(clock, alice, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 23))
    starts = list(series.bookings.order_by("start").values_list("start", flat=True))
    assert starts == [paris(2026, 12, d, 10) for d in (2, 9, 16, 23)]


def test_the_until_date_is_inclusive_and_need_not_fall_on_the_weekday(clock, alice, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 22))
    assert series.bookings.count() == 3


def test_one_conflicting_occurrence_creates_nothing(clock, alice, bob, room):
    booking_create(
        member=bob,
        resource=room,
        start=paris(2026, 12, 16, 10, 30),
        end=paris(2026, 12, 16, 11, 30),
    )
    with pytest.raises(BookingError) as caught:
        weekly(alice, room, until=dt.date(2026, 12, 30))
    assert caught.value.code == "booking_conflict"
    assert caught.value.fields["occurrence"] == "2026-12-16"
    assert not BookingSeries.objects.exists()
    assert Booking.objects.filter(member=alice).count() == 0


def test_an_occurrence_on_a_closure_refuses_the_whole_series(clock, alice, room, mutualab):
    Closure.objects.create(
        space=mutualab, starts_on=dt.date(2026, 12, 24), ends_on=dt.date(2026, 12, 31)
    )
    with pytest.raises(BookingError) as caught:
        weekly(alice, room, until=dt.date(2027, 1, 6))
    assert (caught.value.code, caught.value.fields["occurrence"]) == ("closed", "2026-12-30")
    assert Booking.objects.count() == 0


def test_a_series_respects_the_active_bookings_limit(clock, alice, room):
    room.max_active_bookings = 3
    room.save()
    with pytest.raises(BookingError) as caught:
        weekly(alice, room, until=dt.date(2026, 12, 30))
    assert caught.value.code == "max_active_bookings"
    assert caught.value.fields["occurrence"] == "2026-12-23"
    assert Booking.objects.count() == 0


def test_a_series_is_capped_at_52_occurrences(clock, alice, room):
    with pytest.raises(BookingError) as caught:
        weekly(alice, room, until=dt.date(2027, 12, 31))
    assert caught.value.code == "too_many_occurrences"


def test_a_series_ending_before_it_starts_is_invalid(clock, alice, room):
    with pytest.raises(BookingError) as caught:
        weekly(alice, room, until=dt.date(2026, 12, 1))
    assert caught.value.code == "invalid_interval"


def test_occurrences_in_a_date_range_are_cancelled_and_the_others_kept(clock, alice, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 30))
    cancelled = booking_series_cancel(
        series=series, actor=alice, from_date=dt.date(2026, 12, 9), until=dt.date(2026, 12, 16)
    )
    assert [b.start for b in cancelled] == [paris(2026, 12, 9, 10), paris(2026, 12, 16, 10)]
    statuses = dict(series.bookings.values_list("start", "status"))
    assert statuses[paris(2026, 12, 2, 10)] == Booking.Status.CONFIRMED
    assert statuses[paris(2026, 12, 9, 10)] == Booking.Status.CANCELLED
    assert statuses[paris(2026, 12, 23, 10)] == Booking.Status.CONFIRMED


def test_a_range_cancel_past_the_cutoff_cancels_nothing(clock, alice, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 16))
    clock.move_to(paris(2026, 12, 9, 9, 30))  # 30 min before an occurrence, cutoff is 60
    with pytest.raises(BookingError) as caught:
        booking_series_cancel(series=series, actor=alice)
    assert caught.value.code == "cancellation_cutoff_passed"
    assert series.bookings.filter(status=Booking.Status.CANCELLED).count() == 0


def test_begun_occurrences_are_history_and_left_alone(clock, alice, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 16))
    clock.move_to(paris(2026, 12, 9, 10, 30))
    cancelled = booking_series_cancel(series=series, actor=alice)
    assert [b.start for b in cancelled] == [paris(2026, 12, 16, 10)]


def test_another_member_cannot_cancel_a_series(clock, alice, bob, room):
    series = weekly(alice, room, until=dt.date(2026, 12, 16))
    with pytest.raises(BookingError) as caught:
        booking_series_cancel(series=series, actor=bob)
    assert caught.value.code == "forbidden"
