"""Celery runs in-process by default and through Redis and a real worker when REDIS_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.db import connection

from coworking.tasks import ping

from .processes import app_environment, celery_worker


@pytest.mark.django_db
def test_a_task_round_trips_through_the_configured_broker(tmp_path):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert ping.delay().get(timeout=10) == {"pong": "ok", "database": connection.vendor}
        return
    queue = f"test-{uuid.uuid4().hex[:8]}"  # a private queue: no other test's leftovers
    with celery_worker(app_environment(), tmp_path / "worker.log", queue=queue):
        result = ping.apply_async(queue=queue).get(timeout=60)
    assert result == {"pong": "ok", "database": connection.vendor}


def test_ci_runs_the_postgres_pass_on_postgres_with_redis():
    """In CI's second pass, a misconfiguration must fail loudly rather than skip."""
    if os.environ.get("CI_EXPECT_POSTGRES") != "1":
        assert settings.CELERY_TASK_ALWAYS_EAGER or settings.REDIS_URL
        return
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER
