"""Celery tasks of the reports: they take ids and call services (STYLE.md). Their names are
those they had in `coworking`, so that queued messages and the beat schedule still find them."""

from __future__ import annotations

import contextlib
import datetime as dt

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

from coworking.months import month_previous

from . import summaries
from .summaries import summary_send_task as summary_send

__all__ = ["monthly_summaries_run", "summaries_resume", "summary_send"]


@shared_task(name="coworking.monthly_summaries_run")
def monthly_summaries_run(month: str | None = None) -> int:
    """Plan the month's summaries (default: last month) and queue one task per recipient."""
    first_day = dt.date.fromisoformat(month) if month else month_previous(timezone.localdate())
    return summaries.summaries_plan_and_queue(first_day)


@shared_task(name="coworking.summaries_resume")
def summaries_resume() -> int:
    """Queue again the summaries still pending, or whose worker died while building them."""
    return summaries.summaries_resume()


@worker_ready.connect
def _resume_after_restart(sender=None, **kwargs) -> None:
    # A worker killed mid-job leaves work behind: pick it up as soon as one is back.
    # If the broker is down, the beat schedule will do it anyway.
    with contextlib.suppress(Exception):
        summaries_resume.apply_async(retry=False)
