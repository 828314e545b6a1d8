"""Shared test vectors for the two offline verifiers (`passes/offline.py` and the scanner's
`web/static/web/scanner-verify.js`), made with the credential codec (`passes/codec.py`).

Regenerate after a change to the codec or the offline rules, and commit the result:

    .venv/bin/python -m tests.vectors.generate

Everything is derived from fixed seeds and a fixed "now" (Ed25519 signatures are deterministic),
so the file only changes when the rules do; `tests/test_offline_vectors.py` checks that the
committed file is what this script writes today.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passes import codec
from passes.offline import REVOCATION_DOMAIN, canonical_json

PATH = Path(__file__).resolve().parent / "offline.json"
NETWORK = "chtipass"
NOW = int(dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC).timestamp())  # 09:00 in Lille
DAY = 24 * 3600

# Spaces 1-3 are in the network; 9 belongs to another network that shares the keys document.
HOME, PARTNER, OUTSIDE = 1, 2, 9
# Passes and their state in the signed revocation list.
GOOD, REVOKED, SUSPENDED, INACTIVE, REINSTATED = 101, 102, 103, 104, 105
KID, RETIRED_KID, FUTURE_KID, UNKNOWN_KID = 1, 2, 3, 7
RETIRED_UNTIL = NOW - DAY + 0.999999


def private_key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"cp1-vector:{name}".encode()).digest()
    )


KEYS = {
    KID: private_key("current"),
    RETIRED_KID: private_key("retired"),
    FUTURE_KID: private_key("future"),
}
# Same kid as the current key, not the network's: what a forger without the key can sign.
FORGER = private_key("forger")


def iso(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat()


def public_key_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes_raw()).decode()


def keys_document() -> dict[str, Any]:
    """What GET /api/v1/network/keys/ publishes: each key's verification window, the spaces."""
    # The API sends microseconds (a JavaScript Date keeps milliseconds): the retired key's
    # last moment is one of them.
    windows = {
        KID: (NOW - 30 * DAY + 0.123456, NOW + 365 * DAY),
        RETIRED_KID: (NOW - 800 * DAY, RETIRED_UNTIL),  # no longer verifies anything
        FUTURE_KID: (NOW + DAY, NOW + 800 * DAY),  # does not verify yet
    }
    return {
        "keys": [
            {
                "kid": kid,
                "public_key": public_key_text(KEYS[kid]),
                "not_before": iso(not_before),
                "verify_until": iso(verify_until),
            }
            for kid, (not_before, verify_until) in windows.items()
        ],
        "spaces": [
            {"space_id": HOME, "network__slug": NETWORK},
            {"space_id": PARTNER, "network__slug": NETWORK},
            {"space_id": 3, "network__slug": NETWORK},
            {"space_id": OUTSIDE, "network__slug": "autre-reseau"},
        ],
    }


def signed_list(payload: dict[str, Any], key: Ed25519PrivateKey, kid: int = KID) -> dict[str, Any]:
    signature = key.sign(REVOCATION_DOMAIN + canonical_json(payload))
    return {"payload": payload, "kid": kid, "signature": base64.b64encode(signature).decode()}


def revocation_payload(version: int, since: int | None = None, **states: list[int]) -> dict:
    payload: dict[str, Any] = {
        "network": NETWORK,
        "version": version,
        "since": since,
        "full": since is None,
        "generated_at": NOW - 60,
    }
    for state in ("revoked", "suspended", "account_inactive", "reinstated"):
        payload[state] = states.get(state, [])
    return payload


FULL_LIST = revocation_payload(
    40, revoked=[REVOKED], suspended=[SUSPENDED], account_inactive=[INACTIVE]
)


def credential(
    *,
    pass_id: int = GOOD,
    home: int = HOME,
    kid: int = KID,
    key: Ed25519PrivateKey | None = None,
    issued_at: int = NOW - 3600,
    expires_at: int = NOW + 3600,
    counter: int | None = None,
) -> str:
    claims = codec.Claims(
        kid=kid,
        pass_id=pass_id,
        member_id=pass_id + 1000,
        home_space_id=home,
        issued_at=issued_at,
        expires_at=expires_at,
        counter=codec.window_of(NOW) if counter is None else counter,
    )
    return codec.encode(claims, key or KEYS.get(kid) or FORGER)


def respelled(text: str, mutate) -> str:
    """The credential's bytes changed by `mutate(raw: bytearray)`, spelled canonically again."""
    payload = text[len(codec.PREFIX) :]
    raw = bytearray(base64.b32decode(payload + "=" * (-len(payload) % 8)))
    mutate(raw)
    return codec.PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


def flip(offset: int):
    def mutate(raw: bytearray) -> None:
        raw[offset] ^= 0x01

    return mutate


