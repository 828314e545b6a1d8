"""The scanner's fast lane (api/scan_lane.py) answers exactly as the full stack, or lets it answer.

These tests call the WSGI application that gunicorn serves (`coworking.wsgi.application`), not
Django's test client, so that the lane is in the way as it is in production.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection
from django.utils import timezone

from api.passes_views import PartnerThrottle
from api.scan_lane import ScanFastLane
from passes.models import PartnerKey, Scan, Visit
from passes.services import pass_revoke

from .conftest import _member, issue_pass, make_partner_key, on_postgresql, rotating_credential

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wsgi(monkeypatch):
    """The production WSGI application, and a count of the requests its full stack answered."""
    from coworking.wsgi import application

    assert isinstance(application, ScanFastLane)
    full_stack = {"calls": 0}
    django_app = application.application

    def counted(environ, start_response):
        full_stack["calls"] += 1
        return django_app(environ, start_response)

    monkeypatch.setattr(application, "application", counted)
    monkeypatch.setattr(PartnerThrottle, "_tallies", {})
    # As Django's test client does: the test's connection is not the one a request would close.
    request_started.disconnect(close_old_connections)
    yield application, full_stack
    request_started.connect(close_old_connections)


def post(
    app, body, *, key: str | None, content_type="application/json", host="testserver", **extra
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/scans/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if key:
        environ["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    environ.update(extra)
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


@pytest.fixture
def twins(alice, mutualab, network, signing):
    """Alice and Alina: same home, same allowance, names of the same length."""
    alina = _member("Alina", "alina@mutualab.example", mutualab)
    return issue_pass(alice, network), issue_pass(alina, network)


@pytest.fixture
def key_in_use(filature):
    key = make_partner_key(filature)
    PartnerKey.objects.update(last_used_at=timezone.now())
    return key


def test_an_acceptance_through_the_lane_is_the_full_stacks_answer_to_the_byte(
    wsgi, twins, key_in_use, settings
):
    app, full_stack = wsgi
    alice_pass, alina_pass = twins
    lane = post(app, {"credential": rotating_credential(alice_pass)}, key=key_in_use)
    through_lane = full_stack["calls"] == 0
    settings.SCAN_FAST_PATH = False
    stack = post(app, {"credential": rotating_credential(alina_pass)}, key=key_in_use)
    assert full_stack["calls"] == (1 if through_lane else 2)
    # Only PostgreSQL has the one-statement acceptance the lane relies on.
    assert through_lane == on_postgresql()
    assert lane["status"] == stack["status"] == "200 OK"
    assert lane["headers"] == stack["headers"]
    first, second = (json.loads(answer["body"]) for answer in (lane, stack))
    assert first["decision"] == second["decision"] == "accepted"
    visits = Visit.objects.order_by("id")
    assert [first["visit"]["id"], second["visit"]["id"]] == [visit.pk for visit in visits]

    def same(answer, visit, name):
        return answer["body"].replace(f'"id":{visit.pk},'.encode(), b'"id":ID,').replace(name, b"N")

    assert same(lane, visits[0], b"Alice") == same(stack, visits[1], b"Alina")
    assert Scan.objects.count() == 2
    # The lane keeps the headers it worked out: the next answer has the same.
    settings.SCAN_FAST_PATH = True
    again = post(app, {"credential": rotating_credential(alice_pass)}, key=key_in_use)
    assert again["status"] == "200 OK"
    assert {**again["headers"], "Content-Length": "-"} == {
        **stack["headers"],
        "Content-Length": "-",
    }


def test_the_lane_answers_in_the_language_asked_for(wsgi, twins, key_in_use, settings):
    app, _full_stack = wsgi
    answers = {}
    for language, pass_obj in zip(["en", "fr"], twins, strict=True):
        environ_extra = {"HTTP_ACCEPT_LANGUAGE": language}
        answers[language] = post(
            app, {"credential": rotating_credential(pass_obj)}, key=key_in_use, **environ_extra
        )
    assert answers["en"]["headers"]["Content-Language"] == "en"
    assert answers["fr"]["headers"]["Content-Language"] == "fr"


@pytest.mark.parametrize(
    "case",
    [
        "refused",
        "bad json",
        "unknown key",
        "no key",
        "scanned_at",
        "form",
        "bad host",
        "blank",
        "long nonce",
    ],
)
def test_everything_but_a_plain_acceptance_is_answered_by_the_full_stack(
    wsgi, twins, key_in_use, camille, case
):
    app, full_stack = wsgi
    alice_pass = twins[0]
    body: object = {"credential": rotating_credential(alice_pass)}
    options: dict = {"key": key_in_use}
    if case == "refused":
        pass_revoke(pass_obj=alice_pass, actor=camille, reason="test")
    elif case == "bad json":
        body = b'{"credential": '
    elif case == "unknown key":
        options["key"] = "nope.nope"
    elif case == "no key":
        options["key"] = None
    elif case == "scanned_at":
        body = {**body, "scanned_at": "2026-12-01T09:00:00+01:00"}
    elif case == "form":
        body, options["content_type"] = b"credential=x", "application/x-www-form-urlencoded"
    elif case == "bad host":
        options["host"] = "evil.example"
    elif case == "blank":
        body = {"credential": "   "}
    elif case == "long nonce":
        body = {**body, "nonce": "n" * 65}
    answer = post(app, body, **options)
    assert full_stack["calls"] == 1
    expected = {
        "refused": "200 OK",
        "bad json": "400 Bad Request",
        "unknown key": "401 Unauthorized",
        "no key": "401 Unauthorized",
        "scanned_at": "200 OK",
        "form": "200 OK",
        "bad host": "400 Bad Request",
        "blank": "400 Bad Request",
        "long nonce": "400 Bad Request",
    }[case]
    assert answer["status"] == expected, answer["body"]


def test_a_refusal_counts_once_against_the_throttle(
    clock, wsgi, twins, key_in_use, camille, monkeypatch
):
    """The lane counts a request, then the full stack refuses it: the throttle saw it once."""
    app, _full_stack = wsgi
    monkeypatch.setitem(PartnerThrottle.THROTTLE_RATES, "scan", "3/min")
    alice_pass = twins[0]
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="test")
    statuses = [
        post(app, {"credential": rotating_credential(alice_pass)}, key=key_in_use)["status"]
        for _ in range(4)
    ]
    assert statuses == ["200 OK"] * 3 + ["429 Too Many Requests"]


def test_a_broken_database_connection_is_left_to_the_full_stack(wsgi, twins, key_in_use):
    app, _full_stack = wsgi
    credential = rotating_credential(twins[0])
    connection.ensure_connection()
    connection.connection.close()  # behind Django's back, as a restarted server would
    answer = post(app, {"credential": credential}, key=key_in_use)
    assert answer["status"] == "200 OK"
    assert json.loads(answer["body"])["decision"] == "accepted"
    assert Scan.objects.count() == Visit.objects.count() == 1
