"""The iCal feed's secret token never reaches a log: Django's loggers, runserver's and gunicorn's
access logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from coworking.log_redaction import REDACTED, redact

from .factories import MemberFactory
from .processes import ROOT, _process, app_environment, free_port, wait_until

TOKEN = "Zq3vS0m3-Secret_T0ken9xyzABCDEFGH"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /calendar/{TOKEN}.ics HTTP/1.1", f"GET /calendar/{REDACTED}.ics HTTP/1.1"),
        (
            f'"GET /calendar/{TOKEN}.ics?x=1 HTTP/1.1" 200',
            f'"GET /calendar/{REDACTED}.ics?x=1 HTTP/1.1" 200',
        ),
        (f"Not Found: /calendar/{TOKEN}", f"Not Found: /calendar/{REDACTED}"),
        ("GET /calendar/a%00b.ics", f"GET /calendar/{REDACTED}.ics"),
        (
            f"https://chtipass.example/calendar/{TOKEN}.ics",
            f"https://chtipass.example/calendar/{REDACTED}.ics",
        ),
        ("GET /api/v1/me/ HTTP/1.1", "GET /api/v1/me/ HTTP/1.1"),
    ],
)
def test_a_calendar_token_is_cut_out_of_any_text(line, expected):
    assert redact(line) == expected


@pytest.mark.django_db
def test_a_feed_request_leaves_no_token_in_djangos_log_records(client, caplog):
    member = MemberFactory()
    caplog.set_level(logging.DEBUG)

    assert client.get(f"/calendar/{member.calendar_token}.ics").status_code == 200
    assert client.get(f"/calendar/{TOKEN}.ics").status_code == 404  # a revoked or mistyped one

    assert any("/calendar/" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and member.calendar_token not in record.getMessage()
    assert TOKEN not in caplog.text


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def serving(args: list[str], log: Path, port: int):
    with _process(args, app_environment(DEBUG="0"), log):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), timeout=60, what=f"the server (see {log})")
        yield base


def _answers(base: str) -> bool:
    try:
        get(f"{base}/health/")
        return True
    except OSError:
        return False


def fetch_feeds(base: str, member) -> None:
    assert get(f"{base}/calendar/{member.calendar_token}.ics") == 200
    assert get(f"{base}/calendar/{TOKEN}.ics") == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_runservers_access_log_has_no_token(tmp_path):
    member = MemberFactory()
    port = free_port()
    log = tmp_path / "runserver.log"
    args = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with serving(args, log, port) as base:
        fetch_feeds(base, member)
        wait_until(lambda: "/calendar/" in log.read_text(), timeout=10, what="the access log")
    text = log.read_text()
    assert f"/calendar/{REDACTED}.ics" in text
    assert member.calendar_token not in text and TOKEN not in text


def image_command() -> list[str]:
    """The image's CMD, as the Dockerfile says it."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return json.loads(next(line for line in reversed(lines) if line.startswith("CMD"))[4:])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_images_gunicorn_logs_no_token(tmp_path):
    """Whatever command starts gunicorn from the project directory, gunicorn.conf.py applies."""
    member = MemberFactory()
    port = free_port()
    log = tmp_path / "gunicorn.log"
    command = image_command()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    assert command[command.index("--access-logfile") + 1] == "-"
    with serving([sys.executable, "-m", *command], log, port) as base:
        fetch_feeds(base, member)
        wait_until(lambda: log.read_text().count("/calendar/") >= 2, timeout=10, what="access log")
    text = log.read_text()
    assert f"GET /calendar/{REDACTED}.ics" in text
    assert member.calendar_token not in text and TOKEN not in text


def test_gunicorn_reads_its_settings_from_the_project_directory():
    checked = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "config.wsgi"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "RedactingLogger" in checked.stdout, checked.stdout + checked.stderr
