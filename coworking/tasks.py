"""Celery tasks of the ground floor: they take ids and call services (STYLE.md). The floors
above keep their own (`passes/tasks.py`, `reports/tasks.py`) under their historical names."""

from __future__ import annotations

import contextlib

from celery import shared_task
from celery.signals import worker_ready
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .outbox import outbox_deliver_task as outbox_deliver
from .outbox import outbox_sweep_task as outbox_sweep

__all__ = ["beat_heartbeat", "outbox_deliver", "outbox_sweep", "ping"]


@shared_task(name="coworking.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Round trip through broker and worker: proves the wiring and the worker's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"pong": "ok", "database": connection.vendor}


@shared_task(name="coworking.beat_heartbeat")
def beat_heartbeat() -> str:
    """Proves beat is alive: the health endpoint reports the age of this timestamp."""
    now = timezone.now().isoformat()
    cache.set("beat-heartbeat", now, timeout=None)
    return now


@worker_ready.connect
def _sweep_after_restart(sender=None, **kwargs) -> None:
    # A worker killed mid-job leaves work behind: pick it up as soon as one is back.
    # If the broker is down, the beat schedule will do it anyway.
    with contextlib.suppress(Exception):
        outbox_sweep.apply_async(retry=False)
