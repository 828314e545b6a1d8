"""Member tokens are kept in each process's memory for a few seconds, and forgotten on change."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api import authentication
from coworking import memo
from coworking.models import Member

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def alice_client(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    return client


def test_a_known_token_costs_no_query(alice_client):
    assert alice_client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get(ME).status_code == 200
    assert not [q for q in queries.captured_queries if "authtoken_token" in q["sql"]]


def test_a_deleted_token_is_refused_at_once(alice, alice_client):
    assert alice_client.get(ME).status_code == 200
    Token.objects.filter(user=alice).delete()  # as the erasure does
    assert alice_client.get(ME).status_code == 401


def test_a_deactivated_member_is_refused_at_once(alice, alice_client):
    assert alice_client.get(ME).status_code == 200
    alice.is_active = False
    alice.save()
    assert alice_client.get(ME).status_code == 401


def test_a_change_made_by_another_process_is_seen_within_the_delay(
    alice, alice_client, monkeypatch
):
    assert alice_client.get(ME).status_code == 200
    Member.objects.filter(pk=alice.pk).update(is_active=False)  # no signal: another worker
    assert alice_client.get(ME).status_code == 200  # still in this process's memory
    later = time.monotonic() + authentication.TOKEN_CACHE_SECONDS + 0.1
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    assert alice_client.get(ME).status_code == 401


def test_each_request_gets_its_own_member_object(alice_client, monkeypatch):
    from django.contrib.auth import get_user_model

    seen = []
    original = authentication.CachedTokenAuthentication.authenticate_credentials

    def spy(self, key):
        member, token = original(self, key)
        seen.append(member)
        return member, token

    monkeypatch.setattr(authentication.CachedTokenAuthentication, "authenticate_credentials", spy)
    alice_client.get(ME)
    alice_client.get(ME)
    assert isinstance(seen[1], get_user_model())
    assert seen[0] is not seen[1] and seen[0].pk == seen[1].pk
