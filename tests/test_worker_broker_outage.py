"""A Celery worker survives a broker outage, however long, even with a task running when Redis
goes away, and drains the outbox once Redis is back. (A worker exited during an outage with
"Unrecoverable error", leaving the outbox undone until someone restarted it; by default Celery
also gives up reconnecting after 100 attempts, about 47 minutes, and the worker exits.)"""

from __future__ import annotations

import datetime as dt
import re
import sys

import pytest
from django.utils import timezone

from coworking.models import OutboxMessage
from spaces.models import Booking, Resource

from .factories import MemberFactory, ResourceFactory, SpaceFactory
from .processes import _process, app_environment, celery_beat, emails_in, private_redis, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
# The worker as docker-compose.yml runs it (prefork pool), its reconnections made faster.
WORKER = [sys.executable, "-m", "tests.fast_reconnect_celery", "-A", "config", "worker"]


def confirmation(booking: Booking) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind="booking.confirmed", payload={"booking_id": booking.pk}
    )


def done(message: OutboxMessage) -> bool:
    message.refresh_from_db()
    return message.done_at is not None


def reconnection_attempts(log: str) -> int:
    return max((int(n) for n in re.findall(r"Trying again .*?\((\d+)/", log)), default=0)


def test_a_worker_survives_a_long_redis_outage_mid_task_and_drains_the_outbox_after(tmp_path):
    member = MemberFactory(email="outage@example.org")
    desk = ResourceFactory(space=SpaceFactory(), kind=Resource.Kind.DESK, desk_type="hot")
    start = timezone.now() + dt.timedelta(days=2)
    booking = Booking.objects.create(
        member=member, resource=desk, start=start, end=start + dt.timedelta(hours=4)
    )
    gate, emails = tmp_path / "gate", tmp_path / "emails"
    gate.mkdir()
    emails.mkdir()
    with private_redis(tmp_path) as redis:
        env = app_environment(
            REDIS_URL=redis.url,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_BACKEND="tests.gated_email.GatedEmailBackend",
            EMAIL_FILE_PATH=str(emails),
            GATED_EMAIL_DIR=str(gate),
            OUTBOX_SWEEP_SECONDS="1",
            OUTBOX_SWEEP_GRACE_SECONDS="0",
        )
        log = tmp_path / "worker.log"
        with (
            _process([*WORKER, "-l", "info", "--concurrency", "1"], env, log) as worker,
            celery_beat(env, tmp_path / "beat.log", tmp_path),
        ):
            # 1. A confirmation is being sent when Redis goes away; it finishes meanwhile.
            first = confirmation(booking)
            wait_until(lambda: any(gate.glob("started-*")), timeout=60, what="the first send")
            redis.stop()
            (gate / "release").touch()
            wait_until(lambda: done(first), timeout=30, what="the first send to finish")

            # 2. The outage outlasts Celery's default 100 reconnection attempts.
            second = confirmation(booking)
            wait_until(
                lambda: reconnection_attempts(log.read_text()) > 105 or worker.poll() is not None,
                timeout=120,
                what="a long outage",
            )
            assert worker.poll() is None, log.read_text()[-3000:]

            # 3. Redis is back: the worker takes the work swept from the outbox.
            redis.start()
            wait_until(
                lambda: done(second) or worker.poll() is not None,
                timeout=90,
                what="the outbox to be drained",
            )
            assert worker.poll() is None, log.read_text()[-3000:]
            assert done(second)
    assert len(emails_in(emails)) == 2
    assert "Unrecoverable error" not in log.read_text()
