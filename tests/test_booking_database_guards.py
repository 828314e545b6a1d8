"""The database itself refuses a double booking, whichever path writes (shell, raw SQL)."""

import pytest
from django.db import IntegrityError, connection, transaction

from spaces.models import Booking
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
