"""The CP1 credential: a fixed 24-byte body signed with Ed25519, Base32 behind "CP1:".

Plain Python (no Django) so that it is easy to test, fuzz and port to a scanner.

    offset  bytes  field
    0       1      version = 1
    1       1      key id (kid)
    2       4      pass id (u32)
    6       4      member id (u32)
    10      2      home space id (u16)
    12      4      issued at (unix seconds)
    16      4      expires at (unix seconds)
    20      4      counter = floor(unix / 30); 0 = static (printed card)
    24      64     Ed25519 signature over b"CP1" + body
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "CP1:"
VERSION = 1
DOMAIN = b"CP1"
BODY = struct.Struct(">BBIIHIII")
SIGNATURE_SIZE = 64
RAW_SIZE = BODY.size + SIGNATURE_SIZE  # 88 bytes
TEXT_SIZE = len(PREFIX) + -(-RAW_SIZE * 8 // 5)  # 145 characters
WINDOW_SECONDS = 30
STATIC_COUNTER = 0
BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

U8, U16, U32 = 0xFF, 0xFFFF, 0xFFFF_FFFF


class CredentialError(Exception):
    """The credential is refused; `code` is one of the scan reason codes."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        super().__init__(message or code)


@dataclass(frozen=True)
class Claims:
    kid: int
    pass_id: int
    member_id: int
    home_space_id: int
    issued_at: int
    expires_at: int
    counter: int

    def __post_init__(self) -> None:
        limits = {
            "kid": U8,
            "pass_id": U32,
            "member_id": U32,
            "home_space_id": U16,
            "issued_at": U32,
            "expires_at": U32,
            "counter": U32,
        }
        for name, limit in limits.items():
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= limit:
                raise ValueError(f"{name}={value!r} does not fit the CP1 body")

    @property
    def is_static(self) -> bool:
        return self.counter == STATIC_COUNTER

    def body(self) -> bytes:
        return BODY.pack(
            VERSION,
            self.kid,
            self.pass_id,
            self.member_id,
            self.home_space_id,
            self.issued_at,
            self.expires_at,
            self.counter,
        )


def window_of(unix_seconds: float) -> int:
    """The rotating counter of a moment: its 30-second window number."""
    return int(unix_seconds // WINDOW_SECONDS)


def encode(claims: Claims, private_key: Ed25519PrivateKey) -> str:
    body = claims.body()
    signature = private_key.sign(DOMAIN + body)
    return PREFIX + base64.b32encode(body + signature).decode("ascii").rstrip("=")


def decode(text: str) -> tuple[Claims, bytes, bytes]:
    """Parse without verifying: (claims, body, signature), or CredentialError('malformed')."""
    if not isinstance(text, str) or len(text) != TEXT_SIZE or not text.startswith(PREFIX):
        raise CredentialError("malformed")
    payload = text[len(PREFIX) :]
    if not set(payload) <= BASE32_ALPHABET:
        raise CredentialError("malformed")
    try:
        raw = base64.b32decode(payload + "=" * (-len(payload) % 8))
    except (binascii.Error, ValueError):
        raise CredentialError("malformed") from None
    # Base32 leaves spare bits in the last character: only the canonical spelling is accepted,
    # so that no two texts carry the same credential.
    if len(raw) != RAW_SIZE or base64.b32encode(raw).decode().rstrip("=") != payload:
        raise CredentialError("malformed")
    body, signature = raw[: BODY.size], raw[BODY.size :]
    version, kid, pass_id, member_id, home, issued, expires, counter = BODY.unpack(body)
    if version != VERSION:
        raise CredentialError("malformed")
    claims = Claims(
        kid=kid,
        pass_id=pass_id,
        member_id=member_id,
        home_space_id=home,
        issued_at=issued,
        expires_at=expires,
        counter=counter,
    )
    return claims, body, signature


def verify(text: str, public_key_for: Callable[[int], Ed25519PublicKey | None]) -> Claims:
    """Decode and check the signature. `public_key_for(kid)` returns None for an unknown key.

    Raises CredentialError with `malformed`, `unknown_key` or `bad_signature`, in that order.
    """
    claims, body, signature = decode(text)
    public_key = public_key_for(claims.kid)
    if public_key is None:
        raise CredentialError("unknown_key")
    try:
        public_key.verify(signature, DOMAIN + body)
    except InvalidSignature:
        raise CredentialError("bad_signature") from None
    return claims


CLOCK_SKEW_SECONDS = 60
COUNTER_WINDOW = (-2, 1)  # accepted counters: [now - 2, now + 1]


def check_validity(claims: Claims, now: float) -> None:
    """Time checks after the signature: expired / not_yet_valid (60 s skew), then stale_code."""
    if now > claims.expires_at + CLOCK_SKEW_SECONDS:
        raise CredentialError("expired")
    if now < claims.issued_at - CLOCK_SKEW_SECONDS:
        raise CredentialError("not_yet_valid")
    if not claims.is_static:
        current = window_of(now)
        if not current + COUNTER_WINDOW[0] <= claims.counter <= current + COUNTER_WINDOW[1]:
            raise CredentialError("stale_code")
