"""With the database unreachable, every request gets a clear 503, never a traceback."""

import json
import urllib.error
import urllib.request

import pytest

from .processes import app_environment, free_port, web_server

pytestmark = pytest.mark.slow


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.django_db
def test_an_unreachable_database_answers_503_with_the_error_shape(tmp_path):
    closed = free_port()  # nothing listens there
    env = app_environment(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/gone", DEBUG="0")
    with web_server(env, tmp_path / "web.log", probe="/health/") as base:
        status, headers, body = get(base + "/api/v1/spaces/")
        assert status == 503
        assert json.loads(body)["code"] == "service_unavailable"
        assert headers["Retry-After"] == "30"
        status, _headers, body = get(base + "/health/")
        assert status == 503 and json.loads(body)["status"] == "down"
    assert "Traceback" not in (tmp_path / "web.log").read_text()


@pytest.mark.django_db
def test_a_deadlock_is_a_retry_not_an_outage(api, alice):
    from unittest import mock

    from django.db import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    error = OperationalError("deadlock detected")
    error.__cause__ = Deadlock()
    with mock.patch("api.views.MeView.get", side_effect=error):
        response = api.as_(alice).get("/api/v1/me/")
    assert response.status_code == 409
    assert response.json()["code"] == "retry" and response["Retry-After"] == "1"
