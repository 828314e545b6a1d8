"""Writes on passes: issuing, suspending, revoking, and signing credentials."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coworking.audit import audit_record
from coworking.models import Member
from spaces.models import Membership
from spaces.selectors import is_co_manager

from . import codec
from .keys import CARD_LIFETIME, Signer, signing_key
from .models import Network, NetworkSpace, Pass, RevocationEvent, SigningKey


class PassError(Exception):
    """A pass operation was refused; `code` is stable and machine-readable."""

    MESSAGES = {
        "forbidden": _("Seul·es les co-gérant·es du lieu d'origine peuvent modifier ce pass."),
        "reason_required": _("Indiquez un motif : il est gardé dans le journal."),
        "invalid_transition": _("Impossible depuis l'état actuel du pass."),
        "not_in_network": _("Le lieu d'origine ne fait pas partie de ce réseau."),
        "membership_inactive": _("Seule une adhésion active donne droit à un ch'tipass."),
        "account_inactive": _("Ce compte est désactivé : pas de ch'tipass."),
        "pass_exists": _("Ce membre a déjà un ch'tipass dans ce réseau."),
    }

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(message or self.MESSAGES.get(code, code))
        super().__init__(f"{code}: {self.message}")


# A rotating credential lives a few windows, enough for the accepted counter range.
ROTATING_LIFETIME = dt.timedelta(seconds=codec.WINDOW_SECONDS * 3)
MAX_PRELOADED_WINDOWS = 24 * 60 * 2  # one day of 30-second windows


def pass_issue_check(*, membership: Membership, network) -> None:
    """Raise the PassError that issuing would meet (nothing is written)."""
    if not NetworkSpace.objects.filter(network=network, space_id=membership.space_id).exists():
        raise PassError("not_in_network")
    if membership.status != Membership.Status.ACTIVE:
        raise PassError("membership_inactive")
    if not Member.objects.filter(pk=membership.member_id, is_active=True).exists():
        raise PassError("account_inactive")  # a scan would refuse it at once
    existing = Pass.objects.filter(member_id=membership.member_id, network=network).exclude(
        status=Pass.Status.REVOKED
    )
    if existing.exists():
        raise PassError("pass_exists")


@transaction.atomic
def pass_issue(*, membership: Membership, network, actor: Member | None = None) -> Pass:
    """Issue the member's ch'tipass in `network` from their home membership."""
    pass_issue_check(membership=membership, network=network)
    try:
        with transaction.atomic():
            issued = Pass.objects.create(
                network=network, membership=membership, member_id=membership.member_id
            )
    except IntegrityError:  # issued concurrently: the unique constraint decided
        raise PassError("pass_exists") from None
    audit_record(actor=actor, action="pass.issue", target=issued, space_id=membership.space_id)
    return issued


def _change_status(
    pass_obj: Pass, *, status: str, action: str, actor: Member, reason: str, allowed_from: set[str]
) -> Pass:
    if not is_co_manager(actor, pass_obj.membership.space_id):
        raise PassError("forbidden")
    if not reason.strip():
        raise PassError("reason_required")
    with transaction.atomic():
        # Lock the network first: revocation events must commit in id order, or a scanner
        # syncing `since=N` could miss an event numbered below N that committed late.
        # NO KEY locks: scans inserting visits that reference these rows are not blocked.
        Network.objects.select_for_update(no_key=True).filter(pk=pass_obj.network_id).first()
        locked = Pass.objects.select_for_update(no_key=True).get(pk=pass_obj.pk)
        if locked.status not in allowed_from:
            raise PassError("invalid_transition")
        locked.status = status
        locked.status_changed_at = timezone.now()
        locked.status_reason = reason
        locked.save(update_fields=["status", "status_changed_at", "status_reason"])
        RevocationEvent.objects.create(
            network_id=locked.network_id, pass_obj=locked, action=action, actor=actor, reason=reason
        )
        audit_record(
            actor=actor,
            action=f"pass.{action}",
            target=locked,
            space_id=locked.membership.space_id,
            detail={"reason": reason},
        )
    return locked


def pass_suspend(*, pass_obj: Pass, actor: Member, reason: str) -> Pass:
    return _change_status(
        pass_obj,
        status=Pass.Status.SUSPENDED,
        action="suspend",
        actor=actor,
        reason=reason,
        allowed_from={Pass.Status.ACTIVE},
    )


def pass_reinstate(*, pass_obj: Pass, actor: Member, reason: str) -> Pass:
    return _change_status(
        pass_obj,
        status=Pass.Status.ACTIVE,
        action="reinstate",
        actor=actor,
        reason=reason,
        allowed_from={Pass.Status.SUSPENDED},
    )


def pass_revoke(*, pass_obj: Pass, actor: Member, reason: str) -> Pass:
    """Revoke for good; a new pass may be issued afterwards."""
    return _change_status(
        pass_obj,
        status=Pass.Status.REVOKED,
        action="revoke",
        actor=actor,
        reason=reason,
        allowed_from={Pass.Status.ACTIVE, Pass.Status.SUSPENDED},
    )


def passes_follow_account(*, member: Member) -> int:
    """Tell offline scanners that `member`'s account was deactivated or reactivated.

    Online scans read `Member.is_active` themselves (`account_inactive`); the revocation list
    needs an event per pass that is not revoked, whenever the account's state differs from the
    last one recorded for that pass. Idempotent: returns the number of events written.
    """
    action = (
        RevocationEvent.Action.REACTIVATE if member.is_active else RevocationEvent.Action.DEACTIVATE
    )
    account_events = (RevocationEvent.Action.DEACTIVATE, RevocationEvent.Action.REACTIVATE)
    written = 0
    with transaction.atomic():
        passes = list(
            Pass.objects.filter(member=member).exclude(status=Pass.Status.REVOKED).order_by("id")
        )
        if not passes:
            return 0
        # As in _change_status: networks locked first, so that events commit in id order.
        network_ids = sorted({pass_obj.network_id for pass_obj in passes})
        list(
            Network.objects.select_for_update(no_key=True).filter(pk__in=network_ids).order_by("id")
        )
        for pass_obj in passes:
            last = (
                RevocationEvent.objects.filter(pass_obj=pass_obj, action__in=account_events)
                .order_by("-id")
                .values_list("action", flat=True)
                .first()
            )
            # A pass starts with an active account: only a change is worth an event.
            if (last or RevocationEvent.Action.REACTIVATE) != action:
                RevocationEvent.objects.create(
                    network_id=pass_obj.network_id,
                    pass_obj=pass_obj,
                    action=action,
                    reason="account",
                )
                written += 1
    return written


def _sign(
    pass_obj: Pass,
    signed_by: tuple[SigningKey, Ed25519PrivateKey],
    *,
    issued: dt.datetime,
    expires: dt.datetime,
    counter: int,
) -> str:
    key, private_key = signed_by
    claims = codec.Claims(
        kid=key.kid,
        pass_id=pass_obj.pk,
        member_id=pass_obj.member_id,
        home_space_id=pass_obj.membership.space_id,
        issued_at=int(issued.timestamp()),
        expires_at=int(expires.timestamp()),
        counter=counter,
    )
    return codec.encode(claims, private_key)


def credential_rotating(
    pass_obj: Pass, *, now: dt.datetime | None = None, windows: int = 1
) -> list[tuple[int, str]]:
    """Credentials for the current 30-second window and the `windows - 1` after it."""
    now = now or timezone.now()
    windows = max(1, min(windows, MAX_PRELOADED_WINDOWS))
    signer = Signer()
    first = codec.window_of(now.timestamp())
    result = []
    for counter in range(first, first + windows):
        window_start = dt.datetime.fromtimestamp(counter * codec.WINDOW_SECONDS, tz=dt.UTC)
        # A future window is signed as of its start, by the key that signs then; the current
        # one by the key that signs now, as of the window's start or, if that key is younger
        # than the window (`signing_keys ensure` just made it), as of its `not_before`.
        signed_by = signer.key_at(max(window_start, now))
        issued = max(window_start, signed_by[0].not_before)
        expires = window_start + ROTATING_LIFETIME
        result.append(
            (counter, _sign(pass_obj, signed_by, issued=issued, expires=expires, counter=counter))
        )
    return result


def credential_static(pass_obj: Pass, *, now: dt.datetime | None = None) -> str:
    """A printed-card credential (counter 0): accepted online only, after an ID check."""
    now = now or timezone.now()
    expires = now + CARD_LIFETIME
    if pass_obj.membership.ends_on:
        end = dt.datetime.combine(
            pass_obj.membership.ends_on + dt.timedelta(days=1),
            dt.time(),
            tzinfo=pass_obj.membership.space.tz,
        )
        expires = min(expires, end)
    return _sign(
        pass_obj, signing_key(now), issued=now, expires=expires, counter=codec.STATIC_COUNTER
    )
