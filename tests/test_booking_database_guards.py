"""The database itself refuses a double booking, whichever path writes (shell, raw SQL)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from spaces.models import Booking
from spaces.rules import BookingError
from spaces.services import booking_create

from .conftest import paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def existing(clock, alice, room):
    return booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )


def test_an_overlapping_orm_insert_fails_in_the_database(existing, bob):
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            resource=existing.resource,
            member=bob,
            start=paris(2026, 12, 2, 10, 30),
            end=paris(2026, 12, 2, 11, 30),
        )
    assert Booking.objects.count() == 1


def test_an_overlapping_raw_sql_insert_fails_in_the_database(existing, bob):
    table = Booking._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} (resource_id, member_id, "start", "end", status, note, '
            "created_at) VALUES (%s, %s, %s, %s, 'confirmed', '', %s)",
            [
                existing.resource_id,
                bob.pk,
                paris(2026, 12, 2, 9, 30),
                paris(2026, 12, 2, 10, 15),
                paris(2026, 12, 1, 9),
            ],
        )
    assert Booking.objects.count() == 1


def test_moving_a_booking_onto_another_fails_in_the_database(existing, bob):
    other = Booking.objects.create(
        resource=existing.resource,
        member=bob,
        start=paris(2026, 12, 2, 14),
        end=paris(2026, 12, 2, 15),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=other.pk).update(start=paris(2026, 12, 2, 10, 45))


def test_a_cancelled_row_does_not_block_the_database(existing, bob):
    Booking.objects.filter(pk=existing.pk).update(status=Booking.Status.CANCELLED)
    Booking.objects.create(
        resource=existing.resource,
        member=bob,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_restoring_a_cancelled_booking_over_a_new_one_fails(existing, bob):
    Booking.objects.filter(pk=existing.pk).update(status=Booking.Status.CANCELLED)
    Booking.objects.create(
        resource=existing.resource,
        member=bob,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=existing.pk).update(status=Booking.Status.CONFIRMED)


def test_adjacent_rows_are_accepted_by_the_database(existing, bob):
    Booking.objects.create(
        resource=existing.resource,
        member=bob,
        start=paris(2026, 12, 2, 11),
        end=paris(2026, 12, 2, 12),
    )
    Booking.objects.create(
        resource=existing.resource,
        member=bob,
        start=paris(2026, 12, 2, 9),
        end=paris(2026, 12, 2, 10),
    )
    assert Booking.objects.count() == 3


def test_a_booking_ending_before_it_starts_fails_in_the_database(clock, alice, room):
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            resource=room, member=alice, start=paris(2026, 12, 2, 11), end=paris(2026, 12, 2, 10)
        )


def test_the_booking_service_refuses_a_taken_slot_by_a_read_under_the_resource_lock(existing, bob):
    """A contested slot is refused by one SELECT, without an INSERT: conflicting INSERTs wait on
    one another in the exclusion constraint and deadlock (see _lock_resource)."""
    with CaptureQueriesContext(connection) as queries, pytest.raises(BookingError) as refused:
        booking_create(
            member=bob,
            resource=existing.resource,
            start=paris(2026, 12, 2, 10, 30),
            end=paris(2026, 12, 2, 11, 30),
        )

    assert refused.value.code == "booking_conflict"
    statements = [query["sql"] for query in queries.captured_queries]
    assert not any(sql.startswith('INSERT INTO "spaces_booking"') for sql in statements)
    overlap_reads = [sql for sql in statements if sql.startswith('SELECT 1 AS "a" FROM "spaces_b')]
    assert len(overlap_reads) == 1
    assert Booking.objects.count() == 1


@pytest.mark.postgres  # SQLite has no row locks: its IMMEDIATE transaction serializes writers
def test_on_postgresql_the_booking_service_reads_the_slot_under_a_lock_on_the_resource_row(
    existing, bob
):
    with CaptureQueriesContext(connection) as queries, pytest.raises(BookingError):
        booking_create(
            member=bob,
            resource=existing.resource,
            start=paris(2026, 12, 2, 10, 30),
            end=paris(2026, 12, 2, 11, 30),
        )

    statements = [query["sql"] for query in queries.captured_queries]
    locks = [
        index
        for index, sql in enumerate(statements)
        if 'FROM "spaces_resource"' in sql and "FOR NO KEY UPDATE" in sql
    ]
    overlap_reads = [
        index
        for index, sql in enumerate(statements)
        if sql.startswith('SELECT 1 AS "a" FROM "spaces_b')
    ]
    assert locks and overlap_reads and locks[0] < overlap_reads[0]


def test_a_refused_overlap_leaves_the_callers_transaction_usable(existing, bob):
    with transaction.atomic():
        with pytest.raises(BookingError):
            booking_create(
                member=bob,
                resource=existing.resource,
                start=paris(2026, 12, 2, 10, 30),
                end=paris(2026, 12, 2, 11, 30),
            )
        later = booking_create(
            member=bob,
            resource=existing.resource,
            start=paris(2026, 12, 2, 11),
            end=paris(2026, 12, 2, 12),
        )

    assert set(Booking.objects.values_list("pk", flat=True)) == {existing.pk, later.pk}
