"""Work after a request goes through the outbox: a broker outage delays it, never loses it."""

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from kombu.exceptions import OperationalError

from coworking import outbox
from coworking.models import OutboxMessage
from coworking.tasks import outbox_deliver as outbox_deliver_task
from spaces.services import booking_cancel, booking_create

from .conftest import NOW, paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    with mock.patch.object(
        outbox_deliver_task, "apply_async", side_effect=OperationalError("connection refused")
    ) as patched:
        yield patched


def book(alice, room):
    return booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )


def test_a_booking_queues_its_confirmation_after_commit(
    clock, alice, room, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(outbox_deliver_task, "apply_async") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        book(alice, room)
    message = OutboxMessage.objects.get()
    assert message.kind == "booking.confirmed" and message.done_at is None
    enqueue.assert_called_once_with((message.pk,), retry=False)


def test_delivering_the_confirmation_emails_the_member_with_the_event(clock, alice, room):
    booking = book(alice, room)
    assert outbox.outbox_deliver(OutboxMessage.objects.get().pk)
    [email] = mail.outbox
    assert email.to == ["alice@mutualab.example"]
    assert "Salle Jean Bart" in email.subject and "confirmée" in email.subject
    assert "mercredi 2 décembre 2026, 10:00–11:00" in email.subject
    _name, content, mimetype = email.attachments[0]
    assert mimetype == "text/calendar" and f"booking-{booking.pk}@" in str(content)


def test_the_email_speaks_the_member_language(clock, alice, room):
    alice.language = "en"
    alice.save()
    book(alice, room)
    outbox.outbox_deliver(OutboxMessage.objects.get().pk)
    assert mail.outbox[0].subject.startswith("Booking confirmed")


def test_a_cancellation_is_emailed_too(clock, alice, room):
    booking = book(alice, room)
    booking_cancel(booking=booking, actor=alice)
    kinds = list(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == ["booking.confirmed", "booking.cancelled"]


def test_a_broker_outage_does_not_fail_the_booking_and_the_sweep_catches_up(
    clock, alice, room, api, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(alice).post(
            "/api/v1/bookings/",
            {
                "resource": room.pk,
                "start": "2026-12-02T10:00:00+01:00",
                "end": "2026-12-02T11:00:00+01:00",
            },
            format="json",
        )
    assert response.status_code == 201
    assert broker_down.called
    message = OutboxMessage.objects.get()
    assert message.done_at is None and not mail.outbox

    # Broker back: the beat sweep queues what is left (here the eager task runs at once).
    broker_down.side_effect = None
    broker_down.reset_mock()
    clock.move_to(NOW + dt.timedelta(minutes=2))
    assert outbox.outbox_sweep() == 1
    broker_down.assert_called_once_with((message.pk,), retry=False)
    assert outbox.outbox_deliver(message.pk, token=None)
    assert len(mail.outbox) == 1


def test_a_message_runs_once_whoever_delivers_it(clock, alice, room):
    book(alice, room)
    message_id = OutboxMessage.objects.get().pk
    assert outbox.outbox_deliver(message_id, token="worker-a")
    assert not outbox.outbox_deliver(message_id, token="worker-b")
    assert not outbox.outbox_deliver(message_id, token="worker-a")
    assert len(mail.outbox) == 1


def test_a_message_held_by_a_live_worker_is_not_taken_over(clock, alice, room):
    book(alice, room)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(claim_token="worker-a", claimed_at=NOW)
    assert not outbox.outbox_deliver(message.pk, token="worker-b")
    clock.move_to(NOW + outbox.CLAIM_LEASE + dt.timedelta(seconds=1))
    assert outbox.outbox_deliver(message.pk, token="worker-b")  # worker-a died


def test_a_failing_handler_is_retried_a_bounded_number_of_times(clock, alice, room):
    book(alice, room)
    message_id = OutboxMessage.objects.get().pk
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        for _ in range(outbox.MAX_ATTEMPTS + 2):
            outbox.outbox_deliver(message_id)
    message = OutboxMessage.objects.get()
    assert message.attempts == outbox.MAX_ATTEMPTS and message.done_at is None
    assert "smtp down" in message.last_error


def test_unknown_kinds_are_refused_when_written():
    with pytest.raises(ValueError):
        outbox.outbox_add("nothing.registered", {})
