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
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        space_id=space_id,
        detail=detail or {},
    )
