"""GDPR: a member's data as JSON, and erasure that anonymizes the person but keeps the figures.

This ground floor knows only the member row and its own tables (API tokens, audit log). Every
app above registers the part it holds with `privacy_register` in its `AppConfig.ready`
(`spaces/privacy.py`, `passes/privacy.py`, `reports/privacy.py`), as `spaces` asks the floors
above through `guest_policies`: no module here knows every table.

Erasure keeps the rows that usage and settlement count (past bookings, visits) attached to an
anonymous member, so that every space's figures stay exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .audit import audit_record
from .models import AuditEntry, Member, MemberToken

Rows = list[dict[str, Any]]
Exporter = Callable[[Member], dict[str, Rows]]


class Eraser(Protocol):
    def __call__(self, member: Member, *, actor: Member | None, now: dt.datetime) -> None: ...


@dataclass(frozen=True)
class PrivacyPart:
    name: str
    export: Exporter
    erase: Eraser | None
    rank: int


# Where each part's sections sit in the exported document: what the person belongs to (spaces),
# their passes and visits, their credentials, what was sent to them, what they did. A fixed
# order keeps the document the same whichever app registers first.
RANK_SPACES, RANK_PASSES, RANK_CREDENTIALS, RANK_SENT, RANK_ACTIONS = 10, 20, 30, 40, 50

_parts: dict[str, PrivacyPart] = {}


def privacy_register(
    name: str, *, export: Exporter, erase: Eraser | None = None, rank: int = RANK_SENT
) -> None:
    """Add an app's part to every export and erasure (called from `AppConfig.ready`)."""
    _parts[name] = PrivacyPart(name=name, export=export, erase=erase, rank=rank)


def _ordered_parts() -> list[PrivacyPart]:
    return sorted(_parts.values(), key=lambda part: part.rank)


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def export_rows(queryset: QuerySet, fields: list[str]) -> Rows:
    """`fields` of each row of `queryset`, dates as ISO text: one section of the export."""
    return [{key: iso(value) for key, value in row.items()} for row in queryset.values(*fields)]


def _own_export(member: Member) -> dict[str, Rows]:
    return {
        "api_tokens": export_rows(
            MemberToken.objects.filter(member=member), ["prefix", "created_at", "expires_at"]
        ),
    }


def _actions_export(member: Member) -> dict[str, Rows]:
    return {
        "actions_in_audit_log": export_rows(
            AuditEntry.objects.filter(actor=member), ["at", "action", "target_type", "target_id"]
        ),
    }


privacy_register("api_tokens", export=_own_export, rank=RANK_CREDENTIALS)
privacy_register("audit_log", export=_actions_export, rank=RANK_ACTIONS)


def member_export(member: Member) -> dict[str, Any]:
    """Everything ch'tipass holds about `member`, in one JSON-ready document."""
    document: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": member.pk,
            "email": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "language": member.language,
            "photo": member.photo.url if member.photo else None,
            "monthly_recap": member.monthly_recap,
            "date_joined": iso(member.date_joined),
            "last_login": iso(member.last_login),
        },
    }
    for part in _ordered_parts():
        document.update(part.export(member))
    return document


ERASED_DOMAIN = "erased.invalid"


@transaction.atomic
def member_erase(member: Member, *, actor: Member | None, reason: str = "") -> Member:
    """Anonymize `member` for good. Figures (past bookings, visits) keep their counts."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    now = timezone.now()
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
    # 2. What each app holds: memberships end, passes are revoked, future bookings are
    #    cancelled, traces that carry their name or code are cleared (each app's privacy.py).
    for part in _ordered_parts():
        if part.erase is not None:
            part.erase(member, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="member.erase",
        target=member,
        detail={"reason": reason} if reason else {},
    )
    return member
