"""GET /health/: database, cache, broker, the age of beat's last run, and the background work
that needs a person (summaries interrupted mid-send, outbox rows given up or stuck), for
monitoring.

200 while the database answers (a cache or broker outage only degrades the product), 503 when
it does not.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from coworking import outbox
from coworking.models import OutboxMessage
from reports import summaries

# Beat's heartbeat runs every minute; older than this, beat is considered down.
BEAT_MAX_AGE = dt.timedelta(minutes=3)
# The sweep queues undone outbox rows every minute and a dead worker's claim lapses after
# `outbox.CLAIM_LEASE` (5 minutes): a row still undone after this is stuck (no worker drains it).
OUTBOX_MAX_AGE = dt.timedelta(minutes=15)


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check() or {}
        ok = True
    except Exception as error:
        detail, ok = {"error": error.__class__.__name__}, False
    return {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> dict[str, Any]:
    from django_redis import get_redis_connection

    if "django_redis" in settings.CACHES["default"]["BACKEND"]:
        get_redis_connection("default").ping()  # the cache itself swallows errors
        return {"backend": "redis"}
    cache.set("health-probe", 1, timeout=10)
    return {"backend": "local-memory"}


def _broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"mode": "in-process"}
    from config.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=0, timeout=1)
    return {"mode": "redis"}


def _beat() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": None, "mode": "in-process", "last_run": None, "age_seconds": None}
    try:
        last = cache.get("beat-heartbeat")
    except Exception:
        last = None
    if not last:
        return {"ok": False, "last_run": None, "age_seconds": None}
    age = timezone.now() - dt.datetime.fromisoformat(last)
    return {"ok": age <= BEAT_MAX_AGE, "last_run": last, "age_seconds": int(age.total_seconds())}


def _summaries() -> dict[str, Any]:
    """Monthly summaries that will not go out by themselves: `unknown` ones (the worker died
    during the SMTP exchange: maybe sent, never sent again) and dead ones (out of attempts)."""
    counts = summaries.dispatches_needing_attention()
    return {"ok": not any(counts.values()), **counts}


def _outbox() -> dict[str, Any]:
    now = timezone.now()
    counts = OutboxMessage.objects.aggregate(
        pending=Count("pk", filter=outbox.OUTBOX_STATES["pending"]),
        dead=Count("pk", filter=outbox.OUTBOX_STATES["dead"]),
        oldest=Min("created_at", filter=outbox.OUTBOX_STATES["pending"]),
    )
    dead, oldest = counts["dead"], counts["oldest"]
    age = int((now - oldest).total_seconds()) if oldest else None
    stuck = oldest is not None and now - oldest > OUTBOX_MAX_AGE
    return {
        "ok": not dead and not stuck,
        "pending": counts["pending"],
        "dead": dead,
        "oldest_pending_age_seconds": age,
    }


def _counted(check) -> dict[str, Any]:
    try:
        return check()
    except DatabaseError as error:  # the database check reports the outage itself
        return {"ok": None, "error": error.__class__.__name__}


@never_cache
def health(request) -> JsonResponse:
    checks = {
        "database": _timed(_database),
        "cache": _timed(_cache),
        "broker": _timed(_broker),
        "beat": _beat(),
        "summaries": _counted(_summaries),
        "outbox": _counted(_outbox),
    }
    if not checks["database"]["ok"]:
        state = "down"
    elif all(check["ok"] is not False for check in checks.values()):
        state = "ok"
    else:
        state = "degraded"
    return JsonResponse({"status": state, **checks}, status=503 if state == "down" else 200)
