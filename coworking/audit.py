"""Writing audit rows: one call per write that matters."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEntry, Member


def audit_record(
    *,
    actor: Member | None,
    action: str,
    target: models.Model,
    space_id: int | None = None,
    detail: dict[str, Any] | None = None,
    target_id: str | None = None,
) -> AuditEntry:
    """`target_id` names the target when its pk does not fit or should not be copied (a partner
    key's pk embeds its hash: the audit row keeps its public prefix)."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target_id if target_id is not None else str(target.pk),
        space_id=space_id,
        detail=detail or {},
    )
