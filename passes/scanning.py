"""Validating a ch'tipass at a host: the checks of SPEC §3, in order, and what is recorded.

Every attempt is stored as a Scan. An accepted scan records a Visit (one per member, host and
local day) and consumes the allowance with conditional UPDATEs, so that concurrent scans never
exceed it. Scans of one pass are serialized by locking the pass row (SQLite's IMMEDIATE
transactions already serialize all writers).
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

# Rules the offline device could not know about: an offline acceptance that breaks one of them
# is kept (the member did work there) but flagged for the co-managers.
SERVER_SIDE_REASONS = {
    "stale_code",
    "revoked",
    "suspended",
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
    # 6–8. Pass state, home membership, network.
    if pass_obj.status != Pass.Status.ACTIVE:
        outcome.reason = pass_obj.status  # "revoked" or "suspended"
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


def scan_record(request: ScanRequest, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Validate one credential at `request.host`, store the Scan and answer as SPEC §5 says.

    The same nonce at the same host answers what it answered the first time, and records once.
    """
    received_at = now or timezone.now()
    scanned_at = request.scanned_at or received_at
    # Online, the server's clock decides; offline, the moment the device saw the code (never
    # later than its arrival here).
    moment = min(scanned_at, received_at) if request.offline else received_at
    if request.nonce:
        earlier = Scan.objects.filter(host=request.host, nonce=request.nonce).first()
        if earlier is not None:
            return earlier.response
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
            scan = Scan.objects.create(
                host=request.host,
                partner_key=request.partner_key,
                scanned_by=request.scanned_by,
                credential=request.credential[:200],
                kid=outcome.claims.kid if outcome.claims else None,
                counter=outcome.claims.counter if outcome.claims else None,
                pass_obj=outcome.pass_obj,
                scanned_at=scanned_at,
                received_at=received_at,
                decision=outcome.decision,
                reason=outcome.reason or "",
                already_checked_in=outcome.already_checked_in,
                offline=request.offline,
                flagged=outcome.flagged,
                nonce=request.nonce or None,
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
        # The same nonce raced in from a retry: the first one has answered.
        earlier = Scan.objects.filter(host=request.host, nonce=request.nonce).first()
        if request.nonce and earlier is not None:
            return earlier.response
        raise
    return response


MAX_BATCH = 500


def scan_batch(requests: list[ScanRequest], *, now: dt.datetime | None = None) -> list[dict]:
    """Offline uploads, in order, each in its own transaction and idempotent by nonce."""
    return [scan_record(request, now=now) for request in requests]
