"""With Redis stopped, booking and scanning answer normally; when it is back, the work is done.

Real processes: gunicorn, a Celery worker and beat, and a Redis of the test's own that it
stops and starts again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from django.utils import timezone

from coworking.tokens import token_issue
from passes.keys import signing_key_create
from passes.models import Network, NetworkSpace
from passes.services import credential_static, pass_issue
from spaces.models import Resource
from spaces.schedule import desk_periods

from .conftest import make_partner_key
from .factories import MemberFactory, MembershipFactory, ResourceFactory, SpaceFactory
from .processes import (
    ROOT,
    app_environment,
    celery_beat,
    celery_worker,
    emails_in,
    free_port,
    private_redis,
    wait_until,
    web_server,
)
from .test_booking_concurrency import next_weekday

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def call(base: str, path: str, payload: dict, authorization: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": authorization},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_bookings_and_scans_survive_a_redis_outage_and_the_work_is_done_after(tmp_path):
    # The world: a member with a pass and desks at home, a partner space with a scanner key.
    signing_key_create(not_before=timezone.now() - timezone.timedelta(days=1))
    home, partner = SpaceFactory(), SpaceFactory()
    network = Network.objects.create(slug="net", name="Net")
    for space in (home, partner):
        NetworkSpace.objects.create(network=network, space=space)
    member = MemberFactory(email="outage@example.org")
    pass_obj = pass_issue(membership=MembershipFactory(member=member, space=home), network=network)
    desks = [
        ResourceFactory(space=home, kind=Resource.Kind.DESK, desk_type="hot") for _ in range(2)
    ]
    _token, token = token_issue(member=member)
    scanner_key = make_partner_key(partner)
    day = next_weekday()
    emails = tmp_path / "emails"
    emails.mkdir()

    with private_redis(tmp_path) as redis:
        env = app_environment(
            REDIS_URL=redis.url,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(emails),
            OUTBOX_SWEEP_SECONDS="2",
            OUTBOX_SWEEP_GRACE_SECONDS="1",
            DEBUG="0",
        )
        with (
            web_server(env, tmp_path / "web.log") as base,
            celery_worker(env, tmp_path / "worker.log"),
            celery_beat(env, tmp_path / "beat.log", tmp_path),
        ):

            def book(desk, period):
                start, end = desk_periods(desk, day)[period]
                return call(
                    base,
                    "/api/v1/bookings/",
                    {"resource": desk.pk, "start": start.isoformat(), "end": end.isoformat()},
                    f"Token {token}",
                )

            # 1. Everything up: a booking is confirmed by email through broker and worker.
            assert book(desks[0], "morning")[0] == 201
            wait_until(lambda: len(emails_in(emails)) == 1, timeout=60, what="first email")

            # 2. Redis down: booking and scanning still answer normally.
            #    (That a request does not wait on the broker is pinned below, by the retries
            #    a publish makes, not by a stopwatch.)
            redis.stop()
            status, body = book(desks[1], "afternoon")
            assert status == 201, body
            with urllib.request.urlopen(f"{base}/health/", timeout=5) as health:
                assert health.status == 200
                report = json.loads(health.read())
            assert (report["status"], report["broker"]["ok"]) == ("degraded", False), report
            status, body = call(
                base,
                "/api/v1/scans/",
                {"credential": credential_static(pass_obj)},
                f"Api-Key {scanner_key}",
            )
            assert (status, body.get("decision")) == (200, "accepted"), body
            assert len(emails_in(emails)) == 1

            # 3. Redis back: beat's sweep queues the pending confirmation, the worker sends it.
            redis.start()
            wait_until(
                lambda: len(emails_in(emails)) == 2,
                timeout=90,
                what="the email of the booking made while Redis was down",
            )

    messages = emails_in(emails)
    assert sum("Subject: =?utf-8" in m or "Subject:" in m for m in messages) == 2
    assert all("outage@example.org" in m for m in messages)


PUBLISH = """
import json, socket, django
from urllib.parse import urlsplit
django.setup()
from kombu.utils import functional
from config.celery import app
from coworking.outbox import _enqueue

# What a publish does when the broker is down: how often it connects, how long it would sleep.
port = urlsplit(app.conf.broker_url).port
connects, naps = [], []
real_connect = socket.socket.connect


def connect(sock, address):
    if isinstance(address, tuple) and address[1] == port:
        connects.append(address)
    return real_connect(sock, address)


socket.socket.connect = connect
functional.sleep = naps.append  # kombu's retry loop: record, do not wait
_enqueue(1)  # the broker is down: logged, not raised
print(json.dumps({"connects": len(connects), "asleep": sum(naps)}))
"""


def test_a_publish_to_a_broker_that_is_down_gives_up_at_once(tmp_path):
    """kombu retries a failed publish for 2 s by default, whatever `retry=False` says: a
    request would wait that long during a Redis outage. Our transport options make it fail
    at once (the outbox sweep queues the work later): counted in connections and in the
    seconds kombu asks to sleep, not measured on a clock."""
    env = app_environment(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        CELERY_TASK_ALWAYS_EAGER="0",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    publish = json.loads(done.stdout.strip().splitlines()[-1])
    assert 1 <= publish["connects"] <= 2, done.stdout + done.stderr
    assert publish["asleep"] <= 0.1, done.stdout + done.stderr
