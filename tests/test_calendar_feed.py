"""A member's bookings as an iCal feed at a secret URL (SPEC §3 Bookings)."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from spaces.services import booking_cancel, booking_create

from .conftest import paris

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://chtipass.example"


def feed_url(member) -> str:
    return f"/calendar/{member.calendar_token}.ics"


def events(response) -> list:
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


@pytest.fixture
def bookings(alice, bob, room, desk):
    return {
        "alice_room": booking_create(
            member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        ),
        "alice_desk": booking_create(
            member=alice, resource=desk, start=paris(2026, 12, 3, 8, 30), end=paris(2026, 12, 3, 13)
        ),
        "bob_room": booking_create(
            member=bob, resource=room, start=paris(2026, 12, 2, 14), end=paris(2026, 12, 2, 15)
        ),
    }


@pytest.mark.django_db
def test_the_feed_is_an_icalendar_document_without_logging_in(client, alice, bookings):
    response = client.get(feed_url(alice))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "private" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0"


@pytest.mark.django_db
def test_the_feed_lists_the_members_bookings_and_no_one_elses(client, alice, bookings):
    found = events(client.get(feed_url(alice)))

    assert sorted(str(event["uid"]) for event in found) == sorted(
        f"booking-{bookings[name].pk}@chtipass.example" for name in ("alice_room", "alice_desk")
    )
    room_uid = f"booking-{bookings['alice_room'].pk}@chtipass.example"
    room_event = next(event for event in found if str(event["uid"]) == room_uid)
    assert room_event.decoded("dtstart") == paris(2026, 12, 2, 10)
    assert room_event.decoded("dtend") == paris(2026, 12, 2, 11)
    assert str(room_event["summary"]) == "Salle Jean Bart — Mutualab"
    assert str(room_event["status"]) == "CONFIRMED"


@pytest.mark.django_db
def test_another_members_feed_holds_only_their_bookings(client, bob, bookings):
    found = events(client.get(feed_url(bob)))

    assert [str(event["uid"]) for event in found] == [
        f"booking-{bookings['bob_room'].pk}@chtipass.example"
    ]


@pytest.mark.django_db
def test_a_cancelled_booking_stays_in_the_feed_as_cancelled(client, alice, bookings):
    booking_cancel(booking=bookings["alice_room"], actor=alice)

    found = {str(e["uid"]): str(e["status"]) for e in events(client.get(feed_url(alice)))}

    assert found[f"booking-{bookings['alice_room'].pk}@chtipass.example"] == "CANCELLED"
    assert found[f"booking-{bookings['alice_desk'].pk}@chtipass.example"] == "CONFIRMED"


@pytest.mark.django_db
def test_bookings_long_past_leave_the_feed(client, clock, alice, bookings):
    clock.move_to(paris(2026, 12, 2, 10) + dt.timedelta(days=120))

    assert events(client.get(feed_url(alice))) == []


@pytest.mark.django_db
def test_an_unknown_token_is_not_found(client, alice, bookings):
    assert client.get("/calendar/not-a-token.ics").status_code == 404


@pytest.mark.django_db
def test_rotating_the_token_invalidates_the_old_url(client, alice, bookings):
    old_url = feed_url(alice)

    alice.rotate_calendar_token()

    assert client.get(old_url).status_code == 404
    response = client.get(feed_url(alice))
    assert response.status_code == 200
    assert len(events(response)) == 2


@pytest.mark.django_db
def test_the_new_url_is_the_one_shown_in_me(api, alice):
    alice.rotate_calendar_token()

    body = api.as_(alice).get("/api/v1/me/").json()

    assert body["calendar_url"].endswith(feed_url(alice))


@pytest.mark.django_db
def test_a_deactivated_members_feed_is_not_found(client, alice, bookings):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert client.get(feed_url(alice)).status_code == 404


@pytest.mark.django_db
def test_the_feed_and_the_confirmation_email_carry_the_same_event(client, alice, bookings):
    """One event shape (spaces/calendar.py): a calendar app that subscribed to the feed and
    opened the email sees one booking, with the same UID, times, place and state."""
    from django.core import mail

    from coworking import outbox
    from coworking.models import OutboxMessage

    for message in OutboxMessage.objects.filter(done_at__isnull=True).order_by("id"):
        assert outbox.outbox_deliver(message.pk)
    room = bookings["alice_room"]
    uid = f"booking-{room.pk}@chtipass.example"
    [emailed] = [
        event
        for email in mail.outbox
        for event in Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")
        if str(event["uid"]) == uid
    ]
    [fed] = [event for event in events(client.get(feed_url(alice))) if str(event["uid"]) == uid]

    assert emailed.to_ical() == fed.to_ical()
    assert str(fed["location"]) == (room.resource.space.address or room.resource.space.name)
