"""The signing key registry: encrypted private keys, published public keys, rotation, compromise."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command
from django.utils import timezone

from passes import codec
from passes.keys import (
    KeyRegistryError,
    signing_key,
    signing_key_compromised,
    signing_key_rotate,
    verifying_key,
)
from passes.models import SigningKey
from passes.services import credential_static

from .conftest import NOW, rotating_credential

pytestmark = pytest.mark.django_db


def private_bytes(moment: dt.datetime) -> bytes:
    _key, private_key = signing_key(moment)
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def all_field_names(value, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [
            name
            for key, item in value.items()
            for name in [f"{prefix}{key}", *all_field_names(item, f"{prefix}{key}.")]
        ]
    if isinstance(value, list):
        return [name for item in value for name in all_field_names(item, prefix)]
    return []


def kid_of(credential: str) -> int:
    return codec.decode(credential)[0].kid


def verifies_now(credential: str) -> codec.Claims:
    now = timezone.now()
    return codec.verify(credential, lambda kid: verifying_key(kid, now))


# --- Private keys ----------------------------------------------------------------------------


def test_private_keys_are_stored_encrypted(clock, signing):
    raw = private_bytes(NOW)
    stored = bytes(SigningKey.objects.get(pk=signing.pk).encrypted_private_key)

    assert len(raw) == 32
    assert raw not in stored
    assert base64.b64encode(raw) not in stored
    assert raw.hex().encode() not in stored


def test_a_private_key_cannot_be_decrypted_with_another_secret(clock, signing, settings):
    settings.SIGNING_KEY_SECRET = "not the secret the key was encrypted with"

    with pytest.raises(KeyRegistryError, match="SIGNING_KEY_SECRET"):
        signing_key(NOW)


def test_each_key_is_encrypted_with_its_own_nonce(clock, signing):
    other = signing_key_rotate()

    first = bytes(SigningKey.objects.get(pk=signing.pk).encrypted_private_key)
    second = bytes(SigningKey.objects.get(pk=other.pk).encrypted_private_key)
    assert first[:12] != second[:12]


# --- Published keys --------------------------------------------------------------------------


def test_partners_get_public_keys_with_their_validity(
    clock, network, signing, filature_key, scanner
):
    response = scanner.with_key(filature_key).get("/api/v1/network/keys/")

    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "Ed25519"
    assert body["format"] == "CP1"
    [key] = body["keys"]
    assert key["kid"] == signing.kid
    assert key["public_key"] == signing.public_key
    assert key["status"] == "active"
    for field in ("not_before", "sign_until", "verify_until"):
        assert dt.datetime.fromisoformat(key[field]) == getattr(signing, field)
    assert len(base64.b64decode(key["public_key"])) == 32


def test_published_keys_carry_no_private_material(clock, network, signing, filature_key, scanner):
    signing_key_rotate()
    raw = private_bytes(NOW)

    response = scanner.with_key(filature_key).get("/api/v1/network/keys/")

    assert response.status_code == 200
    assert len(response.json()["keys"]) == 2
    assert not [name for name in all_field_names(response.json()) if "private" in name.lower()]
    assert base64.b64encode(raw) not in response.content
    assert raw.hex().encode() not in response.content


def test_a_published_key_verifies_the_credentials_it_signed(
    clock, alice_pass, filature_key, scanner
):
    credential = rotating_credential(alice_pass)
    [key] = scanner.with_key(filature_key).get("/api/v1/network/keys/").json()["keys"]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))

    claims = codec.verify(credential, lambda kid: public if kid == key["kid"] else None)

    assert claims.pass_id == alice_pass.pk


def test_the_keys_cannot_be_read_without_a_partner_key(clock, network, signing, api):
    response = api.get("/api/v1/network/keys/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_keys_cannot_be_read_with_an_unknown_partner_key(clock, network, signing, scanner):
    response = scanner.with_key("not.a-real-key").get("/api/v1/network/keys/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


# --- Rotation --------------------------------------------------------------------------------


def test_rotation_publishes_the_new_key_before_it_signs(clock, alice_pass):
    new_key = signing_key_rotate(lead_time=dt.timedelta(days=2))

    assert new_key.not_before == NOW + dt.timedelta(days=2)
    assert new_key in SigningKey.objects.all()
    assert kid_of(rotating_credential(alice_pass)) != new_key.kid

    clock.move_to(NOW + dt.timedelta(days=2) - dt.timedelta(seconds=1))
    assert kid_of(rotating_credential(alice_pass)) != new_key.kid

    clock.move_to(NOW + dt.timedelta(days=2))
    assert kid_of(rotating_credential(alice_pass)) == new_key.kid


def test_the_old_key_stops_signing_when_the_new_one_starts(clock, signing):
    new_key = signing_key_rotate(lead_time=dt.timedelta(days=2))

    signing.refresh_from_db()
    assert signing.sign_until == new_key.not_before
    assert signing.verify_until > NOW + dt.timedelta(days=300)


def test_credentials_signed_by_the_old_key_stay_verifiable_after_rotation(
    clock, signing, alice_pass
):
    card = credential_static(alice_pass)
    old_kid = kid_of(card)
    new_key = signing_key_rotate(lead_time=dt.timedelta(days=2))

    clock.move_to(NOW + dt.timedelta(days=3))

    assert old_kid == signing.kid != new_key.kid
    assert verifies_now(card).pass_id == alice_pass.pk
    assert verifies_now(rotating_credential(alice_pass)).kid == new_key.kid


def test_a_card_signed_by_the_old_key_is_still_accepted_after_rotation(
    clock, signing, alice_pass, filature_key, scanner
):
    card = credential_static(alice_pass)
    signing_key_rotate(lead_time=dt.timedelta(days=2))
    clock.move_to(NOW + dt.timedelta(days=3))  # Friday 4 December, 09:00

    response = scanner.with_key(filature_key).scan(card)

    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"
    assert response.json()["id_check_required"] is True


# --- Compromise and expiry -------------------------------------------------------------------


def test_a_compromised_key_makes_its_credentials_unknown_at_scan_time(
    clock, alice_pass, signing, filature_key, scanner
):
    credential = rotating_credential(alice_pass)
    signing_key_compromised(kid=signing.kid)

    response = scanner.with_key(filature_key).scan(credential)

    assert response.status_code == 200
    assert response.json()["decision"] == "refused"
    assert response.json()["reason"] == "unknown_key"


def test_a_compromised_key_is_no_longer_published_nor_used_to_sign(
    clock, alice_pass, signing, filature_key, scanner
):
    signing_key_compromised(kid=signing.kid)

    keys = scanner.with_key(filature_key).get("/api/v1/network/keys/").json()["keys"]

    assert keys == []
    with pytest.raises(KeyRegistryError):
        signing_key(NOW)


def test_a_key_past_its_verify_until_makes_its_credentials_unknown(
    clock, alice_pass, signing, filature_key, scanner
):
    card = credential_static(alice_pass)

    clock.move_to(signing.verify_until - dt.timedelta(minutes=1))
    assert scanner.with_key(filature_key).scan(card).json()["reason"] == "expired"

    clock.move_to(signing.verify_until + dt.timedelta(seconds=1))
    response = scanner.with_key(filature_key).scan(card)

    assert response.status_code == 200
    assert response.json()["decision"] == "refused"
    assert response.json()["reason"] == "unknown_key"


# --- The management command ------------------------------------------------------------------


def test_signing_keys_ensure_creates_one_key_and_is_idempotent(clock, db):
    call_command("signing_keys", "ensure", stdout=io.StringIO())
    call_command("signing_keys", "ensure", stdout=io.StringIO())

    [key] = SigningKey.objects.all()
    assert key.can_sign_at(NOW)


def test_signing_keys_ensure_keeps_an_existing_key(clock, signing):
    output = io.StringIO()

    call_command("signing_keys", "ensure", stdout=output)

    assert list(SigningKey.objects.values_list("kid", flat=True)) == [signing.kid]
    assert f"kid {signing.kid} signs until" in output.getvalue()


@pytest.mark.parametrize("seconds_into_the_window", [0, 1, 29])
def test_after_a_compromise_and_ensure_a_member_gets_a_code_at_once(
    clock, alice, alice_pass, signing, filature_key, scanner, api, seconds_into_the_window
):
    """The new key signs from now, within a window that started before it: the window's code
    says it was issued when the key started, not at the window's start."""
    clock.move_to(NOW + dt.timedelta(seconds=seconds_into_the_window))
    call_command("signing_keys", "compromised", str(signing.kid), stdout=io.StringIO())
    call_command("signing_keys", "ensure", stdout=io.StringIO())
    new_key = SigningKey.objects.get(status=SigningKey.Status.ACTIVE)

    response = api.as_(alice).get("/api/v1/me/pass/?windows=3")

    assert response.status_code == 200, response.json()
    credential = response.json()["credential"]
    claims = codec.decode(credential)[0]
    assert claims.kid == new_key.kid
    assert claims.issued_at == int(new_key.not_before.timestamp())
    assert claims.counter == codec.window_of(NOW.timestamp())
    # Later windows are signed as of their own start.
    upcoming = [codec.decode(item["credential"])[0] for item in response.json()["upcoming"]]
    assert [c.issued_at for c in upcoming[1:]] == [
        int(NOW.timestamp()) + codec.WINDOW_SECONDS * n for n in (1, 2)
    ]
    body = scanner.with_key(filature_key).scan(credential).json()
    assert (body["decision"], body["reason"]) == ("accepted", None)
