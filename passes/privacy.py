"""The part of a member's data that `passes` holds, for export and erasure (coworking/privacy.py),
and how long raw scans are kept."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from coworking.models import Member
from coworking.privacy import Rows, export_rows

from .models import Pass, RevocationEvent, Scan, Visit


def passes_export(member: Member) -> dict[str, Rows]:
    return {
        "passes": export_rows(
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
        "visits": export_rows(
            Visit.objects.filter(member=member).order_by("date"),
            ["id", "date", "host__slug", "home__slug", "uses_allowance", "flagged", "flag_reason"],
        ),
        "scans": export_rows(
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
    }


def passes_erase(member: Member, *, actor: Member | None, now: dt.datetime) -> None:
    """Passes are revoked (offline scanners learn it from the revocation list); scans keep
    their decision and reason, not what was read at the door. Visits (the figures) stay."""
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
    Scan.objects.filter(pass_obj__member=member).update(credential="", response={})


def scans_purge(*, now: dt.datetime | None = None) -> int:
    """Delete raw scans older than SCAN_RETENTION_DAYS; visits (the figures) stay."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.SCAN_RETENTION_DAYS)
    _total, by_model = Scan.objects.filter(received_at__lt=cutoff).delete()
    return by_model.get(Scan._meta.label, 0)
