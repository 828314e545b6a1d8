"""Monthly summaries through a real broker and worker, including a worker killed mid-job."""

from __future__ import annotations

import collections
import datetime as dt
import re
import signal
import subprocess
import sys

import pytest
import redis as redis_lib
from django.utils import timezone

from reports.models import SummaryDispatch
from spaces.models import Booking, Membership, Resource

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory, SpaceFactory
from .processes import (
    ROOT,
    app_environment,
    celery_worker,
    emails_in,
    is_stopped,
    other_sessions_idle,
    private_redis,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SPACES = 10


def recipients_of(emails) -> collections.Counter:
    return collections.Counter(
        match.group(1)
        for message in emails
        for match in [re.search(r"^To: (\S+)", message, re.M)]
        if match
    )


def run_job(env) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "send_monthly_summaries", "--month", "2026-10"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def dispatch_states() -> list[tuple[int, str]]:
    return list(SummaryDispatch.objects.order_by("pk").values_list("pk", "status"))


def kill_outside_the_smtp_window(worker: subprocess.Popen, attempts: int = 200) -> None:
    """SIGKILL the (solo-pool) worker at a moment when no dispatch is in the SENDING state.

    The worker is frozen with SIGSTOP, and the database read once the freeze has taken effect
    and no statement of it is still running, so what we read is what it leaves behind; if it
    was sending, it is thawed until it has moved on, and we look again.
    """
    sending = SummaryDispatch.Status.SENDING
    for _ in range(attempts):
        worker.send_signal(signal.SIGSTOP)
        wait_until(lambda: is_stopped(worker), timeout=10, interval=0.01, what="the freeze")
        wait_until(other_sessions_idle, timeout=10, interval=0.01, what="the worker's commit")
        seen = dispatch_states()
        if all(status != sending for _pk, status in seen):
            worker.kill()
            worker.wait(timeout=10)
            return
        worker.send_signal(signal.SIGCONT)
        wait_until(lambda: dispatch_states() != seen, timeout=30, interval=0.01, what="progress")
    raise AssertionError("the worker was always sending when we looked")


def deliveries_settled(redis_url: str) -> bool:
    """Every task the broker holds is handed out and acknowledged: none waits in the queue,
    none is held unacknowledged (for a live worker, or for redelivery after a dead one)."""
    client = redis_lib.Redis.from_url(redis_url)
    try:
        # The default queue is the list "celery" (with a suffix per priority, if any is used).
        queues = [key for key in client.scan_iter("celery*") if client.type(key) == b"list"]
        return not any(client.llen(key) for key in queues) and client.hlen("unacked") == 0
    finally:
        client.close()


@pytest.fixture
def october():
    """Ten spaces, each with its co-manager and a few bookings in October 2026."""
    expected = set()
    for index in range(SPACES):
        space = SpaceFactory()
        manager = MemberFactory(email=f"manager{index}@example.org")
        MembershipFactory(member=manager, space=space, role=Membership.Role.CO_MANAGER)
        room = ResourceFactory(space=space, kind=Resource.Kind.ROOM)
        for day in (5, 6, 7):
            Booking.objects.create(
                resource=room,
                member=manager,
                start=paris(2026, 10, day, 9 + index % 5),
                end=paris(2026, 10, day, 11 + index % 5),
            )
        expected.add(manager.email)
    return expected


def test_a_worker_killed_mid_job_leaves_every_recipient_with_exactly_one_email(october, tmp_path):
    emails = tmp_path / "emails"
    emails.mkdir()
    with private_redis(tmp_path) as redis:
        env = app_environment(
            REDIS_URL=redis.url,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(emails),
            SUMMARY_CLAIM_LEASE_SECONDS="3",
            CELERY_VISIBILITY_TIMEOUT="5",
        )
        # 1. The job queues one task per recipient; the worker starts sending…
        with celery_worker(env, tmp_path / "worker-1.log") as worker:
            run_job(env)
            wait_until(
                lambda: emails_in(emails), timeout=60, interval=0.05, what="the first summary"
            )
            # 2. …and is killed in the middle, while it builds (not while it talks to the
            #    mail server: a death there is reported "unknown" and never resent, by design).
            kill_outside_the_smtp_window(worker)
        sent_before_kill = len(emails_in(emails))
        assert 0 < sent_before_kill < SPACES, "the worker must die mid-job for this test"

        # 3. A worker comes back after the claim lease: it resumes what was left.
        lease = dt.timedelta(seconds=int(env["SUMMARY_CLAIM_LEASE_SECONDS"]))
        wait_until(
            lambda: (
                not SummaryDispatch.objects.filter(
                    status=SummaryDispatch.Status.BUILDING, claimed_at__gt=timezone.now() - lease
                ).exists()
            ),
            timeout=30,
            what="the dead worker's claims to run out",
        )
        with celery_worker(env, tmp_path / "worker-2.log"):
            wait_until(
                lambda: set(recipients_of(emails_in(emails))) == october,
                timeout=120,
                what="every recipient's summary",
            )
            # 4. Running the whole job again sends nothing more, nor does any redelivery of
            #    the dead worker's tasks: we wait until the broker holds none.
            run_job(env)
            wait_until(
                lambda: deliveries_settled(redis.url),
                timeout=60,
                what="the broker to hand out and see acknowledged every task",
            )

    assert recipients_of(emails_in(emails)) == {email: 1 for email in october}
    assert set(SummaryDispatch.objects.values_list("status", flat=True)) == {"sent"}
