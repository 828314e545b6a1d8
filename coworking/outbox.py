"""The outbox: work to do after a request, that a broker outage can delay but never lose.

`outbox_add` writes a row in the caller's transaction and queues its delivery after commit;
if the broker is down, the request still succeeds and the beat sweep queues the row later.
Handlers are registered by kind (`outbox_handler`, from the `AppConfig.ready` of the app that
owns the kind): the outbox imports none of them. A row is claimed before it runs, so that a
redelivered or swept duplicate does not run it twice. Its two Celery tasks live here, beside the
functions they run, so that queueing a row needs no import of a tasks module.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}

MAX_ATTEMPTS = 5
# A claimed row whose worker died is taken over after this long.
CLAIM_LEASE = dt.timedelta(minutes=5)

# Where a row stands. "dead" is final: it used its last attempt, nothing runs or sweeps it again,
# and /health/ and the admin report it so that a person looks at its error.
OUTBOX_STATES: dict[str, Q] = {
    "done": Q(done_at__isnull=False),
    "dead": Q(done_at__isnull=True, attempts__gte=MAX_ATTEMPTS),
    "pending": Q(done_at__isnull=True, attempts__lt=MAX_ATTEMPTS),
}


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        _handlers[kind] = function
        return function

    return register


def _enqueue(message_id: int) -> None:
    try:
        outbox_deliver_task.apply_async((message_id,), retry=False)
    except Exception:  # broker down: the beat sweep will queue it
        logger.warning("Outbox message %s not queued (broker unavailable).", message_id)


def outbox_add(kind: str, payload: dict[str, Any]) -> OutboxMessage:
    """Record work to do once the current transaction commits."""
    if kind not in _handlers:
        raise ValueError(f"No outbox handler for {kind!r}.")
    message = OutboxMessage.objects.create(kind=kind, payload=payload)
    transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message


def outbox_deliver(message_id: int, *, token: str | None = None) -> bool:
    """Run one message's handler if no one else holds it; True when it ran."""
    token = token or uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(claimed_at__isnull=True) | Q(claim_token=token) | Q(claimed_at__lt=now - CLAIM_LEASE)
        )
        .update(claim_token=token, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        _handlers[message.kind](message.payload)
    except Exception as error:
        logger.exception("Outbox message %s (%s) failed.", message_id, message.kind)
        OutboxMessage.objects.filter(pk=message_id, claim_token=token).update(
            claimed_at=None, last_error=repr(error)[:2000]
        )
        return False
    OutboxMessage.objects.filter(pk=message_id, claim_token=token).update(done_at=timezone.now())
    return True


def outbox_sweep(*, now: dt.datetime | None = None) -> int:
    """Queue what is still undone (lost enqueue, dead worker); returns how many."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE),
        done_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
        created_at__lt=now - dt.timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS),
    ).values_list("pk", flat=True)[:1000]
    count = 0
    for message_id in pending:
        _enqueue(message_id)
        count += 1
    return count


@shared_task(name="coworking.outbox_deliver", bind=True, acks_late=True, reject_on_worker_lost=True)
def outbox_deliver_task(self, message_id: int) -> bool:
    return outbox_deliver(message_id, token=self.request.id)


@shared_task(name="coworking.outbox_sweep")
def outbox_sweep_task() -> int:
    return outbox_sweep()
