"""Celery tasks of `passes`: they call services (STYLE.md). Names are those the beat schedule
and queued messages already use."""

from __future__ import annotations

from celery import shared_task

from .privacy import scans_purge as purge


@shared_task(name="coworking.scans_purge")
def scans_purge() -> int:
    return purge()
