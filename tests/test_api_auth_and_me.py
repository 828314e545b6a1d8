"""Getting an API token and reading one's own profile (SPEC §5: auth/token, me)."""

from __future__ import annotations

import pytest

from coworking.models import MemberToken, token_digest
from spaces.models import Membership

from .factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"code", "detail", "fields"}


@pytest.mark.django_db
def test_a_member_exchanges_email_and_password_for_a_token(api, alice, clock):
    response = api.post(TOKEN_URL, {"email": "alice@mutualab.example", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert body["expires_at"] == "2026-12-31T09:00:00+01:00"  # TOKEN_TTL: 30 days
    token = MemberToken.objects.get(member=alice)
    # Stored as its hash: reading the database gives nobody a working token.
    assert token.digest == token_digest(body["token"])
    assert not MemberToken.objects.filter(digest=body["token"]).exists()


@pytest.mark.django_db
def test_the_email_is_matched_case_insensitively(api, alice):
    response = api.post(TOKEN_URL, {"email": "Alice@Mutualab.example", "password": PASSWORD})

    assert response.status_code == 200
    assert MemberToken.objects.get(member=alice).digest == token_digest(response.json()["token"])


@pytest.mark.django_db
def test_each_login_gets_a_token_of_its_own_and_both_work(api, alice):
    credentials = {"email": "alice@mutualab.example", "password": PASSWORD}

    first = api.post(TOKEN_URL, credentials).json()["token"]
    second = api.post(TOKEN_URL, credentials).json()["token"]

    assert first != second
    for token in (first, second):
        assert api.get(ME_URL, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_invalid_credentials(api, alice):
    response = api.post(TOKEN_URL, {"email": "alice@mutualab.example", "password": "nope"})

    assert response.status_code == 401
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "invalid_credentials"
    assert response["WWW-Authenticate"] == "Token"
    assert not MemberToken.objects.exists()


@pytest.mark.django_db
def test_an_unknown_email_is_refused_like_a_wrong_password(api, alice):
    response = api.post(TOKEN_URL, {"email": "nobody@mutualab.example", "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_an_inactive_member_gets_no_token(api, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = api.post(TOKEN_URL, {"email": "alice@mutualab.example", "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_a_missing_field_is_a_400_in_the_error_shape(api, alice):
    response = api.post(TOKEN_URL, {"email": "alice@mutualab.example"})

    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"password"}
    assert isinstance(body["fields"]["password"], list)


@pytest.mark.django_db
def test_the_token_authenticates_requests(api, alice):
    token = api.post(TOKEN_URL, {"email": "alice@mutualab.example", "password": PASSWORD}).json()[
        "token"
    ]

    response = api.get(ME_URL, HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert response.json()["email"] == "alice@mutualab.example"


@pytest.mark.django_db
def test_a_bad_token_is_a_401_in_the_error_shape(api, alice):
    response = api.get(ME_URL, HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "authentication_failed"


@pytest.mark.django_db
def test_me_shows_the_profile_memberships_and_calendar_url(api, alice, mutualab):
    response = api.as_(alice).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alice.pk
    assert body["first_name"] == "Alice"
    assert body["memberships"] == [
        {
            "id": alice.memberships.get().pk,
            "space": "mutualab",
            "space_name": "Mutualab",
            "plan": "Résident",
            "status": "active",
            "role": "member",
            "starts_on": "2025-01-01",
            "ends_on": None,
        }
    ]
    assert body["calendar_url"] == f"http://testserver/calendar/{alice.calendar_token}.ics"
    assert "password" not in body


@pytest.mark.django_db
def test_me_shows_the_co_manager_role(api, camille):
    body = api.as_(camille).get(ME_URL).json()

    assert [m["role"] for m in body["memberships"]] == [Membership.Role.CO_MANAGER]


@pytest.mark.django_db
def test_me_shows_only_ones_own_memberships(api, alice, charlie):
    body = api.as_(charlie).get(ME_URL).json()

    assert body["email"] == "charlie@filature.example"
    assert [m["space"] for m in body["memberships"]] == ["filature-roubaix"]


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_a_401_on_me(api):
    response = api.get(ME_URL)

    assert response.status_code == 401
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "not_authenticated"


@pytest.mark.django_db
def test_guessing_passwords_is_throttled(api, alice):
    # Ten different emails: the per-account lockout (test_login_lockout) stays out of the way.
    for attempt in range(10):
        response = api.post(TOKEN_URL, {"email": f"guess{attempt}@example.org", "password": "x"})
        assert response.status_code == 401

    response = api.post(TOKEN_URL, {"email": "alice@mutualab.example", "password": PASSWORD})

    assert response.status_code == 429
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "throttled"
    assert "Retry-After" in response
