"""Celery runs in-process by default and through Redis and a real worker when REDIS_URL is set."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from coworking.tasks import ping

ROOT = Path(__file__).resolve().parent.parent


def worker_environment() -> dict[str, str]:
    """The worker must use the test database that pytest-django created, not the main one."""
    env = {**os.environ}
    if url := env.get("DATABASE_URL"):
        parts = urlsplit(url)
        env["DATABASE_URL"] = urlunsplit(
            parts._replace(path="/" + connection.settings_dict["NAME"])
        )
    return env


@pytest.fixture
def celery_worker_queue(django_db_setup):
    """A real worker process on a private queue (only when a broker is configured)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coworking",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.django_db
def test_a_task_round_trips_through_the_configured_broker(celery_worker_queue):
    options = {"queue": celery_worker_queue} if celery_worker_queue else {}
    result = ping.apply_async(**options).get(timeout=60)
    assert result == {"pong": "ok", "database": connection.vendor}


def test_ci_runs_the_postgres_pass_on_postgres_with_redis():
    """In CI's second pass, a misconfiguration must fail loudly rather than skip."""
    if os.environ.get("CI_EXPECT_POSTGRES") != "1":
        assert settings.CELERY_TASK_ALWAYS_EAGER or settings.REDIS_URL
        return
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER
