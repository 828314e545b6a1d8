"""Monthly usage summaries: who gets one, and sending each at most once.

A SummaryDispatch row per (recipient, month) is created before anything is sent. Sending
follows a small state machine, each step a conditional UPDATE guarded by the claimant's token:

    pending -> building (claimed) -> sending -> sent

A worker that dies while *building* leaves the row claimed: after the lease another task takes
it over (nothing was sent yet). A worker that dies while *sending* — the few milliseconds of the
SMTP exchange — leaves it "sending"; it is never sent again (at most once) and is reported as
`unknown` after the lease.

The Celery task that sends one summary lives here, beside the function it runs, so that queueing
needs no import of a tasks module (`reports/tasks.py` gathers the tasks for the worker).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone

from coworking.months import month_last_day
from spaces.models import Membership
from spaces.selectors import co_manager_memberships

from .models import SummaryDispatch
from .summary_email import summary_message

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SUMMARY_CLAIM_LEASE_SECONDS)


def summary_recipients(month: dt.date) -> list[int]:
    """Co-managers of a space during the month, and members who asked for their recap."""
    first, last = month, month_last_day(month)
    during = Q(starts_on__lte=last) & (Q(ends_on__isnull=True) | Q(ends_on__gte=first))
    co_managers = (
        co_manager_memberships(first=first, last=last)
        .filter(member__is_active=True)
        .values_list("member_id", flat=True)
    )
    opted_in = Membership.objects.filter(
        during,
        status=Membership.Status.ACTIVE,
        member__is_active=True,
        member__monthly_recap=True,
    ).values_list("member_id", flat=True)
    return sorted(set(co_managers) | set(opted_in))


def summaries_plan(month: dt.date) -> list[int]:
    """Create the month's dispatch rows (idempotent) and return those still to send."""
    SummaryDispatch.objects.bulk_create(
        [
            SummaryDispatch(recipient_id=member_id, month=month)
            for member_id in summary_recipients(month)
        ],
        ignore_conflicts=True,
    )
    return list(_sendable(SummaryDispatch.objects.filter(month=month)).values_list("pk", flat=True))


def _sendable(queryset):
    stale = timezone.now() - _lease()
    return queryset.filter(
        Q(status=SummaryDispatch.Status.PENDING)
        | Q(status=SummaryDispatch.Status.BUILDING, claimed_at__lt=stale),
        attempts__lt=MAX_ATTEMPTS,
    )


def _queue(dispatch_ids: list[int]) -> int:
    queued = 0
    for dispatch_id in dispatch_ids:
        try:
            summary_send_task.apply_async((dispatch_id,), retry=False)
            queued += 1
        except Exception:  # broker down: summaries_resume (beat) queues it later
            logger.warning("Summary %s not queued (broker unavailable).", dispatch_id)
    return queued


def summaries_plan_and_queue(month: dt.date) -> int:
    """The monthly job: safe to run twice, by beat or by hand, for any month."""
    with transaction.atomic():
        dispatch_ids = summaries_plan(month)
    return _queue(dispatch_ids)


def summaries_resume() -> int:
    """Queue again what is pending or was lost while building; flag what died mid-send."""
    stale = timezone.now() - _lease()
    SummaryDispatch.objects.filter(
        status=SummaryDispatch.Status.SENDING, claimed_at__lt=stale
    ).update(status=SummaryDispatch.Status.UNKNOWN)
    # A worker that died while building on the last attempt left it "building": failed.
    SummaryDispatch.objects.filter(
        status=SummaryDispatch.Status.BUILDING, claimed_at__lt=stale, attempts__gte=MAX_ATTEMPTS
    ).update(status=SummaryDispatch.Status.FAILED)
    return _queue(list(_sendable(SummaryDispatch.objects.all()).values_list("pk", flat=True)))


def dispatches_needing_attention(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Summaries that no job will send by itself, for a person to look at: `unknown` (the
    worker died during the SMTP exchange, whether or not `summaries_resume` has flagged it yet)
    and `dead` (out of attempts, or failed)."""
    stale = (now or timezone.now()) - _lease()
    unknown = Q(status=SummaryDispatch.Status.UNKNOWN) | Q(
        status=SummaryDispatch.Status.SENDING, claimed_at__lt=stale
    )
    out_of_attempts = Q(attempts__gte=MAX_ATTEMPTS) & (
        Q(status=SummaryDispatch.Status.PENDING)
        | Q(status=SummaryDispatch.Status.BUILDING, claimed_at__lt=stale)
    )
    dead = Q(status=SummaryDispatch.Status.FAILED) | out_of_attempts
    return SummaryDispatch.objects.aggregate(
        unknown=Count("pk", filter=unknown), dead=Count("pk", filter=dead)
    )


def _pending_or_failed() -> Case:
    """After a failed attempt: pending again, or failed for good if it was the last one, so
    that no row out of attempts is left looking as if a job would still send it."""
    return Case(
        When(attempts__gte=MAX_ATTEMPTS, then=Value(SummaryDispatch.Status.FAILED)),
        default=Value(SummaryDispatch.Status.PENDING),
    )


def summary_send(dispatch_id: int, *, token: str | None = None) -> str:
    """Build and send one summary if this caller wins the claim; returns what happened."""
    token = token or uuid.uuid4().hex
    now = timezone.now()
    # 1. Claim: pending, or our own earlier claim (the same task redelivered), or a claim whose
    #    worker died while building (lease over: nothing was sent).
    claimed = (
        SummaryDispatch.objects.filter(pk=dispatch_id, attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(status=SummaryDispatch.Status.PENDING)
            | Q(status=SummaryDispatch.Status.BUILDING, claim_token=token)
            | Q(status=SummaryDispatch.Status.BUILDING, claimed_at__lt=now - _lease())
        )
        .update(
            status=SummaryDispatch.Status.BUILDING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return "skipped"
    dispatch = SummaryDispatch.objects.select_related("recipient").get(pk=dispatch_id)
    # 2. Build (the slow part: figures and charts).
    try:
        message = summary_message(dispatch.recipient, dispatch.month)
    except Exception as error:
        logger.exception("Summary %s could not be built.", dispatch_id)
        SummaryDispatch.objects.filter(pk=dispatch_id, claim_token=token).update(
            status=_pending_or_failed(), last_error=repr(error)[:2000]
        )
        return "build_failed"
    # 3. Only the claimant moves it to "sending", and only once.
    if not SummaryDispatch.objects.filter(
        pk=dispatch_id, claim_token=token, status=SummaryDispatch.Status.BUILDING
    ).update(status=SummaryDispatch.Status.SENDING):
        return "claim_lost"
    # 4. Send, then record.
    try:
        message.send()
    except Exception as error:
        logger.exception("Summary %s could not be sent.", dispatch_id)
        # The mail server refused it: nothing left, so it may be tried again.
        SummaryDispatch.objects.filter(pk=dispatch_id, claim_token=token).update(
            status=_pending_or_failed(), last_error=repr(error)[:2000]
        )
        return "send_failed"
    SummaryDispatch.objects.filter(pk=dispatch_id, claim_token=token).update(
        status=SummaryDispatch.Status.SENT, sent_at=timezone.now()
    )
    return "sent"


@shared_task(name="coworking.summary_send", bind=True, acks_late=True, reject_on_worker_lost=True)
def summary_send_task(self, dispatch_id: int) -> str:
    return summary_send(dispatch_id, token=self.request.id)
