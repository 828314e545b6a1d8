"""The health endpoint reports database, cache, broker and beat."""

import pytest
from django.core.cache import cache
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_health_reports_every_dependency(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"ok", "degraded"}
    assert body["database"]["ok"] is True
    assert body["cache"]["ok"] is True and body["broker"]["ok"] is True
    assert set(body["beat"]) >= {"ok", "last_run", "age_seconds"}


def test_the_embedded_mode_says_tasks_run_in_process(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = client.get("/health/").json()
    assert body["broker"]["mode"] == "in-process" and body["beat"]["mode"] == "in-process"


def test_a_recent_beat_heartbeat_is_reported_with_its_age(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # read the heartbeat as with a real beat
    cache.set("beat-heartbeat", timezone.now().isoformat(), timeout=None)
    beat = client.get("/health/").json()["beat"]
    assert beat["ok"] is True and beat["age_seconds"] < 5


def test_a_stale_beat_degrades_the_status(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    stale = (timezone.now() - timezone.timedelta(minutes=10)).isoformat()
    cache.set("beat-heartbeat", stale, timeout=None)
    body = client.get("/health/").json()
    assert body["beat"]["ok"] is False and body["status"] == "degraded"
