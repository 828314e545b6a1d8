"""The signed revocation list that offline scanners cache: full list, deltas, access."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coworking.tokens import token_issue
from passes.models import RevocationEvent
from passes.revocations import canonical_json
from passes.services import pass_reinstate, pass_revoke, pass_suspend

from .conftest import NOW

pytestmark = pytest.mark.django_db

URL = "/api/v1/network/revocations/"


@pytest.fixture
def partner(scanner, filature_key):
    """La Filature's scanner."""
    return scanner.with_key(filature_key)


def fetch(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def published_key(client, kid: int) -> Ed25519PublicKey:
    keys = client.get("/api/v1/network/keys/").json()["keys"]
    [text] = [key["public_key"] for key in keys if key["kid"] == kid]
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def suspend(pass_obj, actor):
    return pass_suspend(pass_obj=pass_obj, actor=actor, reason="Cotisation impayée")


def test_the_list_is_a_signed_payload(clock, partner, alice_pass):
    body = fetch(partner)

    assert set(body) == {"payload", "kid", "signature"}
    assert body["payload"] == {
        "network": "chtipass",
        "version": 0,
        "since": None,
        "full": True,
        "generated_at": int(NOW.timestamp()),
        "revoked": [],
        "suspended": [],
        "account_inactive": [],
        "reinstated": [],
    }


def test_the_signature_verifies_with_the_published_key(clock, partner, alice_pass, camille):
    suspend(alice_pass, camille)
    body = fetch(partner)
    public_key = published_key(partner, body["kid"])

    public_key.verify(
        base64.b64decode(body["signature"]), b"CP1-RL" + canonical_json(body["payload"])
    )


def test_a_changed_payload_no_longer_verifies(clock, partner, alice_pass, bob_pass, camille):
    suspend(alice_pass, camille)
    body = fetch(partner)
    public_key = published_key(partner, body["kid"])
    doctored = {**body["payload"], "suspended": []}

    with pytest.raises(InvalidSignature):
        public_key.verify(base64.b64decode(body["signature"]), b"CP1-RL" + canonical_json(doctored))


def test_a_suspended_then_revoked_pass_is_in_revoked(clock, partner, alice_pass, bob_pass, camille):
    suspend(alice_pass, camille)
    assert fetch(partner)["payload"]["suspended"] == [alice_pass.pk]

    pass_revoke(pass_obj=alice_pass, actor=camille, reason="Départ de l'espace")
    payload = fetch(partner)["payload"]

    assert payload["full"] is True
    assert payload["revoked"] == [alice_pass.pk]
    assert payload["suspended"] == []
    assert payload["reinstated"] == []


def test_the_version_increases_with_each_change(clock, partner, alice_pass, bob_pass, camille):
    versions = [fetch(partner)["payload"]["version"]]
    suspend(alice_pass, camille)
    versions.append(fetch(partner)["payload"]["version"])
    suspend(bob_pass, camille)
    versions.append(fetch(partner)["payload"]["version"])
    pass_reinstate(pass_obj=bob_pass, actor=camille, reason="Réglé")
    versions.append(fetch(partner)["payload"]["version"])

    assert versions == sorted(set(versions))
    assert len(versions) == 4


def test_since_returns_only_the_later_changes(clock, partner, alice_pass, bob_pass, camille):
    suspend(alice_pass, camille)
    version = fetch(partner)["payload"]["version"]
    suspend(bob_pass, camille)

    payload = fetch(partner, since=version)["payload"]

    assert payload["full"] is False
    assert payload["since"] == version
    assert payload["version"] > version
    assert payload["suspended"] == [bob_pass.pk]
    assert payload["revoked"] == []
    assert payload["reinstated"] == []


def test_a_delta_shows_a_reinstated_pass_in_reinstated(clock, partner, bob_pass, camille):
    suspend(bob_pass, camille)
    version = fetch(partner)["payload"]["version"]
    pass_reinstate(pass_obj=bob_pass, actor=camille, reason="Cotisation réglée")

    delta = fetch(partner, since=version)["payload"]
    full = fetch(partner)["payload"]

    assert delta["reinstated"] == [bob_pass.pk]
    assert delta["suspended"] == []
    assert full["suspended"] == full["reinstated"] == []


def test_a_delta_lists_each_pass_once_with_its_latest_state(clock, partner, bob_pass, camille):
    version = fetch(partner)["payload"]["version"]
    suspend(bob_pass, camille)
    pass_reinstate(pass_obj=bob_pass, actor=camille, reason="Erreur")
    suspend(bob_pass, camille)

    payload = fetch(partner, since=version)["payload"]

    assert payload["suspended"] == [bob_pass.pk]
    assert payload["reinstated"] == []


def test_since_the_current_version_is_an_empty_delta(clock, partner, alice_pass, camille):
    suspend(alice_pass, camille)
    version = fetch(partner)["payload"]["version"]

    payload = fetch(partner, since=version)["payload"]

    assert payload["full"] is False
    assert payload["version"] == version
    assert payload["revoked"] == payload["suspended"] == payload["reinstated"] == []


def test_a_since_larger_than_the_current_version_gets_the_full_list(
    clock, partner, alice_pass, camille
):
    suspend(alice_pass, camille)
    version = fetch(partner)["payload"]["version"]

    payload = fetch(partner, since=version + 1000)["payload"]

    assert payload["full"] is True
    assert payload["since"] is None
    assert payload["version"] == version
    assert payload["suspended"] == [alice_pass.pk]


# --- Deactivated accounts --------------------------------------------------------------------


def deactivate(member, *, active: bool = False):
    """As the admin's change form does: the whole member saved."""
    member.is_active = active
    member.save()


def test_a_deactivated_account_is_in_the_full_list(clock, partner, alice_pass, bob_pass):
    deactivate(alice_pass.member)

    payload = fetch(partner)["payload"]

    assert payload["account_inactive"] == [alice_pass.pk]
    assert payload["revoked"] == payload["suspended"] == payload["reinstated"] == []


def test_deactivation_and_reactivation_come_as_deltas_by_version(
    clock, partner, alice_pass, bob_pass
):
    version = fetch(partner)["payload"]["version"]
    deactivate(alice_pass.member)

    delta = fetch(partner, since=version)["payload"]
    assert delta["version"] > version
    assert delta["account_inactive"] == [alice_pass.pk]

    deactivate(alice_pass.member, active=True)
    again = fetch(partner, since=delta["version"])["payload"]
    assert again["version"] > delta["version"]
    assert again["reinstated"] == [alice_pass.pk]
    assert again["account_inactive"] == []
    assert fetch(partner)["payload"]["account_inactive"] == []


def test_a_suspended_pass_of_a_deactivated_account_stays_suspended(
    clock, partner, alice_pass, camille
):
    """A pass is listed once, by the first reason a scan would give (SPEC §3 order)."""
    suspend(alice_pass, camille)
    version = fetch(partner)["payload"]["version"]
    deactivate(alice_pass.member)

    assert fetch(partner)["payload"]["suspended"] == [alice_pass.pk]
    assert fetch(partner)["payload"]["account_inactive"] == []
    pass_reinstate(pass_obj=alice_pass, actor=camille, reason="Réglé")
    delta = fetch(partner, since=version)["payload"]
    assert delta["account_inactive"] == [alice_pass.pk]
    assert delta["suspended"] == delta["reinstated"] == []


def test_saving_a_member_writes_an_event_only_when_the_account_changes(clock, partner, alice_pass):
    member = alice_pass.member
    version = fetch(partner)["payload"]["version"]
    member.first_name = "Alix"
    member.save()
    member.save(update_fields=["last_login"])
    assert fetch(partner)["payload"]["version"] == version

    deactivate(member)
    deactivate(member)  # saved again, still inactive
    assert RevocationEvent.objects.filter(action="deactivate").count() == 1


def test_a_revoked_pass_gets_no_account_event(clock, partner, alice_pass, camille):
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="Départ")
    version = fetch(partner)["payload"]["version"]
    deactivate(alice_pass.member)

    assert fetch(partner)["payload"]["version"] == version
    assert fetch(partner)["payload"]["revoked"] == [alice_pass.pk]


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "1e3"])
def test_a_since_that_is_not_a_version_is_400(clock, partner, alice_pass, since):
    response = partner.get(URL, {"since": since})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "since" in response.json()["fields"]


def test_an_anonymous_client_gets_401(clock, network, signing, api):
    response = api.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_member_gets_403(clock, alice_pass, api, alice):
    response = api.as_(alice).get(URL)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_member_with_a_token_gets_403(clock, alice_pass, api, alice):
    _token, key = token_issue(member=alice)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get(URL)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_co_manager_may_read_the_list(clock, alice_pass, camille, api):
    suspend(alice_pass, camille)

    response = api.as_(camille).get(URL)

    assert response.status_code == 200
    assert response.json()["payload"]["suspended"] == [alice_pass.pk]
