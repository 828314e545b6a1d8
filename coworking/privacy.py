"""GDPR: a member's data as JSON, and erasure that anonymizes the person but keeps the figures.

Erasure keeps the rows that usage and settlement count (past bookings, visits) attached to an
anonymous member, so that every space's figures stay exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from passes.models import Pass, RevocationEvent, Scan, Visit
from spaces.models import Booking, BookingSeries, Membership, TrainingRecord

from .audit import audit_record
from .models import AuditEntry, Member, MemberToken, SummaryDispatch


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _rows(queryset, fields: list[str]) -> list[dict[str, Any]]:
    return [{key: _iso(value) for key, value in row.items()} for row in queryset.values(*fields)]


def member_export(member: Member) -> dict[str, Any]:
    """Everything ch'tipass holds about `member`, in one JSON-ready document."""
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": member.pk,
            "email": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "language": member.language,
            "photo": member.photo.url if member.photo else None,
            "monthly_recap": member.monthly_recap,
            "date_joined": _iso(member.date_joined),
            "last_login": _iso(member.last_login),
        },
        "memberships": _rows(
            member.memberships.order_by("id"),
            ["id", "space__slug", "plan__name", "status", "role", "starts_on", "ends_on"],
        ),
        "trainings": _rows(
            TrainingRecord.objects.filter(member=member),
            ["training__name", "training__space__slug", "granted_on", "expires_on"],
        ),
        "bookings": _rows(
            Booking.objects.filter(member=member).order_by("start"),
            [
                "id",
                "resource__name",
                "resource__space__slug",
                "start",
                "end",
                "status",
                "note",
                "created_at",
                "cancelled_at",
            ],
        ),
        "booking_series": _rows(
            BookingSeries.objects.filter(member=member),
            ["id", "resource__name", "until", "created_at"],
        ),
        "passes": _rows(
            Pass.objects.filter(member=member),
            [
                "id",
                "network__slug",
                "membership__space__slug",
                "status",
                "issued_at",
                "status_changed_at",
                "status_reason",
            ],
        ),
        "visits": _rows(
            Visit.objects.filter(member=member).order_by("date"),
            ["id", "date", "host__slug", "home__slug", "uses_allowance", "flagged", "flag_reason"],
        ),
        "scans": _rows(
            Scan.objects.filter(pass_obj__member=member).order_by("received_at"),
            [
                "id",
                "host__slug",
                "scanned_at",
                "received_at",
                "decision",
                "reason",
                "offline",
                "flagged",
            ],
        ),
        "api_tokens": _rows(
            MemberToken.objects.filter(member=member), ["prefix", "created_at", "expires_at"]
        ),
        "monthly_summaries": _rows(
            SummaryDispatch.objects.filter(recipient=member), ["month", "status", "sent_at"]
        ),
        "actions_in_audit_log": _rows(
            AuditEntry.objects.filter(actor=member), ["at", "action", "target_type", "target_id"]
        ),
    }


ERASED_DOMAIN = "erased.invalid"


@transaction.atomic
def member_erase(member: Member, *, actor: Member | None, reason: str = "") -> Member:
    """Anonymize `member` for good. Figures (past bookings, visits) keep their counts."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    now = timezone.now()
    today = timezone.localdate()
    # 1. The person: nothing left that identifies them; they cannot log in any more, and
    #    saving the new password and `is_active` revokes their API tokens (`Member.save`).
    if member.photo:
        member.photo.delete(save=False)
    member.email = f"erased-{member.pk}@{ERASED_DOMAIN}"
    member.first_name, member.last_name = "—", ""
    member.set_unusable_password()
    member.is_active = member.is_staff = member.is_superuser = member.monthly_recap = False
    member.rotate_calendar_token()
    member.save()
    TrainingRecord.objects.filter(member=member).delete()
    # 2. What they could still use: memberships end, passes are revoked (offline scanners
    #    learn it from the revocation list), future bookings are cancelled.
    Membership.objects.filter(member=member).exclude(status=Membership.Status.ENDED).update(
        status=Membership.Status.ENDED, ends_on=today
    )
    for pass_obj in Pass.objects.filter(member=member).exclude(status=Pass.Status.REVOKED):
        pass_obj.status, pass_obj.status_changed_at = Pass.Status.REVOKED, now
        pass_obj.status_reason = "erasure"
        pass_obj.save(update_fields=["status", "status_changed_at", "status_reason"])
        RevocationEvent.objects.create(
            network_id=pass_obj.network_id,
            pass_obj=pass_obj,
            action=RevocationEvent.Action.REVOKE,
            actor=actor,
            reason="erasure",
        )
    Booking.objects.filter(member=member, start__gt=now, status=Booking.Status.CONFIRMED).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=actor
    )
    Booking.objects.filter(member=member).exclude(note="").update(note="")
    # 3. Traces that carry their name or code: scans keep decision and reason, not the rest.
    Scan.objects.filter(pass_obj__member=member).update(credential="", response={})
    audit_record(
        actor=actor,
        action="member.erase",
        target=member,
        detail={"reason": reason} if reason else {},
    )
    return member


def scans_purge(*, now: dt.datetime | None = None) -> int:
    """Delete raw scans older than SCAN_RETENTION_DAYS; visits (the figures) stay."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.SCAN_RETENTION_DAYS)
    _total, by_model = Scan.objects.filter(received_at__lt=cutoff).delete()
    return by_model.get(Scan._meta.label, 0)
