"""A scanner with no network decides from the published keys and revocation list alone."""

import datetime as dt

import pytest

from passes.offline import OfflineVerifier, RevocationListError
from passes.services import credential_static, pass_revoke, pass_suspend

from .conftest import NOW, partner_client, rotating_credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(clock, network, signing, filature_key):
    """A tablet at La Filature that synced keys and revocations while it was online."""
    client = partner_client(filature_key)
    verifier = OfflineVerifier.from_published(
        client.get("/api/v1/network/keys/").json(), network.slug
    )
    verifier.apply_revocations(client.get("/api/v1/network/revocations/").json())
    verifier.client = client
    return verifier


def sync(device):
    signed = device.client.get(f"/api/v1/network/revocations/?since={device.version}").json()
    device.apply_revocations(signed)


def test_a_valid_rotating_credential_is_accepted_offline(device, alice_pass):
    decision = device.verify(rotating_credential(alice_pass), NOW.timestamp())
    assert (decision.decision, decision.reason) == ("accepted", None)
    assert decision.claims.pass_id == alice_pass.pk


def test_a_printed_card_is_refused_offline_but_accepted_online(device, alice_pass, filature_key):
    card = credential_static(alice_pass)
    assert device.verify(card, NOW.timestamp()).reason == "online_only"
    assert partner_client(filature_key).scan(card).json()["decision"] == "accepted"


def test_a_forged_or_stale_credential_is_refused_offline(device, alice_pass):
    code = rotating_credential(alice_pass)
    forged = code[:50] + ("A" if code[50] != "A" else "B") + code[51:]
    assert device.verify(forged, NOW.timestamp()).reason in {"bad_signature", "malformed"}
    later = (NOW + dt.timedelta(minutes=5)).timestamp()
    assert device.verify(code, later).reason == "expired"


def test_a_revocation_synced_as_a_delta_is_refused_offline(device, alice_pass, bob_pass, camille):
    start_version = device.version
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="perdu")
    pass_suspend(pass_obj=bob_pass, actor=camille, reason="impayé")
    sync(device)
    assert device.version > start_version
    assert device.verify(rotating_credential(alice_pass), NOW.timestamp()).reason == "revoked"
    assert device.verify(rotating_credential(bob_pass), NOW.timestamp()).reason == "suspended"


def test_a_tampered_revocation_list_is_rejected(device, alice_pass, camille):
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="perdu")
    signed = device.client.get(f"/api/v1/network/revocations/?since={device.version}").json()
    signed["payload"]["revoked"] = []
    with pytest.raises(RevocationListError):
        device.apply_revocations(signed)


def test_a_delta_that_skips_versions_is_rejected(device, alice_pass, bob_pass, camille):
    pass_suspend(pass_obj=bob_pass, actor=camille, reason="impayé")
    skipped = device.version + 1
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="perdu")
    signed = device.client.get(f"/api/v1/network/revocations/?since={skipped}").json()
    with pytest.raises(RevocationListError):
        device.apply_revocations(signed)


def test_a_pass_from_outside_the_network_is_refused_offline(device, alice_pass):
    device.network_space_ids.discard(alice_pass.membership.space_id)
    assert device.verify(rotating_credential(alice_pass), NOW.timestamp()).reason == (
        "not_in_network"
    )
