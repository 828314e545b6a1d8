"""A scanner with no network decides from the published keys and revocation list alone."""

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from passes.offline import OfflineVerifier, RevocationListError
from passes.services import credential_static, pass_reinstate, pass_revoke, pass_suspend

from .conftest import NOW, in_ci, partner_client, rotating_credential

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
    verifier.network_slug = network.slug
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


def test_a_deactivated_account_synced_as_a_delta_is_refused_offline_until_reactivated(
    device, alice_pass
):
    member = alice_pass.member
    member.is_active = False
    member.save()
    sync(device)
    code = rotating_credential(alice_pass)
    assert device.verify(code, NOW.timestamp()).reason == "account_inactive"

    member.is_active = True
    member.save()
    sync(device)
    assert device.verify(code, NOW.timestamp()).decision == "accepted"


# --- The scanner's JavaScript port agrees, on the same lists and codes -------------------------

NODE_DRIVER = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
import(input.module).then(async (verify) => {
  let state = null;
  const reasons = [];
  for (const step of input.steps) {
    state = await verify.applyRevocations(state, step.list, input.keys.keys);
    const held = verify.offlineState(input.keys, state);
    for (const code of step.codes) {
      reasons.push((await verify.verifyOffline(code, input.now, held)).reason);
    }
  }
  process.stdout.write(JSON.stringify(reasons));
});
"""


def test_the_javascript_verifier_follows_the_python_one_through_deltas(
    device, alice_pass, bob_pass, camille
):
    """Full list, then deltas that suspend, deactivate, reinstate, reactivate and revoke: both
    verifiers hold the same state and give the same reason for every code at every step."""
    if shutil.which("node") is None:
        if in_ci():
            pytest.fail("needs Node.js to run the scanner's JS (CI must install it)")
        pytest.skip("needs Node.js to run the scanner's JS")
    keys = device.client.get("/api/v1/network/keys/").json()
    codes = [rotating_credential(alice_pass), rotating_credential(bob_pass)]
    alice, bob = alice_pass.member, bob_pass.member

    def set_active(member, active):
        member.is_active = active
        member.save()

    changes = [
        lambda: pass_suspend(pass_obj=bob_pass, actor=camille, reason="impayé"),
        lambda: set_active(alice, False),
        lambda: set_active(bob, False),
        lambda: pass_reinstate(pass_obj=bob_pass, actor=camille, reason="réglé"),
        lambda: set_active(alice, True),
        lambda: pass_revoke(pass_obj=bob_pass, actor=camille, reason="perdu"),
    ]
    python = OfflineVerifier.from_published(keys, device.network_slug)
    steps, expected = [], []
    for change in [None, *changes]:
        if change is None:
            signed = device.client.get("/api/v1/network/revocations/").json()
        else:
            change()
            since = python.version
            signed = device.client.get(f"/api/v1/network/revocations/?since={since}").json()
        python.apply_revocations(signed)
        steps.append({"list": signed, "codes": codes})
        expected += [python.verify(code, NOW.timestamp()).reason for code in codes]

    module = (Path(settings.BASE_DIR) / "web" / "static" / "web" / "scanner-verify.js").as_uri()
    run = subprocess.run(
        ["node", "-e", NODE_DRIVER],
        input=json.dumps({"module": module, "keys": keys, "steps": steps, "now": NOW.timestamp()}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(run.stdout) == expected
    assert expected == [
        *[None, None],
        *[None, "suspended"],
        *["account_inactive", "suspended"],
        *["account_inactive", "suspended"],
        *["account_inactive", "account_inactive"],
        *[None, "account_inactive"],
        *[None, "revoked"],
    ]
