"""Scanner keys of a partner space: created by its co-managers, shown once, stored hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time

from django.db import transaction

from coworking.audit import audit_record
from coworking.models import Member
from spaces.models import Space

from .models import PartnerKey


@transaction.atomic
def partner_key_create(
    *, space: Space, name: str, actor: Member | None, expiry_date: dt.datetime | None = None
) -> tuple[PartnerKey, str]:
    """A new key for `space`; the returned raw key is the only copy there will ever be."""
    partner_key, key = PartnerKey.objects.create_key(
        name=name, space=space, created_by=actor, expiry_date=expiry_date
    )
    # The audit row names the key by its public prefix: its pk embeds the hash.
    audit_record(
        actor=actor,
        action="partner_key.create",
        target=partner_key,
        target_id=partner_key.prefix,
        space_id=space.pk,
        detail={"prefix": partner_key.prefix, "name": name},
    )
    return partner_key, key


@transaction.atomic
def partner_key_revoke(*, partner_key: PartnerKey, actor: Member | None) -> PartnerKey:
    """Revoke for good: the scanner gets 401 from now on."""
    if not partner_key.revoked:
        partner_key.revoked = True
        partner_key.save(update_fields=["revoked"])
        audit_record(
            actor=actor,
            action="partner_key.revoke",
            target=partner_key,
            target_id=partner_key.prefix,
            space_id=partner_key.space_id,
        )
    return partner_key


# A scanner sends its key with every scan: each process keeps the keys it has checked for this
# long (seconds), so that a scan costs no key query. Saving or deleting a key in this process
# forgets them all at once (signals wired in apps.py); another worker stops accepting a revoked
# key within this delay.
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_SIZE = 1024
_keys_lock = threading.Lock()
_keys: dict[bytes, tuple[float, PartnerKey]] = {}


def forget_partner_keys(**_signal: object) -> None:
    with _keys_lock:
        _keys.clear()


def partner_key_for(key: str) -> PartnerKey:
    """The usable (not revoked) PartnerKey of a raw key; raises PartnerKey.DoesNotExist.

    Expiry is not checked here: the caller says why an expired key is refused.
    """
    digest = hashlib.sha256(key.encode()).digest()
    now = time.monotonic()
    with _keys_lock:
        found = _keys.get(digest)
    if found is not None and now - found[0] < KEY_CACHE_SECONDS:
        return found[1]
    partner_key = PartnerKey.objects.get_from_key(key)
    with _keys_lock:
        if len(_keys) >= _KEY_CACHE_SIZE:
            _keys.clear()
        _keys[digest] = (now, partner_key)
    return partner_key
