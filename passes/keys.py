"""The registry of Ed25519 signing keys: creation, rotation, lookup for signing and verifying.

Private keys are stored encrypted (AES-GCM, key derived from SIGNING_KEY_SECRET) and never leave
this module; partners get public keys only.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import secrets
import threading
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .models import SigningKey

logger = logging.getLogger(__name__)

# A printed card is signed for a year: a key stays verifiable that long after it stops signing.
CARD_LIFETIME = dt.timedelta(days=365)
DEFAULT_SIGNING_PERIOD = dt.timedelta(days=180)
# Partners fetch a new key before it signs anything: offline scanners know it in advance.
DEFAULT_LEAD_TIME = dt.timedelta(days=2)


class KeyRegistryError(Exception):
    pass


def _cipher() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"chtipass", info=b"signing keys").derive(
        settings.SIGNING_KEY_SECRET.encode()
    )
    return AESGCM(key)


def _encrypt(private_key: Ed25519PrivateKey) -> bytes:
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return nonce + _cipher().encrypt(nonce, raw, b"ed25519")


def _decrypt(blob: bytes) -> Ed25519PrivateKey:
    blob = bytes(blob)
    try:
        raw = _cipher().decrypt(blob[:12], blob[12:], b"ed25519")
    except InvalidTag:
        # A bare InvalidTag would be a 500 that names nothing: say what to look at.
        raise KeyRegistryError(
            "A signing key cannot be decrypted: SIGNING_KEY_SECRET is not the one it was "
            "stored with."
        ) from None
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


@transaction.atomic
def signing_key_create(
    *,
    not_before: dt.datetime | None = None,
    signing_period: dt.timedelta = DEFAULT_SIGNING_PERIOD,
) -> SigningKey:
    """Add a key that signs from `not_before` for `signing_period`."""
    not_before = not_before or timezone.now()
    used = set(SigningKey.objects.select_for_update().values_list("kid", flat=True))
    free = [kid for kid in range(1, 256) if kid not in used]
    if not free:
        raise KeyRegistryError("All 255 key ids are in use: delete long-expired keys first.")
    private_key = Ed25519PrivateKey.generate()
    sign_until = not_before + signing_period
    key = SigningKey.objects.create(
        kid=free[0],
        public_key=public_key_text(private_key),
        encrypted_private_key=_encrypt(private_key),
        not_before=not_before,
        sign_until=sign_until,
        verify_until=sign_until + CARD_LIFETIME,
    )
    forget_cached_keys()
    # Again once committed, or another process could reload the old list in between.
    transaction.on_commit(forget_cached_keys)
    return key


@transaction.atomic
def signing_key_rotate(
    *, lead_time: dt.timedelta = DEFAULT_LEAD_TIME, now: dt.datetime | None = None
) -> SigningKey:
    """Publish a new key now, signing from `now + lead_time`; current keys stop signing then.

    No downtime: until then the current key signs; afterwards both verify.
    """
    now = now or timezone.now()
    switch = now + lead_time
    new_key = signing_key_create(not_before=switch)
    SigningKey.objects.filter(status=SigningKey.Status.ACTIVE, sign_until__gt=switch).exclude(
        pk=new_key.pk
    ).update(sign_until=switch)
    forget_cached_keys()
    # Again once committed, or another process could reload the old list in between.
    transaction.on_commit(forget_cached_keys)
    return new_key


def signing_key_compromised(*, kid: int) -> None:
    """Stop trusting a key at once: every credential it signed is refused (unknown_key)."""
    SigningKey.objects.filter(kid=kid).update(status=SigningKey.Status.COMPROMISED)
    forget_cached_keys()
    # Again once committed, or another process could reload the old list in between.
    transaction.on_commit(forget_cached_keys)


# Scans verify against the registry on every request, so each process keeps it in memory. A
# version number in the shared cache tells every process when a key changed (e.g. compromised);
# without the shared cache, the copy lives at most _CACHE_SECONDS.
_CACHE_SECONDS = 30.0
# The shared version is asked for at most this often (seconds): a key compromised in another
# process is refused here within this delay, and a scan costs no cache round trip.
_VERSION_CHECK_SECONDS = 1.0
_VERSION_KEY = "signing-keys-version"
_cache_lock = threading.Lock()
_cache: dict[str, object] = {"at": 0.0, "checked": 0.0, "version": None, "keys": []}


def _shared_version() -> object:
    try:
        return cache.get(_VERSION_KEY)
    except Exception:  # the cache being down must not stop scans
        return None


def forget_cached_keys() -> None:
    with _cache_lock:
        _cache["at"] = 0.0
    try:
        cache.set(_VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:
        logger.warning("Could not publish the signing keys version to the cache.")


def _registry() -> list[SigningKey]:
    now = time.monotonic()
    with _cache_lock:
        fresh = now - _cache["at"] < _CACHE_SECONDS  # type: ignore[operator]
        if fresh and now - _cache["checked"] < _VERSION_CHECK_SECONDS:  # type: ignore[operator]
            return _cache["keys"]  # type: ignore[return-value]
    version = _shared_version()
    with _cache_lock:
        if fresh and version == _cache["version"]:
            _cache["checked"] = now
            return _cache["keys"]  # type: ignore[return-value]
    keys = list(SigningKey.objects.all())
    for key in keys:
        key.public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    with _cache_lock:
        _cache.update(at=now, checked=now, version=version, keys=keys)
    return keys


def verifying_key(kid: int, moment: dt.datetime) -> Ed25519PublicKey | None:
    """The public key `kid` if it may verify at `moment`, else None (`unknown_key`)."""
    for key in _registry():
        if key.kid == kid and key.can_verify_at(moment):
            return key.public
    return None


def signing_key(moment: dt.datetime) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The newest key allowed to sign at `moment`, with its private half."""
    candidates = [key for key in _registry() if key.can_sign_at(moment)]
    if not candidates:
        raise KeyRegistryError(
            "No signing key is valid now: run `manage.py signing_keys ensure` or `rotate`."
        )
    key = max(candidates, key=lambda k: k.not_before)
    if not hasattr(key, "private"):
        key.private = _decrypt(key.encrypted_private_key)
    return key, key.private


def published_keys(moment: dt.datetime) -> list[SigningKey]:
    """Keys partners should hold at `moment`: every key not expired and not compromised."""
    return [
        key
        for key in SigningKey.objects.order_by("kid")
        if key.status != SigningKey.Status.COMPROMISED and key.verify_until >= moment
    ]
