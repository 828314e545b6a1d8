"""The part of a member's data that `reports` holds, for the export (coworking/privacy.py).
Erasure keeps the record of the summaries sent: it names the anonymous member only."""

from __future__ import annotations

from coworking.models import Member
from coworking.privacy import Rows, export_rows

from .models import SummaryDispatch


def summaries_export(member: Member) -> dict[str, Rows]:
    return {
        "monthly_summaries": export_rows(
            SummaryDispatch.objects.filter(recipient=member), ["month", "status", "sent_at"]
        ),
    }
