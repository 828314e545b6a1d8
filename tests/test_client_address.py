"""The client address believes X-Forwarded-For for NUM_PROXIES hops and no more, wherever an
address is used: login throttling and lockout records, and DRF's throttles."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import RequestFactory
from rest_framework.throttling import BaseThrottle

from coworking.client_address import client_address

PROXY = "10.0.0.2"

# (NUM_PROXIES, REMOTE_ADDR, X-Forwarded-For or None, the client)
CASES = [
    (0, "203.0.113.1", None, "203.0.113.1"),
    (0, "203.0.113.1", "192.0.2.66", "203.0.113.1"),  # nothing in front: the header is made up
    (1, PROXY, None, PROXY),  # the proxy wrote no header: it is the client we know
    (1, PROXY, "203.0.113.1", "203.0.113.1"),
    (1, PROXY, "192.0.2.66, 203.0.113.1", "203.0.113.1"),  # the left part was made up
    (1, PROXY, "192.0.2.66,203.0.113.1", "203.0.113.1"),
    (2, PROXY, "192.0.2.66, 203.0.113.1, 10.0.0.1", "203.0.113.1"),
    (2, PROXY, "203.0.113.1", "203.0.113.1"),  # fewer hops than proxies: the left-most
    (1, PROXY, "2001:db8::1", "2001:db8::1"),
]


def request_from(remote: str, forwarded: str | None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/api/v1/auth/token/", **headers)


@pytest.mark.parametrize(("proxies", "remote", "forwarded", "client"), CASES)
def test_the_client_is_the_hop_our_last_trusted_proxy_saw(
    settings, proxies, remote, forwarded, client
):
    settings.NUM_PROXIES = proxies
    assert client_address(request_from(remote, forwarded)) == client


@pytest.mark.parametrize(("proxies", "remote", "forwarded", "client"), CASES)
def test_drf_throttles_see_the_same_client(settings, proxies, remote, forwarded, client):
    settings.NUM_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = request_from(remote, forwarded)
    assert BaseThrottle().get_ident(request) == client_address(request)


def test_drf_takes_its_number_of_proxies_from_num_proxies():
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == django_settings.NUM_PROXIES == 0


def test_a_hop_that_is_no_address_falls_back_to_the_peer(settings):
    settings.NUM_PROXIES = 1
    assert client_address(request_from(PROXY, "not-an-address")) == PROXY
    assert client_address(request_from("unix:", None)) is None


@pytest.mark.django_db
def test_lockout_records_keep_the_client_not_what_it_claims(settings, client):
    settings.NUM_PROXIES = 1
    client.post(
        "/connexion/",
        {"username": "someone@example.org", "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.1",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.1"]
