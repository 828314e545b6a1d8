"""Booking at a partner space plans visits: no more than the ch'tipass allowance has left.

The network gives 8 visits a month, 4 at each host. Bob (Mutualab) was scanned at La Filature
this morning (Tuesday 1 December 2026): 3 visits left there, 7 in the network. Each day with a
booking at a partner space, from today on and not visited yet, is a visit to come.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from spaces.models import Booking, BookingSeries, Resource
from spaces.rules import BookingError
from spaces.services import booking_cancel, booking_create, booking_series_create

from .conftest import paris, partner_client, rotating_credential
from .factories import ResourceFactory

pytestmark = pytest.mark.usefixtures("clock")


def guest_desk(space, name: str = "Poste invité") -> Resource:
    return ResourceFactory(
        space=space,
        name=name,
        kind=Resource.Kind.DESK,
        desk_type=Resource.DeskType.HOT,
        members_only=False,
    )


@pytest.fixture
def filature_desk(filature):
    return guest_desk(filature)


@pytest.fixture
def quai_desk(quai):
    return guest_desk(quai)


@pytest.fixture
def bob_visited_filature_today(bob_pass, filature_key):
    answer = partner_client(filature_key).scan(rotating_credential(bob_pass)).json()
    assert answer["decision"] == "accepted"
    assert answer["allowance"] == {"network_left": 7, "host_left": 3}
    return bob_pass


def book_day(member, desk, day: dt.date, period: str = "day") -> Booking:
    return booking_create(member=member, resource=desk, day=day, period=period)


def refused_day(member, desk, day: dt.date) -> BookingError:
    with pytest.raises(BookingError) as refused:
        book_day(member, desk, day)
    assert refused.value.code == "allowance_exhausted"
    return refused.value


WEDNESDAY, THURSDAY, FRIDAY = dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4)
NEXT_MONDAY = dt.date(2026, 12, 7)


def test_a_guest_books_exactly_the_days_left_at_the_host_and_not_one_more(
    bob, filature_desk, bob_visited_filature_today
):
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, filature_desk, day)

    error = refused_day(bob, filature_desk, NEXT_MONDAY)
    assert error.fields == {"network_left": 7, "host_left": 3}
    assert Booking.objects.filter(member=bob).count() == 3


def test_a_day_already_visited_or_booked_costs_nothing_more(
    bob, filature, filature_desk, bob_visited_filature_today
):
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, filature_desk, day, "morning")
    # Today is visited already; the afternoons are the same three visits.
    book_day(bob, filature_desk, dt.date(2026, 12, 1), "afternoon")
    other_desk = guest_desk(filature, "Poste 2")
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, other_desk, day, "afternoon")
    refused_day(bob, filature_desk, NEXT_MONDAY)


def test_the_network_allowance_counts_the_days_booked_at_every_host(
    bob, network, filature_desk, quai_desk, bob_visited_filature_today
):
    network.monthly_visits = 5  # 4 left after this morning
    network.save()
    for day in (WEDNESDAY, THURSDAY):
        book_day(bob, quai_desk, day)
    for day in (FRIDAY, NEXT_MONDAY):
        book_day(bob, filature_desk, day)

    next_tuesday = dt.date(2026, 12, 8)
    error = refused_day(bob, filature_desk, next_tuesday)
    assert error.fields == {"network_left": 4, "host_left": 3}
    refused_day(bob, quai_desk, next_tuesday)


def test_a_weekly_series_is_refused_whole_when_one_week_is_one_day_too_many(
    bob, filature_desk, bob_visited_filature_today
):
    with pytest.raises(BookingError) as refused:
        booking_series_create(
            member=bob,
            resource=filature_desk,
            day=WEDNESDAY,
            period="day",
            until=dt.date(2026, 12, 23),
        )
    assert refused.value.code == "allowance_exhausted"
    assert refused.value.fields["occurrence"] == "2026-12-23"
    assert not Booking.objects.exists() and not BookingSeries.objects.exists()

    series = booking_series_create(
        member=bob,
        resource=filature_desk,
        day=WEDNESDAY,
        period="day",
        until=dt.date(2026, 12, 16),
    )
    assert series.bookings.count() == 3


def test_a_cancelled_booking_gives_its_day_back(bob, filature_desk, bob_visited_filature_today):
    bookings = [book_day(bob, filature_desk, day) for day in (WEDNESDAY, THURSDAY, FRIDAY)]
    booking_cancel(booking=bookings[0], actor=bob)
    book_day(bob, filature_desk, NEXT_MONDAY)


def test_each_month_has_its_own_allowance(bob, filature_desk, bob_visited_filature_today):
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, filature_desk, day)
    for day in (dt.date(2027, 1, 4), dt.date(2027, 1, 5), dt.date(2027, 1, 6), dt.date(2027, 1, 7)):
        book_day(bob, filature_desk, day)
    refused_day(bob, filature_desk, dt.date(2027, 1, 8))


def test_a_booked_day_gone_by_without_a_visit_no_longer_counts(
    bob, filature_desk, bob_visited_filature_today
):
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, filature_desk, day)
    # Bob never came on Wednesday: from Thursday on, that day plans nothing.
    with time_machine.travel(paris(2026, 12, 3, 9), tick=False):
        book_day(bob, filature_desk, NEXT_MONDAY)


def test_the_api_refuses_the_day_too_many_with_its_code(
    api, bob, filature_desk, bob_visited_filature_today
):
    for day in (WEDNESDAY, THURSDAY, FRIDAY):
        book_day(bob, filature_desk, day)
    answer = api.as_(bob).post(
        "/api/v1/bookings/",
        {"resource": filature_desk.pk, "date": NEXT_MONDAY.isoformat(), "period": "day"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "allowance_exhausted"
    assert answer.json()["fields"] == {"network_left": 7, "host_left": 3}
