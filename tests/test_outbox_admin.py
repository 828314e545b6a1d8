"""An outbox row that used its last attempt ends "dead": never run or swept again, and reported
by /health/ and by a read-only admin list that only superusers see."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from coworking import outbox
from coworking.models import Member, OutboxMessage
from spaces.services import booking_create

from .conftest import NOW, paris

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/coworking/outboxmessage/"


@pytest.fixture
def dead_confirmation(clock, alice, room) -> OutboxMessage:
    """Alice's booking confirmation, refused by the mail server on every attempt."""
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    message = OutboxMessage.objects.get()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        for _ in range(outbox.MAX_ATTEMPTS):
            outbox.outbox_deliver(message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def as_root(client):
    root = Member.objects.create_superuser("root@chtipass.example", "x", first_name="Root")
    client.force_login(root)
    return client


def test_a_row_that_used_its_last_attempt_is_dead_and_never_run_or_swept_again(
    dead_confirmation, clock
):
    assert OutboxMessage.objects.filter(outbox.OUTBOX_STATES["dead"]).get() == dead_confirmation
    assert not OutboxMessage.objects.filter(outbox.OUTBOX_STATES["pending"]).exists()
    assert outbox.outbox_deliver(dead_confirmation.pk) is False
    clock.move_to(NOW + dt.timedelta(days=1))
    with mock.patch.object(outbox, "_enqueue") as enqueue:
        assert outbox.outbox_sweep() == 0
    enqueue.assert_not_called()


def test_health_counts_the_dead_row_apart_from_the_pending_ones(dead_confirmation, client):
    body = client.get("/health/").json()
    assert body["outbox"]["dead"] == 1 and body["outbox"]["pending"] == 0
    assert body["status"] == "degraded"


def test_a_superuser_finds_the_dead_row_by_its_state_and_reads_its_error(
    dead_confirmation, as_root
):
    dead = as_root.get(CHANGELIST, {"state": "dead"})
    assert dead.status_code == 200
    assert list(dead.context["cl"].result_list) == [dead_confirmation]
    assert "abandonnée (plus d&#x27;essai)" in dead.content.decode()
    assert list(as_root.get(CHANGELIST, {"state": "pending"}).context["cl"].result_list) == []

    page = as_root.get(f"{CHANGELIST}{dead_confirmation.pk}/change/")
    assert page.status_code == 200
    assert "smtp down" in page.content.decode()


def test_the_outbox_admin_is_read_only(dead_confirmation, as_root):
    change = f"{CHANGELIST}{dead_confirmation.pk}/change/"
    assert as_root.get(f"{CHANGELIST}add/").status_code == 403
    assert as_root.get(f"{CHANGELIST}{dead_confirmation.pk}/delete/").status_code == 403
    as_root.post(change, {"kind": "changed", "attempts": 0})
    dead_confirmation.refresh_from_db()
    assert (dead_confirmation.kind, dead_confirmation.attempts) != ("changed", 0)


def test_a_co_manager_does_not_see_the_outbox(dead_confirmation, client, camille):
    camille.is_staff = True
    camille.save()
    client.force_login(camille)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{dead_confirmation.pk}/change/").status_code in {302, 403}
    assert "outboxmessage" not in client.get("/admin/").content.decode()
