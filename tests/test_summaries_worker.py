"""Monthly summaries through a real broker and worker, including a worker killed mid-job."""

from __future__ import annotations

import collections
import re
import signal
import subprocess
import sys
import time

import pytest

from reports.models import SummaryDispatch
from spaces.models import Booking, Membership, Resource

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory, SpaceFactory
from .processes import ROOT, app_environment, celery_worker, emails_in, private_redis, wait_until

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


def kill_outside_the_smtp_window(worker: subprocess.Popen, attempts: int = 200) -> None:
    """SIGKILL the (solo-pool) worker at a moment when no dispatch is in the SENDING state.

    The worker is frozen with SIGSTOP before the database is read, so what we read is what it
    leaves behind; if it was sending, it is thawed and we try again a little later.
    """
    sending = SummaryDispatch.Status.SENDING
    for _ in range(attempts):
        worker.send_signal(signal.SIGSTOP)
        time.sleep(0.2)  # let any commit already on the wire land
        if not SummaryDispatch.objects.filter(status=sending).exists():
            worker.kill()
            worker.wait(timeout=10)
            return
        worker.send_signal(signal.SIGCONT)
        time.sleep(0.03)
    raise AssertionError("the worker was always sending when we looked")


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
        time.sleep(4)
        with celery_worker(env, tmp_path / "worker-2.log"):
            wait_until(
                lambda: set(recipients_of(emails_in(emails))) == october,
                timeout=120,
                what="every recipient's summary",
            )
            # 4. Running the whole job again sends nothing more.
            run_job(env)
            time.sleep(6)  # room for any duplicate (redelivery, second run) to show up

    assert recipients_of(emails_in(emails)) == {email: 1 for email in october}
    assert set(SummaryDispatch.objects.values_list("status", flat=True)) == {"sent"}
