"""Repeated failed logins lock that email from that address for a while (django-axes)."""

import pytest
from django.conf import settings

from .factories import PASSWORD

pytestmark = pytest.mark.django_db


def token(client, email, password):
    return client.post(
        "/api/v1/auth/token/",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR="203.0.113.7",
    )


# Fewer attempts than the token throttle allows (10/min): only the lockout answers here.


def test_the_token_endpoint_locks_after_repeated_failures(api, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token(api, alice.email, "wrong").status_code == 401
    locked = token(api, alice.email, "wrong")
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
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
        client.post(
            "/connexion/", {"username": alice.email, "password": "wrong"}, REMOTE_ADDR="203.0.113.8"
        )
    response = client.post(
        "/connexion/", {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.8"
    )
    assert response.status_code == 429
