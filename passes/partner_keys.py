"""Scanner keys of a partner space: created by its co-managers, shown once, stored hashed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from coworking.audit import audit_record
from coworking.memo import SecretMemo
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
_keys: SecretMemo[PartnerKey] = SecretMemo(KEY_CACHE_SECONDS, size=1024)
forget_partner_keys = _keys.forget


def partner_key_for(key: str) -> PartnerKey:
    """The usable (not revoked) PartnerKey of a raw key; raises PartnerKey.DoesNotExist.

    Expiry is not checked here: the caller says why an expired key is refused.
    """
    return _keys.get(key, PartnerKey.objects.get_from_key)
