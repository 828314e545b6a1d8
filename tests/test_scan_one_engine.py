"""One scan engine: every scan goes through Django's full request cycle and `passes/scanning.py`.

The PL/pgSQL acceptance and the WSGI scan lane are gone; these tests call the WSGI application
that gunicorn serves (`config.wsgi.application`), not Django's test client, so that what a
scanner meets in production is what is tested.
"""

from __future__ import annotations

import importlib
import io
import json
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections, connection

from api.passes_views import PartnerThrottle
from passes.models import Scan, Visit
from passes.services import pass_revoke

from .conftest import _member, issue_pass, make_partner_key, rotating_credential

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wsgi(monkeypatch):
    from config.wsgi import application

    monkeypatch.setattr(PartnerThrottle, "_tallies", {})
    # As Django's test client does: the test's connection is not the one a request would close.
    request_started.disconnect(close_old_connections)
    yield application
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
    alina = _member("Alina", "alina@mutualab.example", mutualab)
    return issue_pass(alice, network), issue_pass(alina, network)


@pytest.fixture
def key(filature):
    return make_partner_key(filature)


def test_the_production_wsgi_application_is_djangos_own():
    from config.wsgi import application

    assert type(application) is WSGIHandler


def test_an_acceptance_goes_through_the_middlewares_in_the_language_asked_for(wsgi, twins, key):
    answers = {}
    for language, pass_obj in zip(["en", "fr"], twins, strict=True):
        answers[language] = post(
            wsgi,
            {"credential": rotating_credential(pass_obj)},
            key=key,
            HTTP_ACCEPT_LANGUAGE=language,
        )
    for language, answer in answers.items():
        assert answer["status"] == "200 OK"
        assert json.loads(answer["body"])["decision"] == "accepted"
        assert answer["headers"]["Content-Language"] == language
        assert answer["headers"]["X-Frame-Options"] == "DENY"
        assert "Content-Security-Policy" in answer["headers"]
    assert Scan.objects.count() == Visit.objects.count() == 2


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("refused", "200 OK"),
        ("bad json", "400 Bad Request"),
        ("unknown key", "401 Unauthorized"),
        ("no key", "401 Unauthorized"),
        ("scanned_at", "200 OK"),
        ("form", "200 OK"),
        ("bad host", "400 Bad Request"),
        ("blank", "400 Bad Request"),
        ("long nonce", "400 Bad Request"),
    ],
)
def test_odd_scan_requests_get_their_status_from_the_one_stack(
    wsgi, twins, key, camille, case, status
):
    alice_pass = twins[0]
    body: object = {"credential": rotating_credential(alice_pass)}
    options: dict = {"key": key}
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
    answer = post(wsgi, body, **options)
    assert answer["status"] == status, answer["body"]
    if status != "200 OK" and case != "bad host":  # a bad host never reaches the API
        assert set(json.loads(answer["body"])) == {"code", "detail", "fields"}


def test_a_refused_scan_counts_once_against_the_throttle(
    clock, wsgi, twins, key, camille, monkeypatch
):
    monkeypatch.setitem(PartnerThrottle.THROTTLE_RATES, "scan", "3/min")
    alice_pass = twins[0]
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="test")
    statuses = [
        post(wsgi, {"credential": rotating_credential(alice_pass)}, key=key)["status"]
        for _ in range(4)
    ]
    assert statuses == ["200 OK"] * 3 + ["429 Too Many Requests"]


def test_a_broken_database_connection_is_replaced_before_the_scan(wsgi, twins, key):
    credential = rotating_credential(twins[0])
    connection.ensure_connection()
    connection.connection.close()  # behind Django's back, as a restarted server would
    # Django's health check at the start of each request finds it out (CONN_HEALTH_CHECKS).
    request_started.connect(close_old_connections)
    answer = post(wsgi, {"credential": credential}, key=key)
    assert answer["status"] == "200 OK"
    assert json.loads(answer["body"])["decision"] == "accepted"
    assert Scan.objects.count() == Visit.objects.count() == 1


@pytest.mark.postgres  # the function only ever existed on PostgreSQL
def test_the_removed_fast_path_function_is_dropped_from_an_existing_database():
    """Databases migrated before 0002 became empty still hold the function: 0004 drops it."""
    drop = importlib.import_module("passes.migrations.0004_drop_scan_fast_path")
    with connection.cursor() as cursor:
        # A stand-in with the old signature, as 0002 once created it.
        cursor.execute(
            f"CREATE FUNCTION {drop.SIGNATURE} RETURNS json LANGUAGE sql AS 'SELECT NULL::json'"
        )
    with connection.schema_editor() as schema_editor:
        drop.drop(None, schema_editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'chtipass_scan_accept_v1'")
        assert cursor.fetchone() == (0,)
