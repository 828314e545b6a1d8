"""Guessing passwords: five wrong ones lock the account, whatever the case of the email, the
login path or the address the request claims; a client address gets few attempts a minute."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from spaces.models import Membership

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # our reverse proxy, as gunicorn sees it


def token(client, email, password, **headers):
    headers.setdefault("REMOTE_ADDR", "203.0.113.7")
    return client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json", **headers
    )


def web_login(client, email, password, **headers):
    headers.setdefault("REMOTE_ADDR", "203.0.113.8")
    return client.post("/connexion/", {"username": email, "password": password}, **headers)


def admin_login(client, email, password, **headers):
    headers.setdefault("REMOTE_ADDR", "203.0.113.9")
    return client.post("/admin/login/", {"username": email, "password": password}, **headers)


def browsable_api_login(client, email, password, **headers):
    headers.setdefault("REMOTE_ADDR", "203.0.113.10")
    return client.post("/api/v1/auth/login/", {"username": email, "password": password}, **headers)


# Fewer attempts than the per-address rate allows (10/min): only the lockout answers here.


def test_the_token_endpoint_locks_after_repeated_failures(api, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token(api, alice.email, "wrong").status_code == 401
    locked = token(api, alice.email, "wrong")
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked" and locked.json()["fields"] == {}
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
    # Even the right password is refused while locked.
    assert token(api, alice.email, PASSWORD).status_code == 429


def test_a_success_before_the_limit_resets_the_count(api, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        token(api, alice.email, "wrong")
    assert token(api, alice.email, PASSWORD).status_code == 200
    assert token(api, alice.email, "wrong").status_code == 401


def test_another_member_is_not_locked_by_someone_elses_failures(api, alice, bob):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(api, alice.email, "wrong")
    assert token(api, bob.email, PASSWORD).status_code == 200


def test_the_web_login_locks_too(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(client, alice.email, "wrong")
    assert web_login(client, alice.email, PASSWORD).status_code == 429


def test_five_wrong_passwords_in_any_case_on_any_path_from_any_address_lock_the_account(
    api, client, alice, camille
):
    # Camille may use the admin: her right password would let her in there.
    attempts = [
        (token, api, "CAMILLE@mutualab.example", "198.51.100.1"),
        (web_login, client, "Camille@Mutualab.Example", "198.51.100.2"),
        (admin_login, client, "camille@MUTUALAB.example", "198.51.100.3"),
        (browsable_api_login, client, " camille@mutualab.example ", "198.51.100.4"),
        (token, api, "cAmIlLe@mUtUaLaB.eXaMpLe", "198.51.100.5"),
    ]
    for attempt, http, email, address in attempts[:-1]:
        assert attempt(http, email, "wrong", REMOTE_ADDR=address).status_code in {200, 401}
    attempt, http, email, address = attempts[-1]
    assert attempt(http, email, "wrong", REMOTE_ADDR=address).status_code == 429

    # The right password, on every path, in the plain spelling, from yet another address.
    assert token(api, camille.email, PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert web_login(client, camille.email, PASSWORD, REMOTE_ADDR="192.0.2.2").status_code == 429
    assert admin_login(client, camille.email, PASSWORD, REMOTE_ADDR="192.0.2.3").status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("num_proxies", [0, 1])
def test_a_made_up_forwarded_for_per_request_does_not_reset_the_lockout(
    api, alice, settings, num_proxies
):
    settings.NUM_PROXIES = num_proxies
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        made_up = f"192.0.2.{attempt + 1}, 198.51.100.{attempt + 1}"
        response = token(api, alice.email, "wrong", HTTP_X_FORWARDED_FOR=made_up)
    assert response.status_code == 429
    assert token(api, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_wrong_passwords_at_account_erasure_count_like_failed_logins(api, alice):
    # A stolen token does not give unlimited guesses of the password behind it.
    member = APIClient()
    member.force_authenticate(alice)
    erase = "/api/v1/me/erase/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = member.post(erase, {"password": "wrong"}, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid_password"
    locked = member.post(erase, {"password": "wrong"}, format="json")
    assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
    assert member.post(erase, {"password": PASSWORD}, format="json").status_code == 429
    assert token(api, alice.email, PASSWORD).status_code == 429
    alice.refresh_from_db()
    assert alice.is_active


# --- Attempts per client address ---------------------------------------------------------------


def spray(api, client, count: int, headers) -> list[int]:
    """One wrong password for each of `count` emails, half on the API, half on the web login."""
    statuses = []
    for n in range(count):
        attempt, http = (token, api) if n % 2 else (web_login, client)
        response = attempt(http, f"person{n}@example.org", "wrong", **headers(n))
        statuses.append(response.status_code)
    return statuses


def test_spraying_one_password_over_many_accounts_is_throttled_per_address(api, client):
    statuses = spray(api, client, 11, headers=lambda n: {"REMOTE_ADDR": "203.0.113.50"})
    assert statuses[:10] == [200, 401] * 5  # the web login page shows its form again
    assert statuses[10] == 429
    throttled = token(api, "someone@example.org", "x", REMOTE_ADDR="203.0.113.50")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    # Another client is not slowed down by this one.
    assert token(api, "someone@example.org", "x", REMOTE_ADDR="203.0.113.51").status_code == 401


def test_a_made_up_forwarded_for_is_ignored_without_proxies(api, client, settings):
    settings.NUM_PROXIES = 0
    statuses = spray(
        api,
        client,
        11,
        headers=lambda n: {"REMOTE_ADDR": "203.0.113.60", "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"},
    )
    assert statuses[10] == 429


def test_behind_one_proxy_the_address_it_appended_is_the_client(api, client, settings):
    settings.NUM_PROXIES = 1

    def through_the_proxy(n: int) -> dict:
        # The client made up the left part; our proxy appended the address it saw.
        return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}, 203.0.113.70"}

    statuses = spray(api, client, 11, headers=through_the_proxy)
    assert statuses[10] == 429
    # Another client behind the same proxy has attempts of its own.
    other = token(api, "x@example.org", "x", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.71")
    assert other.status_code == 401


def test_a_locked_out_co_manager_cannot_reach_the_admin(client, camille):
    assert camille.memberships.get().role == Membership.Role.CO_MANAGER
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, camille.email, "wrong")
    response = admin_login(client, camille.email, PASSWORD)
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # to the login page
