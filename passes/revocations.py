"""The signed revocation list that offline scanners cache, with versions and deltas."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.db.models import Max
from django.utils import timezone

from .keys import signing_key
from .models import Network, Pass, RevocationEvent
from .offline import REVOCATION_DOMAIN, canonical_json

STATE_OF_ACTION = {
    RevocationEvent.Action.REVOKE: "revoked",
    RevocationEvent.Action.SUSPEND: "suspended",
    RevocationEvent.Action.REINSTATE: "reinstated",
}


def revocation_list(
    network: Network, *, since: int | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The passes a scanner must refuse: all of them, or the changes after version `since`.

    A delta lists each changed pass once with its latest state; "reinstated" means the scanner
    may accept it again.
    """
    now = now or timezone.now()
    events = RevocationEvent.objects.filter(network=network)
    version = events.aggregate(v=Max("id"))["v"] or 0
    full = since is None or since <= 0 or since > version
    if full:
        blocked = Pass.objects.filter(network=network).exclude(status=Pass.Status.ACTIVE)
        changes = {pk: status for pk, status in blocked.values_list("id", "status")}
    else:
        changes = {}
        for pass_id, action in (
            events.filter(id__gt=since).order_by("id").values_list("pass_obj_id", "action")
        ):
            changes[pass_id] = STATE_OF_ACTION[action]
    payload = {
        "network": network.slug,
        "version": version,
        "since": None if full else since,
        "full": full,
        "generated_at": int(now.timestamp()),
        "revoked": sorted(pk for pk, state in changes.items() if state == "revoked"),
        "suspended": sorted(pk for pk, state in changes.items() if state == "suspended"),
        "reinstated": sorted(pk for pk, state in changes.items() if state == "reinstated"),
    }
    key, private_key = signing_key(now)
    signature = private_key.sign(REVOCATION_DOMAIN + canonical_json(payload))
    return {"payload": payload, "kid": key.kid, "signature": base64.b64encode(signature).decode()}
