"""Validating a ch'tipass at a host: the checks of SPEC §3, in order, and what is recorded.

Every attempt is stored as a Scan. An accepted scan records a Visit (one per member, host and
local day) and consumes the allowance. Nothing is locked ahead: the checks read the pass and
all they need in one statement, then each write is one the database decides: the Visit and a
rotating code's first use are unique, the counters move with `INSERT … ON CONFLICT` and
`UPDATE … WHERE used < limit` (passes/counters.py). A write that loses to a concurrent scan
(a visit made, a code used, a nonce taken meanwhile) undoes the attempt and the scan is decided
again on what won. A scanner's nonce belongs to the first credential sent with it at a host.
The same SQL runs on PostgreSQL and SQLite; benchmarks/SCANS.md says what a scan costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from coworking.models import Member
from coworking.months import month_first
from spaces.models import Space

from . import codec
from .counters import AdmissionCounters
from .keys import verifying_key, verifying_key_of
from .models import (
    AllowanceCounter,
    CounterUse,
    Network,
    PartnerKey,
    Pass,
    Scan,
    Visit,
)
from .rows import insert
from .scan_read import ScanRead, pass_for_scan
from .selectors import visits_left

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
    read: ScanRead | None = None
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


def _visit_create(
    request: ScanRequest, pass_obj: Pass, day: dt.date, *, uses_allowance: bool, flag_reason: str
) -> Visit:
    visit = Visit(
        member_id=pass_obj.member_id,
        pass_obj=pass_obj,
        network_id=pass_obj.network_id,
        host=request.host,
        home_id=pass_obj.membership.space_id,
        date=day,
        uses_allowance=uses_allowance,
        flagged=bool(flag_reason),
        flag_reason=flag_reason,
    )
    insert(visit)
    return visit


def _admit(
    request: ScanRequest,
    pass_obj: Pass,
    capacity: int | None,
    day: dt.date,
    known: dict[int | None, int | None],
    *,
    force: bool,
    flag_reason: str = "",
) -> tuple[Visit, dict[str, int]]:
    """The Visit, then capacity and allowance; refused, nothing is left written.

    `force` (an offline acceptance) counts the visit without limits. Returns the visit and
    the allowance left afterwards.
    """
    host, network = request.host, pass_obj.network
    # The Visit first: if another scan made it meanwhile, its unique constraint stops this
    # one before any counter moves (the next attempt answers `already_checked_in`).
    visit = _visit_create(request, pass_obj, day, uses_allowance=True, flag_reason=flag_reason)
    counters = AdmissionCounters(visit)
    if not counters.host_day(network.pk, host.pk, day, None if force else capacity):
        counters.undo()
        raise Refusal("host_full")
    limits = {
        None: None if force else network.monthly_visits,
        host.pk: None if force else network.monthly_visits_per_host,
    }
    used = counters.allowance(pass_obj.member_id, network.pk, month_first(day), limits, known)
    if used is None:
        counters.undo()
        raise Refusal("allowance_exhausted")
    return visit, _allowance(network, network_used=used[None], host_used=used[host.pk])


def _allowance(network: Network, *, network_used: int | None, host_used: int | None) -> dict:
    left = visits_left(network, network_used=network_used or 0, host_used=host_used or 0)
    return {"network_left": left.network_left, "host_left": left.host_left}


def _evaluate(request: ScanRequest, moment: dt.datetime) -> Outcome:
    """Run the checks of SPEC §3 in order; the first failure is the reason."""
    host = request.host
    day = moment.astimezone(host.tz).date()
    # 1. The format, read before anything else: a text that is no ch'tipass costs no query.
    try:
        claims = codec.decode(request.credential)[0]
    except codec.CredentialError as error:
        return Outcome("refused", error.code)
    read = pass_for_scan(claims, host, day)
    # 2–4. Key, signature, validity window (the key comes with the pass, or alone if none).
    try:
        if read is not None:
            key = verifying_key_of(read.signing_key, moment)
            claims = codec.verify(request.credential, lambda kid: key)
        else:
            claims = codec.verify(request.credential, lambda kid: verifying_key(kid, moment))
        codec.check_validity(claims, moment.timestamp())
    except codec.CredentialError as error:
        return Outcome("refused", error.code)
    outcome = Outcome("refused", claims=claims)
    if claims.is_static and request.offline:
        outcome.reason = "online_only"
        return outcome
    if read is None:  # signed by us, but for a pass that no longer exists
        outcome.reason = "revoked"
        return outcome
    pass_obj = read.pass_obj
    outcome.pass_obj, outcome.read = pass_obj, read
    known = {None: read.network_used, host.pk: read.host_used}
    outcome.allowance = _allowance(
        pass_obj.network, network_used=read.network_used, host_used=read.host_used
    )
    # 5. A rotating code seen at another host is a shared screenshot; at this host, the camera
    #    read it again and gets the first answer.
    if not claims.is_static and read.use_host is not None and read.use_scan is not None:
        if read.use_host != host.pk:
            outcome.reason = "stale_code"
            return outcome
        outcome.replay_of = Scan.objects.get(pk=read.use_scan)
        return outcome
    home = pass_obj.membership.space
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
    if not is_home and read.link_capacity is None:
        outcome.reason = "not_in_network"
        return outcome
    # Already here today: accepted again, nothing more is used.
    if read.visit_today is not None:
        outcome.decision, outcome.already_checked_in = "accepted", True
        outcome.visit = Visit(pk=read.visit_today, date=day)
        return outcome
    outcome.decision = "accepted"
    if is_home:  # a check-in at home uses no allowance
        outcome.visit = _visit_create(request, pass_obj, day, uses_allowance=False, flag_reason="")
        return outcome
    # 9–10. Capacity and allowance, with the Visit, all or nothing.
    try:
        outcome.visit, outcome.allowance = _admit(
            request, pass_obj, read.link_capacity, day, known, force=False
        )
    except Refusal as refusal:
        outcome.decision, outcome.reason = "refused", refusal.reason
        if refusal.reason == "allowance_exhausted":  # the read may predate the refusing scan
            outcome.allowance = _allowance_now(pass_obj, host, day)
    return outcome


def _allowance_now(pass_obj: Pass, host: Space, day: dt.date) -> dict[str, int]:
    used: dict[int | None, int] = dict(
        AllowanceCounter.objects.filter(
            member_id=pass_obj.member_id, network_id=pass_obj.network_id, month=month_first(day)
        ).values_list("host_id", "used")
    )
    return _allowance(pass_obj.network, network_used=used.get(None), host_used=used.get(host.pk))


def _flag_offline_acceptance(request: ScanRequest, outcome: Outcome, moment: dt.datetime) -> None:
    """The device let the member in while offline, but a server-side rule says no: keep the
    visit (it happened) and flag it for review."""
    read = outcome.read
    assert read is not None and outcome.reason is not None  # refused on a server-side rule
    pass_obj = read.pass_obj
    day = moment.astimezone(request.host.tz).date()
    reason = outcome.reason
    outcome.flagged = True
    outcome.extra["flag_reason"] = reason
    outcome.decision = "accepted"
    if read.visit_today is not None:
        outcome.visit, outcome.already_checked_in = Visit(pk=read.visit_today, date=day), True
    elif request.host.pk == pass_obj.membership.space_id:
        outcome.visit = _visit_create(
            request, pass_obj, day, uses_allowance=False, flag_reason=reason
        )
    else:
        known = {None: read.network_used, request.host.pk: read.host_used}
        outcome.visit, outcome.allowance = _admit(
            request, pass_obj, None, day, known, force=True, flag_reason=reason
        )


def _visitor(pass_obj: Pass) -> dict[str, Any]:
    member = pass_obj.member
    return {
        "first_name": member.first_name,
        "photo_url": member.photo.url if member.photo else None,
        "home_space": pass_obj.membership.space.name,
    }


def _response(request: ScanRequest, outcome: Outcome) -> dict[str, Any]:
    accepted = outcome.decision == "accepted"
    visit = outcome.visit
    shows_allowance = accepted or outcome.reason == "allowance_exhausted"
    return {
        "decision": outcome.decision,
        "reason": None if accepted else outcome.reason,
        "already_checked_in": outcome.already_checked_in,
        "visit": (
            {"id": visit.pk, "date": visit.date.isoformat(), "host": request.host.slug}
            if accepted and visit
            else None
        ),
        "visitor": _visitor(outcome.pass_obj) if accepted and outcome.pass_obj else None,
        "allowance": outcome.allowance if outcome.pass_obj and shows_allowance else None,
        "id_check_required": bool(accepted and outcome.claims and outcome.claims.is_static),
        "offline": request.offline,
        "flagged": outcome.flagged,
        "flag_reason": outcome.extra.get("flag_reason"),
        "nonce": request.nonce,
    }


def _stored(request: ScanRequest, received_at: dt.datetime, **fields: Any) -> Scan:
    scan = Scan(
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
    insert(scan)
    return scan


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
    response = _response(request, outcome)
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


# A conflict (a nonce, a visit or a code's first use written meanwhile by another scan) undoes
# the attempt and the next one reads what won; more than a few in a row is a bug, not a race.
_ATTEMPTS = 3


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
    for attempt in range(1, _ATTEMPTS + 1):
        # A used nonce is found by the Scan's unique constraint: it is looked up only once
        # that constraint has refused a first attempt, so a fresh nonce costs no query.
        if attempt > 1:
            answer = _answer_to_used_nonce(request, received_at, moment)
            if answer is not None:
                return answer
        try:
            with transaction.atomic():
                return _attempt(request, received_at, moment)
        except IntegrityError:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _attempt(request: ScanRequest, received_at: dt.datetime, moment: dt.datetime) -> dict:
    outcome = _evaluate(request, moment)
    if (
        request.offline
        and request.device_accepted
        and outcome.decision == "refused"
        and outcome.reason in SERVER_SIDE_REASONS
        and outcome.read is not None
    ):
        _flag_offline_acceptance(request, outcome, moment)
    if outcome.replay_of is not None:
        first = outcome.replay_of
        response = {**first.response, "nonce": request.nonce, "offline": request.offline}
        outcome.decision, outcome.reason = first.decision, first.reason or None
        outcome.already_checked_in = first.already_checked_in
        outcome.visit = Visit(pk=first.visit_id) if first.visit_id else None
    else:
        response = _response(request, outcome)
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
        insert(
            CounterUse(
                pass_obj=outcome.pass_obj,
                counter=outcome.claims.counter,
                host=request.host,
                first_scan=scan,
            )
        )
    return response


MAX_BATCH = 500


def scan_batch(requests: list[ScanRequest], *, now: dt.datetime | None = None) -> list[dict]:
    """Offline uploads, in order, each in its own transaction and idempotent by nonce."""
    return [scan_record(request, now=now) for request in requests]
