"""Partner (scanner) keys: created by a space's co-managers, shown once, stored hashed,
revocable, and good for scanning only (SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from coworking.models import AuditEntry
from passes.models import PartnerKey

from .conftest import NOW, make_partner_key, rotating_credential

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

FILATURE_KEYS = "/api/v1/spaces/filature-roubaix/partner-keys/"


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"code", "detail", "fields"}


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def create_key(api, dominique, name="Tablette de l'accueil") -> dict:
    response = api.as_(dominique).post(FILATURE_KEYS, {"name": name})
    assert response.status_code == 201
    return response.json()


# --- Creating, listing, revoking -------------------------------------------------------------


def test_a_co_manager_creates_a_key_and_sees_it_once(api, dominique, filature):
    response = api.as_(dominique).post(FILATURE_KEYS, {"name": "Douchette USB"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "key"}
    assert body["name"] == "Douchette USB"
    assert body["key"].startswith(f"{body['prefix']}.")
    partner_key = PartnerKey.objects.get(prefix=body["id"])
    assert partner_key.space == filature
    assert partner_key.created_by == dominique
    assert AuditEntry.objects.filter(
        action="partner_key.create", actor=dominique, target_id=body["prefix"]
    ).exists()


def test_the_raw_key_is_not_stored(api, dominique):
    body = create_key(api, dominique)

    partner_key = PartnerKey.objects.get(prefix=body["id"])
    assert partner_key.hashed_key != body["key"]
    stored = model_to_dict(partner_key) | {
        "id": partner_key.pk,
        "prefix": partner_key.prefix,
        "hashed_key": partner_key.hashed_key,
    }
    assert all(body["key"] not in str(value) for value in stored.values())


def test_the_list_never_shows_a_key(api, dominique):
    created = create_key(api, dominique)

    response = api.as_(dominique).get(FILATURE_KEYS)

    assert response.status_code == 200
    (listed,) = response.json()
    assert listed["id"] == created["id"]
    assert listed["prefix"] == created["prefix"]
    assert "key" not in listed
    assert "hashed_key" not in listed
    assert created["key"] not in response.content.decode()


def test_a_new_key_scans_at_once(api, dominique, alice_pass):
    key = create_key(api, dominique)["key"]

    response = key_client(key).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"


def test_a_revoked_key_no_longer_scans(api, dominique, alice_pass):
    created = create_key(api, dominique)

    response = api.as_(dominique).delete(f"{FILATURE_KEYS}{created['id']}/")

    assert response.status_code == 204
    assert PartnerKey.objects.get(prefix=created["id"]).revoked
    assert AuditEntry.objects.filter(
        action="partner_key.revoke", target_id=created["prefix"]
    ).exists()
    scan = key_client(created["key"]).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )
    assert scan.status_code == 401
    assert_error_shape(scan.json())


def test_an_expired_key_no_longer_scans(filature, alice_pass):
    _partner_key, key = PartnerKey.objects.create_key(
        name="Ancienne tablette", space=filature, expiry_date=NOW - dt.timedelta(minutes=1)
    )

    response = key_client(key).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 401
    assert_error_shape(response.json())


def test_a_key_in_use_records_when_it_was_last_used(filature, filature_key, alice_pass, clock):
    partner_key = PartnerKey.objects.get(space=filature)
    PartnerKey.objects.filter(pk=partner_key.pk).update(
        last_used_at=NOW - dt.timedelta(days=1, seconds=60)
    )

    key_client(filature_key).get("/api/v1/network/keys/")

    partner_key.refresh_from_db()
    assert partner_key.last_used_at == NOW


# --- Who may manage a space's keys -----------------------------------------------------------


def test_another_spaces_co_manager_gets_404(api, camille, dominique, filature):
    created = create_key(api, dominique)
    api.as_(camille)

    listing = api.get(FILATURE_KEYS)
    creating = api.post(FILATURE_KEYS, {"name": "Pirate"})
    deleting = api.delete(f"{FILATURE_KEYS}{created['id']}/")

    assert [listing.status_code, creating.status_code, deleting.status_code] == [404, 404, 404]
    assert_error_shape(listing.json())
    assert PartnerKey.objects.filter(space=filature).count() == 1
    assert not PartnerKey.objects.get(prefix=created["id"]).revoked


def test_a_co_manager_cannot_revoke_another_spaces_key_through_their_own_space(
    api, camille, dominique
):
    created = create_key(api, dominique)

    response = api.as_(camille).delete(f"/api/v1/spaces/mutualab/partner-keys/{created['id']}/")

    assert response.status_code == 404
    assert not PartnerKey.objects.get(prefix=created["id"]).revoked


def test_a_plain_member_gets_404(api, charlie, filature):
    api.as_(charlie)

    assert api.get(FILATURE_KEYS).status_code == 404
    assert api.post(FILATURE_KEYS, {"name": "Pirate"}).status_code == 404
    assert not PartnerKey.objects.exists()


def test_an_anonymous_caller_gets_401(api, filature):
    response = api.post(FILATURE_KEYS, {"name": "Pirate"})

    assert response.status_code == 401
    assert_error_shape(response.json())
    assert api.get(FILATURE_KEYS).status_code == 401


def test_a_key_needs_a_name(api, dominique):
    response = api.as_(dominique).post(FILATURE_KEYS, {})

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


# --- What a key may call ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key ",
        "Api-Key nodotatall",
        "Api-Key AbCdEfGh.not-the-secret",
        "Api-Key a b c",
        "Api-Key Ã©\xff.x",  # what a non-ASCII header looks like once decoded by WSGI
    ],
)
def test_an_unknown_or_malformed_key_gets_401(filature_key, alice_pass, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 401
    assert_error_shape(response.json())


def test_a_key_cut_short_gets_401(filature_key, alice_pass):
    response = key_client(filature_key[:-1]).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/me/pass/"),
        ("get", "/api/v1/bookings/"),
        ("post", "/api/v1/bookings/"),
        ("get", FILATURE_KEYS),
        ("post", FILATURE_KEYS),
        ("get", "/api/v1/spaces/filature-roubaix/passes/"),
        ("get", "/api/v1/spaces/filature-roubaix/scans/"),
        ("get", "/api/v1/spaces/filature-roubaix/visits/"),
    ],
)
def test_a_key_cannot_call_member_or_co_manager_endpoints(filature_key, method, url):
    response = getattr(key_client(filature_key), method)(
        url, {"name": "x"} if method == "post" else None, format="json"
    )

    assert response.status_code in {401, 403}
    assert_error_shape(response.json())
    assert PartnerKey.objects.count() == 1


def test_a_key_acts_for_its_own_space_only(quai_key, filature, alice_pass):
    response = key_client(quai_key).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["visit"]["host"] == "quai-tourcoing"


def test_a_second_key_of_the_same_space_is_independent(api, dominique, filature, alice_pass):
    kept = make_partner_key(filature, name="Tablette")
    dropped = create_key(api, dominique, name="Ancienne douchette")
    api.as_(dominique).delete(f"{FILATURE_KEYS}{dropped['id']}/")

    response = key_client(kept).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )

    assert response.status_code == 200


def test_the_key_list_costs_constant_queries(api, dominique, filature):
    api.as_(dominique)
    for number in range(2):
        make_partner_key(filature, name=f"Lecteur {number}")
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(FILATURE_KEYS).json()) == 2

    for number in range(2, 10):
        make_partner_key(filature, name=f"Lecteur {number}")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(FILATURE_KEYS).json()) == 10

    assert len(many) == len(few)
