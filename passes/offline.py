"""What a scanner can decide with no network: the reference offline verifier.

Plain Python (no Django), fed with what the API publishes: the public keys
(`GET /api/v1/network/keys/`) and the signed revocation list
(`GET /api/v1/network/revocations/?since=N`). The scanner page's JavaScript follows the same
steps. It refuses printed cards (`online_only`): those need an ID check and an online scan.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import codec

REVOCATION_DOMAIN = b"CP1-RL"


class RevocationListError(Exception):
    """The list is not signed by a known key, or does not follow the version held."""


@dataclass(frozen=True)
class PublishedKey:
    kid: int
    public_key: Ed25519PublicKey
    not_before: float
    verify_until: float


@dataclass(frozen=True)
class OfflineDecision:
    decision: str  # "accepted" or "refused"
    reason: str | None
    claims: codec.Claims | None = None


def _timestamp(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class OfflineVerifier:
    keys: dict[int, PublishedKey]
    network_space_ids: set[int]
    version: int = 0
    revoked: set[int] = field(default_factory=set)
    suspended: set[int] = field(default_factory=set)
    account_inactive: set[int] = field(default_factory=set)

    @classmethod
    def from_published(cls, keys_document: dict[str, Any], network: str) -> OfflineVerifier:
        keys = {
            item["kid"]: PublishedKey(
                kid=item["kid"],
                public_key=Ed25519PublicKey.from_public_bytes(base64.b64decode(item["public_key"])),
                not_before=_timestamp(item["not_before"]),
                verify_until=_timestamp(item["verify_until"]),
            )
            for item in keys_document["keys"]
        }
        spaces = {s["space_id"] for s in keys_document["spaces"] if s["network__slug"] == network}
        return cls(keys=keys, network_space_ids=spaces)

    def apply_revocations(self, signed: dict[str, Any]) -> None:
        """Check the signature, then apply a full list or a delta that follows our version."""
        payload = signed["payload"]
        key = self.keys.get(signed["kid"])
        if key is None:
            raise RevocationListError("unknown key")
        try:
            key.public_key.verify(
                base64.b64decode(signed["signature"]), REVOCATION_DOMAIN + canonical_json(payload)
            )
        except InvalidSignature:
            raise RevocationListError("bad signature") from None
        if payload["full"]:
            self.revoked = set(payload["revoked"])
            self.suspended = set(payload["suspended"])
            self.account_inactive = set(payload["account_inactive"])
        else:
            if payload["since"] != self.version:
                raise RevocationListError("delta does not follow the version held")
            # A delta gives each changed pass once, in its state now: it leaves its former one
            # (revoked is for good).
            for state in ("revoked", "suspended", "account_inactive", "reinstated"):
                for pass_id in payload[state]:
                    self.suspended.discard(pass_id)
                    self.account_inactive.discard(pass_id)
            self.revoked.update(payload["revoked"])
            self.suspended.update(payload["suspended"])
            self.account_inactive.update(payload["account_inactive"])
        self.version = payload["version"]

    def _key_for(self, kid: int, now: float) -> Ed25519PublicKey | None:
        key = self.keys.get(kid)
        if key is None or not key.not_before <= now <= key.verify_until:
            return None
        return key.public_key

    def verify(self, text: str, now: float) -> OfflineDecision:
        try:
            claims = codec.verify(text, lambda kid: self._key_for(kid, now))
            codec.check_validity(claims, now)
        except codec.CredentialError as error:
            return OfflineDecision("refused", error.code)
        if claims.is_static:
            return OfflineDecision("refused", "online_only", claims)
        if claims.pass_id in self.revoked:
            return OfflineDecision("refused", "revoked", claims)
        if claims.pass_id in self.suspended:
            return OfflineDecision("refused", "suspended", claims)
        if claims.pass_id in self.account_inactive:
            return OfflineDecision("refused", "account_inactive", claims)
        if claims.home_space_id not in self.network_space_ids:
            return OfflineDecision("refused", "not_in_network", claims)
        return OfflineDecision("accepted", None, claims)