def spare_bit_set(text: str) -> str:
    """88 bytes take 141 Base32 characters with one bit to spare: set it (same bytes)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 1]


def with_version(raw: bytearray) -> None:
    raw[0] = 2


def credential_vectors() -> list[dict[str, Any]]:
    window = codec.window_of(NOW)
    skew = codec.CLOCK_SKEW_SECONDS
    valid = credential()
    card = credential(counter=codec.STATIC_COUNTER, expires_at=NOW + 200 * DAY)
    unsigned_version_2 = respelled(valid, with_version)
    last_moment = credential(
        kid=RETIRED_KID,
        issued_at=NOW - DAY - 3600,
        expires_at=NOW - DAY + 3600,
        counter=codec.window_of(RETIRED_UNTIL),
    )
    rows: list[tuple[str, str, str | None, float]] = [
        # (name, credential, expected reason or None for accepted, now)
        ("valid rotating", valid, None, NOW),
        ("valid card", card, "online_only", NOW),
        ("a pass in no list", credential(pass_id=REINSTATED), None, NOW),
        ("a pass of a partner space", credential(home=PARTNER), None, NOW),
        # Malformed: the codec's canonical spelling, prefix, length and version.
        ("lowercase", valid.lower(), "malformed", NOW),
        ("wrong prefix", "CP2:" + valid[4:], "malformed", NOW),
        ("one character short", valid[:-1], "malformed", NOW),
        ("non-base32 character", valid[:-2] + "1" + valid[-1], "malformed", NOW),
        ("spare bit set in the last character", spare_bit_set(valid), "malformed", NOW),
        ("version 2", unsigned_version_2, "malformed", NOW),
        # Signature and keys.
        ("tampered body (pass id)", respelled(valid, flip(5)), "bad_signature", NOW),
        ("tampered body (home space)", respelled(valid, flip(11)), "bad_signature", NOW),
        ("tampered body (expiry)", respelled(valid, flip(19)), "bad_signature", NOW),
        ("bad signature (first byte)", respelled(valid, flip(24)), "bad_signature", NOW),
        ("bad signature (last byte)", respelled(valid, flip(87)), "bad_signature", NOW),
        (
            "signed by a forger's key under a known kid",
            credential(key=FORGER),
            "bad_signature",
            NOW,
        ),
        ("card signed by a forger's key", credential(key=FORGER, counter=0), "bad_signature", NOW),
        ("unknown kid", credential(kid=UNKNOWN_KID, key=FORGER), "unknown_key", NOW),
        ("key past its verification window", credential(kid=RETIRED_KID), "unknown_key", NOW),
        ("key before its verification window", credential(kid=FUTURE_KID), "unknown_key", NOW),
        ("key in the last millisecond of its window", last_moment, None, RETIRED_UNTIL - 0.0005),
        # Time, with the 60-second skew, then the rotating counter's window [now - 2, now + 1].
        ("expired", credential(expires_at=NOW - skew - 1), "expired", NOW),
        ("expired at the edge of the skew", credential(expires_at=NOW - skew), None, NOW),
        ("not yet valid", credential(issued_at=NOW + skew + 1), "not_yet_valid", NOW),
        ("not yet valid at the edge of the skew", credential(issued_at=NOW + skew), None, NOW),
        ("stale counter", credential(counter=window - 3), "stale_code", NOW),
        ("oldest counter still accepted", credential(counter=window - 2), None, NOW),
        ("counter from the future", credential(counter=window + 2), "stale_code", NOW),
        ("newest counter accepted", credential(counter=window + 1), None, NOW),
        ("valid rotating, an hour later", valid, "stale_code", NOW + 3000),
        ("expired card", card, "expired", NOW + 201 * DAY),
        # The revocation list, then the network.
        ("revoked pass", credential(pass_id=REVOKED), "revoked", NOW),
        ("suspended pass", credential(pass_id=SUSPENDED), "suspended", NOW),
        ("account inactive", credential(pass_id=INACTIVE), "account_inactive", NOW),
        ("wrong network", credential(home=OUTSIDE), "not_in_network", NOW),
        # The order of the checks: the first failure is the reason.
        ("revoked card", credential(pass_id=REVOKED, counter=0), "online_only", NOW),
        ("revoked and stale", credential(pass_id=REVOKED, counter=window - 3), "stale_code", NOW),
        ("revoked outside the network", credential(pass_id=REVOKED, home=OUTSIDE), "revoked", NOW),
        ("forged revoked pass", credential(pass_id=REVOKED, key=FORGER), "bad_signature", NOW),
        (
            "expired under an unknown kid",
            credential(kid=UNKNOWN_KID, expires_at=0),
            "unknown_key",
            NOW,
        ),
    ]
    return [
        {
            "name": name,
            "credential": text,
            "now": now,
            "decision": "refused" if reason else "accepted",
            "reason": reason,
        }
        for name, text, reason, now in rows
    ]


def revocation_vectors() -> list[dict[str, Any]]:
    """Lists applied on top of FULL_LIST: the state they leave, or "error" if refused."""
    delta = revocation_payload(
        41, since=40, revoked=[SUSPENDED], account_inactive=[GOOD], reinstated=[INACTIVE]
    )
    tampered = signed_list(delta, KEYS[KID])
    tampered["payload"] = {**delta, "revoked": []}
    rows = [
        ("a delta that follows the version held", signed_list(delta, KEYS[KID]), 41),
        ("a tampered delta", tampered, None),
        ("a delta signed by a forger", signed_list(delta, FORGER), None),
        ("a delta under an unknown kid", signed_list(delta, FORGER, kid=UNKNOWN_KID), None),
        (
            "a delta that skips a version",
            signed_list({**delta, "since": 39, "version": 42}, KEYS[KID]),
            None,
        ),
    ]
    vectors = []
    for name, signed, version in rows:
        vector: dict[str, Any] = {"name": name, "list": signed}
        if version is None:
            vector["result"] = "error"
        else:
            vector["result"] = {
                "version": version,
                "revoked": [REVOKED, SUSPENDED],
                "suspended": [],
                "account_inactive": [GOOD],
            }
        vectors.append(vector)
    return vectors


def build() -> dict[str, Any]:
    return {
        "about": "Made by tests/vectors/generate.py from passes/codec.py; do not edit by hand.",
        "network": NETWORK,
        "keys": keys_document(),
        "revocations": signed_list(FULL_LIST, KEYS[KID]),
        "credentials": credential_vectors(),
        "revocation_lists": revocation_vectors(),
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {PATH.name}")
