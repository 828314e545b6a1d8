import pytest

from spaces.services import booking_create

from .conftest import paris


@pytest.mark.django_db
def test_a_member_books_a_room(clock, alice, room):
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    assert booking.pk
