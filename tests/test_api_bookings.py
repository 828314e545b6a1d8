"""Booking through the API: create, list, read, cancel, recurring series (SPEC §3 Bookings, §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coworking.models import AuditEntry
from spaces.models import Booking, BookingSeries
from spaces.services import booking_create

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory

BOOKINGS_URL = "/api/v1/bookings/"
RECURRING_URL = "/api/v1/bookings/recurring/"

pytestmark = pytest.mark.usefixtures("clock")


def booking_url(booking: Booking) -> str:
    return f"{BOOKINGS_URL}{booking.pk}/"


def series_cancel_url(series_id: int) -> str:
    return f"/api/v1/booking-series/{series_id}/cancel/"


def book(member, resource, start: dt.datetime, hours: float = 1) -> Booking:
    return booking_create(
        member=member, resource=resource, start=start, end=start + dt.timedelta(hours=hours)
    )


def listed_ids(response) -> set[int]:
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


# --- Creating --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_books_a_room_with_start_and_end(api, alice, room):
    response = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:30:00+01:00",
            "note": "Réunion d'équipe",
        },
    )

    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    assert body["id"] == booking.pk
    assert body["resource"] == room.pk
    assert body["space"] == "mutualab"
    assert body["member"] == alice.pk
    assert body["status"] == "confirmed"
    assert body["note"] == "Réunion d'équipe"
    assert dt.datetime.fromisoformat(body["start"]) == paris(2026, 12, 2, 10)
    assert dt.datetime.fromisoformat(body["end"]) == paris(2026, 12, 2, 11, 30)
    assert booking.created_by == alice


@pytest.mark.django_db
def test_a_member_books_a_desk_for_a_morning_with_date_and_period(api, alice, desk):
    response = api.as_(alice).post(
        BOOKINGS_URL, {"resource": desk.pk, "date": "2026-12-02", "period": "morning"}
    )

    assert response.status_code == 201
    body = response.json()
    assert dt.datetime.fromisoformat(body["start"]) == paris(2026, 12, 2, 8, 30)
    assert dt.datetime.fromisoformat(body["end"]) == paris(2026, 12, 2, 13)
    assert Booking.objects.get().member == alice


@pytest.mark.django_db
def test_a_desk_booked_for_the_whole_day_spans_the_opening_hours(api, alice, desk):
    response = api.as_(alice).post(
        BOOKINGS_URL, {"resource": desk.pk, "date": "2026-12-02", "period": "day"}
    )

    assert response.status_code == 201
    body = response.json()
    assert dt.datetime.fromisoformat(body["start"]) == paris(2026, 12, 2, 8, 30)
    assert dt.datetime.fromisoformat(body["end"]) == paris(2026, 12, 2, 19)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("booker", "request_body"),
    [
        ("alice", {"start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:30:00+01:00"}),
        ("alice", {"start": "2026-12-02T09:00:00Z", "end": "2026-12-02T10:00:00Z", "note": "é"}),
        ("alice", {"date": "2026-12-02", "period": "afternoon"}),
        ("camille", {"start": "2026-12-02T14:00:00+01:00", "end": "2026-12-02T15:00:00+01:00"}),
    ],
)
def test_the_created_booking_is_answered_as_it_is_stored(
    api, alice, camille, room, desk, booker, request_body
):
    client = api.as_(alice if booker == "alice" else camille)
    resource = desk if "period" in request_body else room
    body = {"resource": resource.pk, **request_body}
    if booker == "camille":
        body["member"] = alice.pk

    created = client.post(BOOKINGS_URL, body)

    assert created.status_code == 201
    assert created.json() == client.get(f"{BOOKINGS_URL}{created.json()['id']}/").json()


@pytest.mark.django_db
def test_a_desk_on_a_closed_day_is_refused_with_closed(api, alice, desk):
    response = api.as_(alice).post(
        BOOKINGS_URL, {"resource": desk.pk, "date": "2026-12-05", "period": "day"}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "closed"
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_neither_start_and_end_nor_date_and_period_is_a_400(api, alice, room):
    response = api.as_(alice).post(BOOKINGS_URL, {"resource": room.pk, "date": "2026-12-02"})

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "invalid"
    assert "non_field_errors" in body["fields"]


@pytest.mark.django_db
def test_an_unknown_resource_is_a_400_on_the_resource_field(api, alice):
    response = api.as_(alice).post(
        BOOKINGS_URL,
        {"resource": 999999, "start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:00+01:00"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "does_not_exist"
    assert "resource" in response.json()["fields"]


@pytest.mark.django_db
def test_an_overlapping_booking_is_a_409_booking_conflict(api, alice, bob, room):
    book(alice, room, paris(2026, 12, 2, 10))

    response = api.as_(bob).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:30:00+01:00",
            "end": "2026-12-02T11:30:00+01:00",
        },
    )

    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "booking_conflict"
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_an_adjacent_booking_is_accepted(api, alice, bob, room):
    book(alice, room, paris(2026, 12, 2, 10))

    response = api.as_(bob).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T11:00:00+01:00",
            "end": "2026-12-02T12:00:00+01:00",
        },
    )

    assert response.status_code == 201


@pytest.mark.django_db
def test_a_broken_rule_is_a_400_with_its_code(api, alice, room):
    response = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T18:00:00+01:00",
            "end": "2026-12-02T20:00:00+01:00",
        },
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "outside_opening_hours"
    assert body["detail"]
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_rule_with_a_limit_reports_it_in_fields(api, alice, room):
    response = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T10:15:00+01:00",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "too_short"
    assert response.json()["fields"] == {"min_minutes": 30}


@pytest.mark.django_db
def test_a_machine_without_the_training_is_refused(api, alice, laser):
    response = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": laser.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "training_required"


@pytest.mark.django_db
def test_a_member_of_another_space_cannot_book_a_members_only_room(api, charlie, room):
    response = api.as_(charlie).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "members_only"


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_list_or_book(api, room):
    assert api.get(BOOKINGS_URL).status_code == 401
    response = api.post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Booking for someone else ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_books_for_a_member_of_their_space(api, camille, alice, room):
    response = api.as_(camille).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "member": alice.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 201
    booking = Booking.objects.get()
    assert response.json()["member"] == alice.pk
    assert booking.member == alice
    assert booking.created_by == camille
    entry = AuditEntry.objects.get(action="booking.create_for_member")
    assert entry.actor == camille
    assert entry.target_id == str(booking.pk)


@pytest.mark.django_db
def test_a_plain_member_cannot_book_for_someone_else(api, alice, bob, room):
    response = api.as_(bob).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "member": alice.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_co_manager_cannot_book_for_a_member_in_another_space(
    api, dominique, alice, room, filature_room
):
    response = api.as_(dominique).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "member": alice.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


# --- Listing and reading ---------------------------------------------------------------------


@pytest.fixture
def bookings_everywhere(alice, bob, charlie, room, desk, filature_room):
    """One booking each for Alice and Bob at Mutualab, one for Charlie at La Filature."""
    return {
        "alice": book(alice, room, paris(2026, 12, 2, 10)),
        "bob": book(bob, room, paris(2026, 12, 2, 14)),
        "charlie": book(charlie, filature_room, paris(2026, 12, 2, 10)),
    }


@pytest.mark.django_db
def test_a_member_sees_only_their_own_bookings(api, alice, bookings_everywhere):
    response = api.as_(alice).get(BOOKINGS_URL)

    assert listed_ids(response) == {bookings_everywhere["alice"].pk}
    assert response.json()["count"] == 1


@pytest.mark.django_db
def test_a_co_manager_sees_every_booking_of_their_space_but_not_of_others(
    api, camille, bookings_everywhere
):
    response = api.as_(camille).get(BOOKINGS_URL)

    assert listed_ids(response) == {
        bookings_everywhere["alice"].pk,
        bookings_everywhere["bob"].pk,
    }


@pytest.mark.django_db
def test_a_co_manager_filters_to_their_own_bookings_with_mine(
    api, camille, room, bookings_everywhere
):
    own = book(camille, room, paris(2026, 12, 3, 10))

    response = api.as_(camille).get(BOOKINGS_URL, {"mine": "true"})

    assert listed_ids(response) == {own.pk}


@pytest.mark.django_db
def test_bookings_are_listed_in_start_order(api, alice, room, desk):
    later = book(alice, room, paris(2026, 12, 3, 10))
    earlier = book(alice, room, paris(2026, 12, 2, 10))

    rows = api.as_(alice).get(BOOKINGS_URL).json()["results"]

    assert [row["id"] for row in rows] == [earlier.pk, later.pk]


@pytest.mark.django_db
def test_a_member_reads_their_own_booking(api, alice, bookings_everywhere):
    booking = bookings_everywhere["alice"]

    response = api.as_(alice).get(booking_url(booking))

    assert response.status_code == 200
    assert response.json()["id"] == booking.pk


@pytest.mark.django_db
def test_another_members_booking_is_not_found_on_get(api, alice, bookings_everywhere):
    response = api.as_(alice).get(booking_url(bookings_everywhere["bob"]))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_another_members_booking_is_not_found_on_delete(api, alice, bookings_everywhere):
    bob_booking = bookings_everywhere["bob"]

    response = api.as_(alice).delete(booking_url(bob_booking))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    bob_booking.refresh_from_db()
    assert bob_booking.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_a_co_manager_cannot_reach_a_booking_of_another_space(api, camille, bookings_everywhere):
    charlie_booking = bookings_everywhere["charlie"]

    assert api.as_(camille).get(booking_url(charlie_booking)).status_code == 404
    assert api.as_(camille).delete(booking_url(charlie_booking)).status_code == 404
    charlie_booking.refresh_from_db()
    assert charlie_booking.status == Booking.Status.CONFIRMED


# --- Cancelling ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_cancels_their_own_booking(api, alice, room):
    booking = book(alice, room, paris(2026, 12, 2, 10))

    response = api.as_(alice).delete(booking_url(booking))

    assert response.status_code == 204
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_by == alice
    assert booking.cancelled_at == paris(2026, 12, 1, 9)


@pytest.mark.django_db
def test_cancelling_twice_is_a_409_already_cancelled(api, alice, room):
    booking = book(alice, room, paris(2026, 12, 2, 10))
    api.as_(alice).delete(booking_url(booking))

    response = api.as_(alice).delete(booking_url(booking))

    assert response.status_code == 409
    assert response.json()["code"] == "already_cancelled"


@pytest.mark.django_db
def test_a_cancelled_slot_can_be_booked_again(api, alice, bob, room):
    booking = book(alice, room, paris(2026, 12, 2, 10))
    api.as_(alice).delete(booking_url(booking))

    response = api.as_(bob).post(
        BOOKINGS_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 201


@pytest.mark.django_db
def test_a_member_cannot_cancel_past_the_cutoff(api, alice, room):
    # Starts in 30 minutes; the default cutoff is 60 minutes before the start.
    booking = book(alice, room, paris(2026, 12, 1, 9, 30))

    response = api.as_(alice).delete(booking_url(booking))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "cancellation_cutoff_passed"
    assert body["fields"] == {"cutoff_minutes": 60}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_a_co_manager_cancels_a_members_booking_past_the_cutoff(api, camille, alice, room):
    booking = book(alice, room, paris(2026, 12, 1, 9, 30))

    response = api.as_(camille).delete(booking_url(booking))

    assert response.status_code == 204
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_by == camille
    assert AuditEntry.objects.filter(
        action="booking.cancel_for_member", actor=camille, target_id=str(booking.pk)
    ).exists()


@pytest.mark.django_db
def test_a_finished_booking_cannot_be_cancelled_even_by_a_co_manager(
    api, clock, camille, alice, room
):
    booking = book(alice, room, paris(2026, 12, 1, 10))
    clock.move_to(paris(2026, 12, 1, 12))

    response = api.as_(camille).delete(booking_url(booking))

    assert response.status_code == 400
    assert response.json()["code"] == "booking_started"


# --- Recurring series ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_books_a_weekly_series(api, alice, room):
    response = api.as_(alice).post(
        RECURRING_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
            "until": "2026-12-23",
        },
    )

    assert response.status_code == 201
    body = response.json()
    series = BookingSeries.objects.get()
    assert body["id"] == series.pk
    assert body["member"] == alice.pk
    assert body["until"] == "2026-12-23"
    starts = [dt.datetime.fromisoformat(row["start"]) for row in body["bookings"]]
    assert starts == [paris(2026, 12, day, 10) for day in (2, 9, 16, 23)]
    assert all(row["series"] == series.pk for row in body["bookings"])


@pytest.mark.django_db
def test_a_weekly_series_with_one_taken_week_books_nothing(api, alice, bob, room):
    book(bob, room, paris(2026, 12, 16, 10))

    response = api.as_(alice).post(
        RECURRING_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
            "until": "2026-12-23",
        },
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "booking_conflict"
    assert body["fields"] == {"occurrence": "2026-12-16"}
    assert not BookingSeries.objects.exists()
    assert not Booking.objects.filter(member=alice).exists()


@pytest.mark.django_db
def test_a_series_needs_an_until_date(api, alice, room):
    response = api.as_(alice).post(
        RECURRING_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )

    assert response.status_code == 400
    assert "until" in response.json()["fields"]


@pytest.mark.django_db
def test_a_plain_member_cannot_book_a_series_for_someone_else(api, alice, bob, room):
    response = api.as_(bob).post(
        RECURRING_URL,
        {
            "resource": room.pk,
            "member": alice.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
            "until": "2026-12-23",
        },
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not BookingSeries.objects.exists()


@pytest.fixture
def alice_series(api, alice, room) -> int:
    response = api.as_(alice).post(
        RECURRING_URL,
        {
            "resource": room.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
            "until": "2026-12-23",
        },
    )
    assert response.status_code == 201
    api.force_authenticate(None)
    return response.json()["id"]


@pytest.mark.django_db
def test_a_member_cancels_a_series_from_a_date(api, alice, alice_series):
    response = api.as_(alice).post(series_cancel_url(alice_series), {"from_date": "2026-12-09"})

    assert response.status_code == 200
    cancelled = [dt.datetime.fromisoformat(row["start"]) for row in response.json()]
    assert cancelled == [paris(2026, 12, day, 10) for day in (9, 16, 23)]
    statuses = dict(
        Booking.objects.filter(series_id=alice_series).values_list("start__day", "status")
    )
    assert statuses == {2: "confirmed", 9: "cancelled", 16: "cancelled", 23: "cancelled"}


@pytest.mark.django_db
def test_a_member_cancels_a_date_range_of_a_series(api, alice, alice_series):
    response = api.as_(alice).post(
        series_cancel_url(alice_series), {"from_date": "2026-12-09", "until": "2026-12-16"}
    )

    assert response.status_code == 200
    assert len(response.json()) == 2
    assert Booking.objects.filter(series_id=alice_series, status="confirmed").count() == 2


@pytest.mark.django_db
def test_another_members_series_is_not_found(api, bob, alice_series):
    response = api.as_(bob).post(series_cancel_url(alice_series), {})

    assert response.status_code == 404
    assert not Booking.objects.filter(status="cancelled").exists()


@pytest.mark.django_db
def test_a_co_manager_cancels_a_members_series(api, camille, alice_series):
    response = api.as_(camille).post(series_cancel_url(alice_series), {})

    assert response.status_code == 200
    assert len(response.json()) == 4
    assert not Booking.objects.filter(status="confirmed").exists()


# --- Query counts ----------------------------------------------------------------------------


def _seed_bookings(members, resource, count: int) -> None:
    """`count` bookings on distinct days, straight in the table (the rules are not under test)."""
    start = paris(2026, 12, 2, 10)
    for index in range(count):
        day_start = start + dt.timedelta(days=index)
        Booking.objects.create(
            resource=resource,
            member=members[index % len(members)],
            start=day_start,
            end=day_start + dt.timedelta(hours=1),
        )


def _count_list_queries(api, member) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.as_(member).get(BOOKINGS_URL)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.django_db
def test_listing_bookings_takes_as_many_queries_for_30_rows_as_for_3(api, alice, mutualab):
    room = ResourceFactory(space=mutualab, name="Salle A")
    _seed_bookings([alice], room, 3)
    few, listed = _count_list_queries(api, alice)
    assert listed == 3

    other_room = ResourceFactory(space=mutualab, name="Salle B")
    _seed_bookings([alice], other_room, 27)
    many, listed = _count_list_queries(api, alice)
    assert listed == 30

    assert many == few


@pytest.mark.django_db
def test_a_co_manager_listing_many_members_bookings_takes_constant_queries(api, camille, mutualab):
    members = [MemberFactory() for _ in range(5)]
    for member in members:
        MembershipFactory(member=member, space=mutualab)
    room = ResourceFactory(space=mutualab, name="Salle A")
    _seed_bookings(members[:1], room, 3)
    few, listed = _count_list_queries(api, camille)
    assert listed == 3

    other_room = ResourceFactory(space=mutualab, name="Salle B")
    _seed_bookings(members, other_room, 27)
    many, listed = _count_list_queries(api, camille)
    assert listed == 30

    assert many == few


# --- Ids are whole numbers -------------------------------------------------------------------

NOT_IDS = {
    "fraction": "1.5",
    "whole-float": "1.0",
    "true": "true",
    "text-with-a-fraction": '"1.5"',
    "text-in-exponent-form": '"1e3"',
    "list": "[1]",
    "object": '{"id": 1}',
}


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["resource", "member"])
@pytest.mark.parametrize("value", NOT_IDS.values(), ids=NOT_IDS.keys())
def test_an_id_that_is_not_a_whole_number_is_a_400_incorrect_type(api, alice, room, field, value):
    ids = {"resource": str(room.pk), "member": str(alice.pk), field: value}
    body = (
        f'{{"resource": {ids["resource"]}, "member": {ids["member"]}, '
        '"start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:00:00+01:00"}'
    )
    answer = api.as_(alice).post(BOOKINGS_URL, body, content_type="application/json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "incorrect_type"
    assert field in answer.json()["fields"]
    assert not Booking.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1e309", str(2**63), str(2**80)])
def test_a_number_no_column_holds_is_refused_before_any_field_reads_it(api, alice, room, value):
    # Written by hand: 1e309 is a JSON number that Python's json module can only read.
    body = (
        f'{{"resource": {value}, '
        '"start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:00:00+01:00"}'
    )
    answer = api.as_(alice).post(BOOKINGS_URL, body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "number_too_large"
    assert "resource" in answer.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, -1, str(2**63), str(2**80)])
def test_a_whole_number_no_row_can_have_is_an_unknown_resource(api, alice, room, value):
    answer = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": value,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "does_not_exist"


@pytest.mark.django_db
def test_an_id_in_digits_as_text_is_still_an_id(api, alice, room):
    answer = api.as_(alice).post(
        BOOKINGS_URL,
        {
            "resource": str(room.pk),
            "member": str(alice.pk),
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
    )
    assert answer.status_code == 201
    assert answer.json()["resource"] == room.pk


def test_every_id_the_api_reads_is_a_strict_id():
    """A new serializer field that reads an id must be a StrictPrimaryKeyRelatedField too."""
    import inspect

    from rest_framework import serializers

    from api import passes_serializers, privacy_views, usage_views
    from api import serializers as api_serializers
    from api.serializers import StrictPrimaryKeyRelatedField

    modules = (api_serializers, passes_serializers, privacy_views, usage_views)
    classes = {
        cls
        for module in modules
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, serializers.Serializer) and cls.__module__ == module.__name__
    }
    assert len(classes) > 20
    loose = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls().fields.items()
        if isinstance(field, serializers.RelatedField)
        and not field.read_only
        and not isinstance(field, StrictPrimaryKeyRelatedField)
    ]
    assert loose == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("times", "code"),
    [
        ({"start": "0001-01-01T00:15:00", "end": "0001-01-01T01:00:00"}, "in_past"),
        ({"start": "9999-12-31T23:00:00", "end": "9999-12-31T23:45:00"}, "too_far_ahead"),
        ({"date": "9999-12-31", "period": "day"}, "too_far_ahead"),
    ],
    ids=["first-day-of-the-calendar", "last-day", "last-day-open-until-midnight"],
)
def test_times_at_the_ends_of_the_calendar_are_refused_by_a_rule(api, alice, desk, times, code):
    desk.opening_hours = {"fri": [["00:00", "24:00"]], "mon": [["00:00", "24:00"]]}
    desk.save()
    answer = api.as_(alice).post(BOOKINGS_URL, {"resource": desk.pk, **times})
    assert answer.status_code == 400
    assert answer.json()["code"] == code
