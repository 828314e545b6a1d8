"""API tokens expire, end at logout, and all end when their member's password changes or the
member is deactivated or erased; a revocation holds at once, in every process."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from coworking.models import Member, MemberToken
from coworking.privacy import member_erase
from coworking.tokens import token_issue

from .conftest import NOW
from .factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

ME = "/api/v1/me/"
LOGOUT = "/api/v1/auth/logout/"


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def log_in(email: str = "alice@mutualab.example") -> APIClient:
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return bearer(response.json()["token"])


def assert_refused(response, code: str = "authentication_failed") -> None:
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"] == "Token"


# --- Expiry --------------------------------------------------------------------------------------


def test_a_token_works_until_its_expiry_then_answers_token_expired(alice, clock):
    phone = log_in()
    clock.move_to(NOW + settings.TOKEN_TTL - dt.timedelta(seconds=1))
    assert phone.get(ME).status_code == 200
    clock.move_to(NOW + settings.TOKEN_TTL)
    assert_refused(phone.get(ME), "token_expired")


def test_using_a_token_does_not_extend_it(alice, clock):
    phone = log_in()
    for days in (10, 20, 29):
        clock.move_to(NOW + dt.timedelta(days=days))
        assert phone.get(ME).status_code == 200
    clock.move_to(NOW + settings.TOKEN_TTL)
    assert_refused(phone.get(ME), "token_expired")


def test_logging_in_again_gives_a_fresh_token_and_drops_the_expired_ones(alice, clock):
    old, _key = token_issue(member=alice)
    clock.move_to(NOW + settings.TOKEN_TTL + dt.timedelta(days=1))
    phone = log_in()
    assert phone.get(ME).status_code == 200
    assert not MemberToken.objects.filter(pk=old.pk).exists()


def test_a_token_costs_one_query_and_no_write(alice):
    phone = log_in()
    with CaptureQueriesContext(connection) as queries:
        assert phone.get(ME).status_code == 200
    token_queries = [q["sql"] for q in queries.captured_queries if "membertoken" in q["sql"]]
    assert len(token_queries) == 1 and token_queries[0].startswith("SELECT")


# --- Logout --------------------------------------------------------------------------------------


def test_logout_ends_the_callers_token_only(alice):
    phone, laptop = log_in(), log_in()

    assert phone.post(LOGOUT).status_code == 204

    assert_refused(phone.get(ME))
    assert laptop.get(ME).status_code == 200


def test_logout_without_credentials_is_a_401(db):
    response = APIClient().post(LOGOUT)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logout_ends_a_browser_session_too(alice, client):
    client.force_login(alice)
    assert client.get(ME).status_code == 200
    assert client.post(LOGOUT).status_code == 204
    assert client.get(ME).json()["code"] == "not_authenticated"


# --- Revocation by the member's changes ----------------------------------------------------------


def test_a_new_password_revokes_every_token(alice):
    phone, laptop = log_in(), log_in()
    alice.set_password("a brand new passphrase")
    alice.save()
    assert_refused(phone.get(ME))
    assert_refused(laptop.get(ME))
    assert not MemberToken.objects.filter(member=alice).exists()


def test_a_password_changed_in_the_admin_revokes_every_token(alice, camille, client):
    phone = log_in()
    client.force_login(camille)
    response = client.post(
        f"/admin/coworking/member/{alice.pk}/password/",
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase"},
    )
    assert response.status_code == 302, response.content[:500]
    assert_refused(phone.get(ME))


def test_deactivation_revokes_every_token_and_reactivation_brings_none_back(alice):
    phone = log_in()
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert_refused(phone.get(ME))
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    assert_refused(phone.get(ME))


def test_erasure_revokes_every_token(alice):
    phone = log_in()
    member_erase(alice, actor=None)
    assert_refused(phone.get(ME))
    assert not MemberToken.objects.filter(member=alice).exists()


def test_other_changes_to_the_member_keep_their_tokens(alice):
    phone = log_in()
    alice.first_name = "Alicia"
    alice.save()
    alice.rotate_calendar_token()
    assert phone.get(ME).status_code == 200


def test_a_change_made_by_another_process_holds_at_once(alice):
    # No signal, no cache to forget: an update straight to the database, as another worker's.
    phone = log_in()
    assert phone.get(ME).status_code == 200
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    assert_refused(phone.get(ME))
    Member.objects.filter(pk=alice.pk).update(is_active=True)
    assert phone.get(ME).status_code == 200
    MemberToken.objects.filter(member=alice).delete()
    assert_refused(phone.get(ME))


# --- Web sessions follow the same rules ----------------------------------------------------------


def test_a_deactivated_members_web_session_ends(alice, client):
    client.force_login(alice)
    assert client.get("/reservations/").status_code == 200
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    assert client.get("/reservations/").status_code == 302


def test_a_new_password_ends_the_other_web_sessions(alice, client):
    client.force_login(alice)
    assert client.get("/reservations/").status_code == 200
    alice.set_password("a brand new passphrase")
    alice.save()
    assert client.get("/reservations/").status_code == 302
