"""What `passes` listens to on lower floors (connected in apps.py): coworking cannot call up."""

from __future__ import annotations

from typing import Any

from coworking.models import Member

from .services import passes_follow_account


def member_saved(
    sender: type[Member], instance: Member, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    """A member deactivated or reactivated (admin, erasure…): offline scanners must learn it."""
    if created and instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return  # e.g. `last_login` at each login: the account's state did not change
    passes_follow_account(member=instance)
