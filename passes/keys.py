"""The registry of Ed25519 signing keys: creation, rotation, lookup for signing and verifying.

Private keys are stored encrypted (AES-GCM, key derived from SIGNING_KEY_SECRET) and never leave
this module; partners get public keys only.
"""

from __future__ import annotations

import base64
import datetime as dt
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import SigningKey

# A printed card is signed for a year: a key stays verifiable that long after it stops signing.
CARD_LIFETIME = dt.timedelta(days=365)
DEFAULT_SIGNING_PERIOD = dt.timedelta(days=180)
# Partners fetch a new key before it signs anything: offline scanners know it in advance.
DEFAULT_LEAD_TIME = dt.timedelta(days=2)


class KeyRegistryError(Exception):
    pass


def _cipher(secret: str | None = None) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"chtipass", info=b"signing keys").derive(
        (secret or settings.SIGNING_KEY_SECRET).encode()
    )
    return AESGCM(key)


def _encrypt(private_key: Ed25519PrivateKey) -> bytes:
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return nonce + _cipher().encrypt(nonce, raw, b"ed25519")


def _decrypt(blob: bytes | memoryview, *, secret: str | None = None) -> Ed25519PrivateKey:
    blob = bytes(blob)
    try:
        raw = _cipher(secret).decrypt(blob[:12], blob[12:], b"ed25519")
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
    return SigningKey.objects.create(
        kid=free[0],
        public_key=public_key_text(private_key),
        encrypted_private_key=_encrypt(private_key),
        not_before=not_before,
        sign_until=sign_until,
        verify_until=sign_until + CARD_LIFETIME,
    )


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
    return new_key


@transaction.atomic
def signing_keys_reencrypt(*, old_secret: str) -> tuple[int, int]:
    """Encrypt again with SIGNING_KEY_SECRET the keys still encrypted with `old_secret` (the
    secret changed: a demo database made with the development key, or a rotated secret).
    Returns (keys re-encrypted, keys that neither secret opens, left as they are)."""
    reencrypted = unreadable = 0
    for key in SigningKey.objects.select_for_update().order_by("kid"):
        try:
            _decrypt(key.encrypted_private_key)
            continue  # already under the current secret
        except KeyRegistryError:
            pass
        try:
            private_key = _decrypt(key.encrypted_private_key, secret=old_secret)
        except KeyRegistryError:
            unreadable += 1
            continue
        key.encrypted_private_key = _encrypt(private_key)
        key.save(update_fields=["encrypted_private_key"])
        reencrypted += 1
    return reencrypted, unreadable


def signing_key_compromised(*, kid: int) -> None:
    """Stop trusting a key at once: every credential it signed is refused (unknown_key)."""
    SigningKey.objects.filter(kid=kid).update(status=SigningKey.Status.COMPROMISED)


# No copy of the registry is kept in memory: every lookup reads the rows it needs, so that a key
# marked compromised is refused at once by every process. A scan reads its key's row with the
# pass, in the same statement (passes/scan_read.py). Parsing the public key each time costs about
# 5 µs, next to 250 µs for the signature check: not worth a memo.
_VERIFY_COLUMNS = ("public_key", "not_before", "verify_until", "status")


def verifying_key_of(key: SigningKey | None, moment: dt.datetime) -> Ed25519PublicKey | None:
    """`key`'s public half if it may verify at `moment`, else None (`unknown_key`)."""
    if key is None or not key.can_verify_at(moment):
        return None
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))


def verifying_key(kid: int, moment: dt.datetime) -> Ed25519PublicKey | None:
    """The public key `kid` if it may verify at `moment`, else None (`unknown_key`)."""
    key = SigningKey.objects.filter(kid=kid).only(*_VERIFY_COLUMNS).first()
    return verifying_key_of(key, moment)


class Signer:
    """The keys allowed to sign, read once: a day of rotating credentials costs one query."""

    def __init__(self) -> None:
        self._keys = list(SigningKey.objects.filter(status=SigningKey.Status.ACTIVE))
        self._private: dict[int, Ed25519PrivateKey] = {}

    def key_at(self, moment: dt.datetime) -> tuple[SigningKey, Ed25519PrivateKey]:
        """The newest key allowed to sign at `moment`, with its private half."""
        candidates = [key for key in self._keys if key.can_sign_at(moment)]
        if not candidates:
            raise KeyRegistryError(
                "No signing key is valid now: run `manage.py signing_keys ensure` or `rotate`."
            )
        key = max(candidates, key=lambda k: k.not_before)
        if key.kid not in self._private:
            self._private[key.kid] = _decrypt(key.encrypted_private_key)
        return key, self._private[key.kid]


def signing_key(moment: dt.datetime) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The newest key allowed to sign at `moment`, with its private half."""
    return Signer().key_at(moment)


def published_keys(moment: dt.datetime) -> list[SigningKey]:
    """Keys partners should hold at `moment`: every key not expired and not compromised."""
    return [
        key
        for key in SigningKey.objects.order_by("kid")
        if key.status != SigningKey.Status.COMPROMISED and key.verify_until >= moment
    ]
