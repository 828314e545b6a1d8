"""The signed revocation list that offline scanners cache, with versions and deltas."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from .keys import signing_key
from .models import Network, Pass, RevocationEvent
from .offline import REVOCATION_DOMAIN, canonical_json

# What a scanner must do with a pass, in the order an online scan checks: a revoked or suspended
# pass, then a deactivated account; "reinstated" means it may accept the pass again.
OFFLINE_STATES = ("revoked", "suspended", "account_inactive")


def _offline_states(passes: QuerySet[Pass]) -> dict[int, str]:
    """Each pass's state for an offline scanner, as of now."""
    states = {}
    for pk, status, account_active in passes.values_list("id", "status", "member__is_active"):
        if status != Pass.Status.ACTIVE:
            states[pk] = status  # "revoked" or "suspended"
        elif not account_active:
            states[pk] = "account_inactive"
        else:
            states[pk] = "reinstated"
    return states


def revocation_list(
    network: Network, *, since: int | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The passes a scanner must refuse: all of them, or the changes after version `since`.

    A delta lists each pass changed since then once, with its state now (a pass revoked, then
    suspended... is listed as it stands); a full list, every pass that must be refused.
    """
    now = now or timezone.now()
    events = RevocationEvent.objects.filter(network=network)
    version = events.aggregate(v=Max("id"))["v"] or 0
    full = since is None or since <= 0 or since > version
    passes = Pass.objects.filter(network=network)
    if full:
        states = _offline_states(
            passes.filter(~Q(status=Pass.Status.ACTIVE) | Q(member__is_active=False))
        )
    else:
        changed = events.filter(id__gt=since).values("pass_obj_id")
        states = _offline_states(passes.filter(id__in=changed))
    payload: dict[str, Any] = {
        "network": network.slug,
        "version": version,
        "since": None if full else since,
        "full": full,
        "generated_at": int(now.timestamp()),
    }
    for state in (*OFFLINE_STATES, "reinstated"):
        payload[state] = sorted(pk for pk, found in states.items() if found == state)
    key, private_key = signing_key(now)
    signature = private_key.sign(REVOCATION_DOMAIN + canonical_json(payload))
    return {"payload": payload, "kid": key.kid, "signature": base64.b64encode(signature).decode()}
