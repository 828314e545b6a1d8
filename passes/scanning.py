"""Validating a ch'tipass at a host: the checks of SPEC §3, in order, and what is recorded.

Every attempt is stored as a Scan. An accepted scan records a Visit (one per member, host and
local day) and consumes the allowance with conditional UPDATEs, so that concurrent scans never
exceed it. Scans of one pass are serialized by locking the pass row (SQLite's IMMEDIATE
transactions already serialize all writers). A scanner's nonce belongs to the first credential
sent with it at a host: the database's unique constraint decides between concurrent ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from coworking.models import Member
from spaces.models import Space

from . import codec
from .keys import verifying_key
from .models import (
    AllowanceCounter,
    CounterUse,
    HostDayCounter,
    NetworkSpace,
    PartnerKey,
    Pass,
    Scan,
    Visit,
)
from .selectors import month_start

# What a Scan keeps of the text read (a ch'tipass is 145 characters).
_CREDENTIAL_KEPT = Scan._meta.get_field("credential").max_length

# Rules the offline device could not know about: an offline acceptance that breaks one of them
# is kept (the member did work there) but flagged for the co-managers.
SERVER_SIDE_REASONS = {
    "stale_code",
    "revoked",
    "suspended",
    "account_inactive",
    "membership_inactive",
    "host_full",
    "allowance_exhausted",
}


class Refusal(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Outcome:
    decision: str
    reason: str | None = None
    pass_obj: Pass | None = None
    claims: codec.Claims | None = None
    visit: Visit | None = None
    already_checked_in: bool = False
    flagged: bool = False
    replay_of: Scan | None = None
    allowance: dict[str, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanRequest:
    host: Space
    credential: str
    scanned_at: dt.datetime | None = None
    nonce: str | None = None
    offline: bool = False
    device_accepted: bool = True
    partner_key: PartnerKey | None = None
    scanned_by: Member | None = None


def _allowance(pass_obj: Pass, host: Space, day: dt.date) -> dict[str, int]:
    network = pass_obj.network
    used = dict(
        AllowanceCounter.objects.filter(
            member_id=pass_obj.member_id, network=network, month=month_start(day)
        ).values_list("host_id", "used")
    )
    network_left = max(network.monthly_visits - used.get(None, 0), 0)
    host_left = max(network.monthly_visits_per_host - used.get(host.pk, 0), 0)
    return {"network_left": network_left, "host_left": min(network_left, host_left)}


def _admit(
    request: ScanRequest,
    pass_obj: Pass,
    link: NetworkSpace | None,
    day: dt.date,
    *,
    force: bool,
    flag_reason: str = "",
) -> Visit:
    """Capacity and allowance, then the Visit. The caller's savepoint undoes all on refusal.

    Each limit is one conditional UPDATE: under concurrency the database, not a read made
    earlier, decides. `force` (an offline acceptance) counts the visit without limits.
    """
    host, network, member_id = request.host, pass_obj.network, pass_obj.member_id
    month = month_start(day)
    # Counters start at zero: create the missing ones, one statement per table.
    HostDayCounter.objects.bulk_create(
        [HostDayCounter(network=network, host=host, date=day)], ignore_conflicts=True
    )
    AllowanceCounter.objects.bulk_create(
        [
            AllowanceCounter(member_id=member_id, network=network, month=month, host=None),
            AllowanceCounter(member_id=member_id, network=network, month=month, host=host),
        ],
        ignore_conflicts=True,
    )
    host_day = HostDayCounter.objects.filter(network=network, host=host, date=day)
    allowance = AllowanceCounter.objects.filter(member_id=member_id, network=network, month=month)
    if force:
        allowance = allowance.filter(Q(host__isnull=True) | Q(host=host))
    else:
        host_day = host_day.filter(used__lt=link.daily_visitor_capacity)
        allowance = allowance.filter(
            Q(host__isnull=True, used__lt=network.monthly_visits)
            | Q(host=host, used__lt=network.monthly_visits_per_host)
        )
    if host_day.update(used=F("used") + 1) != 1:
        raise Refusal("host_full")
    if allowance.update(used=F("used") + 1) != 2:  # network-wide and at this host
        raise Refusal("allowance_exhausted")
    return Visit.objects.create(
        member_id=member_id,
        pass_obj=pass_obj,
        network=network,
        host=host,
        home_id=pass_obj.membership.space_id,
        date=day,
        uses_allowance=True,
        flagged=bool(flag_reason),
        flag_reason=flag_reason,
    )


def _evaluate(request: ScanRequest, moment: dt.datetime) -> Outcome:
    """Run the checks of SPEC §3 in order; the first failure is the reason."""
    host = request.host
    # 1–4. The credential itself: format, key, signature, validity window.
    try:
        claims = codec.verify(request.credential, lambda kid: verifying_key(kid, moment))
        codec.check_validity(claims, moment.timestamp())
    except codec.CredentialError as error:
        return Outcome("refused", error.code)
    outcome = Outcome("refused", claims=claims)
    if claims.is_static and request.offline:
        outcome.reason = "online_only"
        return outcome
    # The pass row lock serializes every scan of this pass.
    pass_obj = (
        # Only the pass row (OF self), and NO KEY: rows that merely reference it stay free.
        Pass.objects.select_for_update(no_key=True, of=("self",))
        .select_related("network", "membership__space", "member")
        .filter(
            pk=claims.pass_id, member_id=claims.member_id, membership__space_id=claims.home_space_id
        )
        .first()
    )
    if pass_obj is None:  # signed by us, but for a pass that no longer exists
        outcome.reason = "revoked"
        return outcome
    outcome.pass_obj = pass_obj
    # 5. A rotating code seen at another host is a shared screenshot; at this host, the camera
    #    read it again and gets the first answer.
    if not claims.is_static:
        use = (
            CounterUse.objects.select_related("first_scan")
            .filter(pass_obj=pass_obj, counter=claims.counter)
            .first()
        )
        if use is not None and use.host_id != host.pk:
            outcome.reason = "stale_code"
            return outcome
        if use is not None:
            outcome.replay_of = use.first_scan
            return outcome
    home = pass_obj.membership.space
    day = moment.astimezone(host.tz).date()
    # 6–8. Pass state, the member's account, home membership, network.
    if pass_obj.status != Pass.Status.ACTIVE:
        outcome.reason = pass_obj.status  # "revoked" or "suspended"
        return outcome
    if not pass_obj.member.is_active:  # deactivated (or erased): whatever the membership says
        outcome.reason = "account_inactive"
        return outcome
    if not pass_obj.membership.is_active_on(moment.astimezone(home.tz).date()):
        outcome.reason = "membership_inactive"
        return outcome
    is_home = host.pk == home.pk
    link = (
        None
        if is_home
        else NetworkSpace.objects.filter(network_id=pass_obj.network_id, space=host).first()
    )
    if not is_home and link is None:
        outcome.reason = "not_in_network"
        return outcome
    # Already here today: accepted again, nothing more is used.
    existing = Visit.objects.filter(member_id=pass_obj.member_id, host=host, date=day).first()
    if existing is not None:
        outcome.decision, outcome.visit, outcome.already_checked_in = "accepted", existing, True
        return outcome
    if is_home:  # a check-in at home uses no allowance
        outcome.decision = "accepted"
        outcome.visit = Visit.objects.create(
            member_id=pass_obj.member_id,
            pass_obj=pass_obj,
            network_id=pass_obj.network_id,
            host=host,
            home=home,
            date=day,
            uses_allowance=False,
        )
        return outcome
    # 9–10. Capacity and allowance, then the Visit, all or nothing.
    try:
        with transaction.atomic():
            outcome.visit = _admit(request, pass_obj, link, day, force=False)
    except Refusal as refusal:
        outcome.reason = refusal.reason
        return outcome
    outcome.decision = "accepted"
    return outcome


def _flag_offline_acceptance(request: ScanRequest, outcome: Outcome, moment: dt.datetime) -> None:
    """The device let the member in while offline, but a server-side rule says no: keep the
    visit (it happened) and flag it for review."""
    pass_obj = outcome.pass_obj
    day = moment.astimezone(request.host.tz).date()
    reason = outcome.reason
    outcome.flagged = True
    outcome.extra["flag_reason"] = reason
    existing = Visit.objects.filter(
        member_id=pass_obj.member_id, host=request.host, date=day
    ).first()
    if existing is not None:
        outcome.decision, outcome.visit, outcome.already_checked_in = "accepted", existing, True
        return
    if request.host.pk == pass_obj.membership.space_id:
        outcome.visit = Visit.objects.create(
            member_id=pass_obj.member_id,
            pass_obj=pass_obj,
            network_id=pass_obj.network_id,
            host=request.host,
            home_id=request.host.pk,
            date=day,
            uses_allowance=False,
            flagged=True,
            flag_reason=reason,
        )
    else:
        outcome.visit = _admit(request, pass_obj, None, day, force=True, flag_reason=reason)
    outcome.decision = "accepted"


def _visitor(pass_obj: Pass) -> dict[str, Any]:
    member = pass_obj.member
    return {
        "first_name": member.first_name,
        "photo_url": member.photo.url if member.photo else None,
        "home_space": pass_obj.membership.space.name,
    }


def _response(request: ScanRequest, outcome: Outcome, moment: dt.datetime) -> dict[str, Any]:
    accepted = outcome.decision == "accepted"
    visit = outcome.visit
    allowance = None
    if outcome.pass_obj is not None and (accepted or outcome.reason == "allowance_exhausted"):
        allowance = _allowance(
            outcome.pass_obj, request.host, moment.astimezone(request.host.tz).date()
        )
    return {
        "decision": outcome.decision,
        "reason": None if accepted else outcome.reason,
        "already_checked_in": outcome.already_checked_in,
        "visit": (
            {"id": visit.pk, "date": visit.date.isoformat(), "host": request.host.slug}
            if accepted and visit
            else None
        ),
        "visitor": _visitor(outcome.pass_obj) if accepted else None,
        "allowance": allowance,
        "id_check_required": bool(accepted and outcome.claims and outcome.claims.is_static),
        "offline": request.offline,
        "flagged": outcome.flagged,
        "flag_reason": outcome.extra.get("flag_reason"),
        "nonce": request.nonce,
    }


def _stored(request: ScanRequest, received_at: dt.datetime, **fields: Any) -> Scan:
    return Scan.objects.create(
        host=request.host,
        partner_key=request.partner_key,
        scanned_by=request.scanned_by,
        credential=request.credential[:_CREDENTIAL_KEPT],
        scanned_at=request.scanned_at or received_at,
        received_at=received_at,
        offline=request.offline,
        nonce=request.nonce or None,
        **fields,
    )


def _nonce_reused(request: ScanRequest, moment: dt.datetime) -> Outcome:
    """A nonce already used at this host with another credential: refused, and stored with what
    the credential says if it is genuine (nothing of the first scan's answer is given)."""
    outcome = Outcome("refused", "nonce_reused")
    try:
        outcome.claims = codec.verify(request.credential, lambda kid: verifying_key(kid, moment))
    except codec.CredentialError:
        pass
    else:
        outcome.pass_obj = Pass.objects.filter(
            pk=outcome.claims.pass_id, member_id=outcome.claims.member_id
        ).first()
    return outcome


def _answer_to_used_nonce(
    request: ScanRequest, received_at: dt.datetime, moment: dt.datetime
) -> dict[str, Any] | None:
    """The answer to a nonce already used at this host, or None if it is new here.

    The same credential gets the first answer again (a retried upload, a camera reading twice);
    another credential is refused (`nonce_reused`) and stored, once per credential.
    """
    if not request.nonce:
        return None
    credential = request.credential[:_CREDENTIAL_KEPT]
    used_here = Scan.objects.filter(host=request.host, nonce=request.nonce)
    first = used_here.exclude(reason=Scan.Reason.NONCE_REUSED).first()
    if first is None:
        return None
    if first.credential == credential:
        return first.response
    refused = used_here.filter(reason=Scan.Reason.NONCE_REUSED, credential=credential).first()
    if refused is not None:
        return refused.response
    outcome = _nonce_reused(request, moment)
    response = _response(request, outcome, moment)
    try:
        with transaction.atomic():
            _stored(
                request,
                received_at,
                kid=outcome.claims.kid if outcome.claims else None,
                counter=outcome.claims.counter if outcome.claims else None,
                pass_obj=outcome.pass_obj,
                decision=outcome.decision,
                reason=outcome.reason,
                response=response,
            )
    except IntegrityError:  # the same upload raced in: it has been stored once
        return used_here.get(reason=Scan.Reason.NONCE_REUSED, credential=credential).response
    return response


def scan_record(request: ScanRequest, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Validate one credential at `request.host`, store the Scan and answer as SPEC §5 says.

    A nonce belongs to the first scan that used it at this host: the same credential with it
    answers what it answered then, and records nothing more; another credential is refused.
    """
    received_at = now or timezone.now()
    scanned_at = request.scanned_at or received_at
    # Online, the server's clock decides; offline, the moment the device saw the code (never
    # later than its arrival here).
    moment = min(scanned_at, received_at) if request.offline else received_at
    answer = _answer_to_used_nonce(request, received_at, moment)
    if answer is not None:
        return answer
    try:
        with transaction.atomic():
            outcome = _evaluate(request, moment)
            if (
                request.offline
                and request.device_accepted
                and outcome.decision == "refused"
                and outcome.reason in SERVER_SIDE_REASONS
                and outcome.pass_obj is not None
            ):
                _flag_offline_acceptance(request, outcome, moment)
            if outcome.replay_of is not None:
                first = outcome.replay_of
                response = {**first.response, "nonce": request.nonce, "offline": request.offline}
                outcome.decision, outcome.reason = first.decision, first.reason or None
                outcome.visit, outcome.already_checked_in = first.visit, first.already_checked_in
            else:
                response = _response(request, outcome, moment)
            scan = _stored(
                request,
                received_at,
                kid=outcome.claims.kid if outcome.claims else None,
                counter=outcome.claims.counter if outcome.claims else None,
                pass_obj=outcome.pass_obj,
                decision=outcome.decision,
                reason=outcome.reason or "",
                already_checked_in=outcome.already_checked_in,
                flagged=outcome.flagged,
                visit=outcome.visit,
                response=response,
            )
            if (
                outcome.claims
                and not outcome.claims.is_static
                and outcome.pass_obj
                and outcome.replay_of is None
                and outcome.reason != "stale_code"
            ):
                CounterUse.objects.create(
                    pass_obj=outcome.pass_obj,
                    counter=outcome.claims.counter,
                    host=request.host,
                    first_scan=scan,
                )
    except IntegrityError:
        # The same nonce raced in (a retry, or another credential): everything above was undone,
        # and the first scan decides what this one gets.
        answer = _answer_to_used_nonce(request, received_at, moment)
        if answer is None:
            raise
        return answer
    return response


MAX_BATCH = 500


def scan_batch(requests: list[ScanRequest], *, now: dt.datetime | None = None) -> list[dict]:
    """Offline uploads, in order, each in its own transaction and idempotent by nonce."""
    return [scan_record(request, now=now) for request in requests]
