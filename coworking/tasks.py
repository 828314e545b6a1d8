"""Celery tasks: they take ids and call services (STYLE.md)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from celery.signals import worker_ready
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from . import outbox, summaries


@shared_task(name="coworking.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Round trip through broker and worker: proves the wiring and the worker's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"pong": "ok", "database": connection.vendor}


@shared_task(name="coworking.outbox_deliver", bind=True, acks_late=True, reject_on_worker_lost=True)
def outbox_deliver(self, message_id: int) -> bool:
    return outbox.outbox_deliver(message_id, token=self.request.id)


@shared_task(name="coworking.outbox_sweep")
def outbox_sweep() -> int:
    return outbox.outbox_sweep()


@shared_task(name="coworking.monthly_summaries_run")
def monthly_summaries_run(month: str | None = None) -> int:
    """Plan the month's summaries (default: last month) and queue one task per recipient."""
    first_day = dt.date.fromisoformat(month) if month else summaries.previous_month()
    return summaries.summaries_plan_and_queue(first_day)


@shared_task(name="coworking.summary_send", bind=True, acks_late=True, reject_on_worker_lost=True)
def summary_send(self, dispatch_id: int) -> str:
    return summaries.summary_send(dispatch_id, token=self.request.id)


@shared_task(name="coworking.summaries_resume")
def summaries_resume() -> int:
    """Queue again the summaries still pending, or whose worker died while building them."""
    return summaries.summaries_resume()


@shared_task(name="coworking.beat_heartbeat")
def beat_heartbeat() -> str:
    """Proves beat is alive: the health endpoint reports the age of this timestamp."""
    now = timezone.now().isoformat()
    cache.set("beat-heartbeat", now, timeout=None)
    return now


@shared_task(name="coworking.scans_purge")
def scans_purge() -> int:
    from .privacy import scans_purge as purge

    return purge()


@worker_ready.connect
def _resume_after_restart(sender=None, **kwargs) -> None:
    # A worker killed mid-job leaves work behind: pick it up as soon as one is back.
    try:
        summaries_resume.apply_async(retry=False)
        outbox_sweep.apply_async(retry=False)
    except Exception:  # noqa: S110 - the beat schedule will do it anyway
        pass
