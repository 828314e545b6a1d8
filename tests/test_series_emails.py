"""A weekly series is confirmed, and cancelled, in one email with every occurrence."""

import datetime as dt

import pytest
from django.core import mail

from coworking import outbox
from coworking.models import OutboxMessage
from spaces.services import booking_series_cancel, booking_series_create

from .conftest import paris

pytestmark = pytest.mark.django_db


def weekly(alice, room):
    return booking_series_create(
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
        until=dt.date(2026, 12, 16),
    )


def deliver_all():
    for message in OutboxMessage.objects.filter(done_at__isnull=True).order_by("id"):
        assert outbox.outbox_deliver(message.pk)


def test_a_series_is_confirmed_in_one_email_listing_every_occurrence(clock, alice, room):
    series = weekly(alice, room)
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["bookings.confirmed"]
    deliver_all()
    [email] = mail.outbox
    assert email.to == ["alice@mutualab.example"]
    assert "Réservations confirmées" in email.subject and "3 créneaux" in email.subject
    for day in ("mercredi 2 décembre 2026", "mercredi 9 décembre 2026", "16 décembre 2026"):
        assert f"{day}, 10:00–11:00" in email.body
    _name, content, mimetype = email.attachments[0]
    assert mimetype == "text/calendar"
    for booking in series.bookings.all():
        assert f"booking-{booking.pk}@" in str(content)
    assert str(content).count("BEGIN:VEVENT") == 3


def test_cancelling_part_of_a_series_is_one_email_too(clock, alice, room):
    series = weekly(alice, room)
    deliver_all()
    cancelled = booking_series_cancel(series=series, actor=alice, from_date=dt.date(2026, 12, 9))
    assert len(cancelled) == 2
    deliver_all()
    email = mail.outbox[-1]
    assert "Réservations annulées" in email.subject and "2 créneaux" in email.subject
    assert "METHOD:CANCEL" in str(email.attachments[0][1])
    assert "2 décembre" not in email.body and "9 décembre" in email.body


def test_the_series_email_speaks_the_member_language(clock, alice, room):
    alice.language = "en"
    alice.save()
    weekly(alice, room)
    deliver_all()
    assert mail.outbox[0].subject.startswith("Bookings confirmed")
    assert "These slots" in mail.outbox[0].body


def test_a_refused_series_queues_no_email(clock, alice, room):
    with pytest.raises(Exception):
        booking_series_create(
            member=alice,
            resource=room,
            start=paris(2026, 12, 2, 3),  # before opening hours
            end=paris(2026, 12, 2, 4),
            until=dt.date(2026, 12, 16),
        )
    assert not OutboxMessage.objects.exists()
