"""Concurrent bookers, each thread with its own database connection.

On PostgreSQL: 20 threads; the exclusion constraint and the member row lock decide.
On SQLite: 8 threads; IMMEDIATE transactions serialize writers without "database is locked".
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from spaces.models import Booking, Resource
from spaces.schedule import desk_periods

from .factories import MemberFactory, MembershipFactory, ResourceFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def threads_for_backend() -> int:
    return 20 if connection.vendor == "postgresql" else 8


def next_weekday(days_ahead: int = 2) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def run_concurrently(count: int, work) -> list:
    """Start `count` threads at once; each calls work(index) with its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # kept and asserted on, never swallowed
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def post_booking(member, payload) -> tuple[int, str | None]:
    client = APIClient()
    client.force_authenticate(member)
    response = client.post("/api/v1/bookings/", payload, format="json")
    return response.status_code, response.json().get("code")


def test_many_members_booking_one_desk_at_once_get_exactly_one_booking(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "booking_write": "100000/min"},
    }
    count = threads_for_backend()
    desk = ResourceFactory(kind=Resource.Kind.DESK, desk_type="hot")
    members = [MembershipFactory(space=desk.space).member for _ in range(count)]
    payload = {"resource": desk.pk, "date": next_weekday().isoformat(), "period": "day"}

    results = run_concurrently(count, lambda i: post_booking(members[i], payload))

    assert Counter(results) == {(201, None): 1, (409, "booking_conflict"): count - 1}, results
    assert Booking.objects.filter(resource=desk).count() == 1


def test_many_members_asking_for_a_slot_already_taken_are_all_told_at_once(settings):
    """The popular room at opening time: the slot is taken, everybody else asks at once. Each
    is refused by a read, without touching the exclusion constraint's index: concurrent INSERTs
    that all conflict wait on one another there, and deadlock (seconds, then `retry`)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "booking_write": "100000/min"},
    }
    count = threads_for_backend()
    desk = ResourceFactory(kind=Resource.Kind.DESK, desk_type="hot")
    members = [MembershipFactory(space=desk.space).member for _ in range(count + 1)]
    payload = {"resource": desk.pk, "date": next_weekday().isoformat(), "period": "day"}
    assert post_booking(members[-1], payload) == (201, None)

    results = run_concurrently(count, lambda i: post_booking(members[i], payload))

    assert Counter(results) == {(409, "booking_conflict"): count}, results
    assert Booking.objects.filter(resource=desk).count() == 1


def test_many_members_booking_different_desks_at_once_all_succeed():
    count = threads_for_backend()
    space = MembershipFactory().space
    desks = [
        ResourceFactory(space=space, kind=Resource.Kind.DESK, desk_type="hot") for _ in range(count)
    ]
    members = [MembershipFactory(space=space).member for _ in range(count)]
    day = next_weekday()

    def book(i):
        return post_booking(
            members[i], {"resource": desks[i].pk, "date": day.isoformat(), "period": "morning"}
        )

    results = run_concurrently(count, book)

    assert results == [(201, None)] * count  # no "database is locked", no lost booking
    assert Booking.objects.count() == count


def test_one_member_booking_many_desks_at_once_never_exceeds_the_limit():
    count = threads_for_backend()
    space = MembershipFactory().space
    space.max_active_bookings = 3
    space.save()
    member = MemberFactory()
    MembershipFactory(member=member, space=space)
    desks = [
        ResourceFactory(space=space, kind=Resource.Kind.DESK, desk_type="hot") for _ in range(count)
    ]
    day = next_weekday()

    def book(i):
        start, end = desk_periods(desks[i], day)["day"]
        return post_booking(
            member, {"resource": desks[i].pk, "start": start.isoformat(), "end": end.isoformat()}
        )

    results = run_concurrently(count, book)

    assert Counter(results) == {(201, None): 3, (400, "max_active_bookings"): count - 3}
    assert Booking.objects.filter(member=member).count() == 3
