"""The health endpoint reports database, cache, broker, beat and the work that needs a person."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from config import health
from coworking import outbox
from coworking.models import OutboxMessage
from reports import summaries
from reports.models import SummaryDispatch

pytestmark = pytest.mark.django_db


def test_health_reports_every_dependency(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"ok", "degraded"}
    assert body["database"]["ok"] is True
    assert body["cache"]["ok"] is True and body["broker"]["ok"] is True
    assert set(body["beat"]) >= {"ok", "last_run", "age_seconds"}


def test_the_embedded_mode_says_tasks_run_in_process(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = client.get("/health/").json()
    assert body["broker"]["mode"] == "in-process" and body["beat"]["mode"] == "in-process"


def test_a_recent_beat_heartbeat_is_reported_with_its_age(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # read the heartbeat as with a real beat
    cache.set("beat-heartbeat", timezone.now().isoformat(), timeout=None)
    beat = client.get("/health/").json()["beat"]
    assert beat["ok"] is True and beat["age_seconds"] < 5


def test_a_stale_beat_degrades_the_status(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    stale = (timezone.now() - timezone.timedelta(minutes=10)).isoformat()
    cache.set("beat-heartbeat", stale, timeout=None)
    body = client.get("/health/").json()
    assert body["beat"]["ok"] is False and body["status"] == "degraded"


def test_work_that_needs_nobody_leaves_the_status_ok(client, camille):
    SummaryDispatch.objects.create(recipient=camille, month=NOVEMBER, status="sent")
    body = client.get("/health/").json()
    assert body["summaries"] == {"ok": True, "unknown": 0, "dead": 0}
    assert body["outbox"] == {
        "ok": True,
        "pending": 0,
        "dead": 0,
        "oldest_pending_age_seconds": None,
    }


def test_a_summary_interrupted_mid_send_is_counted_and_degrades_the_status(client, alice, bob):
    """A worker killed during the SMTP exchange leaves a dispatch that is never sent again: a
    person must check whether the email left. Flagged or not yet flagged by the resume job."""
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    SummaryDispatch.objects.create(recipient=alice, month=NOVEMBER, status="unknown")
    SummaryDispatch.objects.create(
        recipient=bob, month=NOVEMBER, status="sending", claimed_at=long_ago
    )
    body = client.get("/health/").json()
    assert body["summaries"] == {"ok": False, "unknown": 2, "dead": 0}
    assert body["status"] == "degraded"


def test_a_summary_being_sent_right_now_is_not_counted(client, alice):
    SummaryDispatch.objects.create(
        recipient=alice, month=NOVEMBER, status="sending", claimed_at=timezone.now()
    )
    assert client.get("/health/").json()["summaries"] == {"ok": True, "unknown": 0, "dead": 0}


def test_a_summary_out_of_attempts_is_counted_dead(client, alice, bob, camille):
    attempts = summaries.MAX_ATTEMPTS
    SummaryDispatch.objects.create(recipient=alice, month=NOVEMBER, attempts=attempts)
    SummaryDispatch.objects.create(recipient=bob, month=NOVEMBER, status="failed")
    # Still within its attempts: the resume job will send it.
    SummaryDispatch.objects.create(recipient=camille, month=NOVEMBER, attempts=attempts - 1)
    body = client.get("/health/").json()
    assert body["summaries"] == {"ok": False, "unknown": 0, "dead": 2}
    assert body["status"] == "degraded"


def test_a_fresh_outbox_row_is_left_to_the_sweep(client):
    outbox_row(created_at=timezone.now() - timezone.timedelta(minutes=1))
    outbox_row(done_at=timezone.now())
    body = client.get("/health/").json()
    assert body["outbox"]["ok"] is True and body["outbox"]["pending"] == 1


def test_an_outbox_row_out_of_attempts_is_counted_dead_and_degrades_the_status(client):
    outbox_row(attempts=outbox.MAX_ATTEMPTS, last_error="SMTPServerDisconnected()")
    body = client.get("/health/").json()
    assert body["outbox"] == {
        "ok": False,
        "pending": 0,
        "dead": 1,
        "oldest_pending_age_seconds": None,
    }
    assert body["status"] == "degraded"


def test_an_outbox_row_nobody_drained_degrades_the_status(client):
    """Rows left undone well past the sweep and the claim lease: no worker is draining them
    (the worker that exited on a broker outage left 206 of them until a restart)."""
    outbox_row(created_at=timezone.now() - health.OUTBOX_MAX_AGE - timezone.timedelta(minutes=1))
    outbox_row(created_at=timezone.now())
    body = client.get("/health/").json()
    assert body["outbox"]["pending"] == 2 and body["outbox"]["dead"] == 0
    assert body["outbox"]["oldest_pending_age_seconds"] >= health.OUTBOX_MAX_AGE.total_seconds()
    assert body["outbox"]["ok"] is False and body["status"] == "degraded"


def outbox_row(**fields) -> OutboxMessage:
    return OutboxMessage.objects.create(kind="test", payload={}, **fields)


NOVEMBER = dt.date(2026, 11, 1)
