"""Scanner keys are throttled per key; keys (partner and signing) are read afresh at each scan."""

import datetime as dt

import pytest

from api.passes_views import PartnerThrottle
from passes.models import PartnerKey, Scan, SigningKey
from passes.partner_keys import partner_key_revoke

from .conftest import make_partner_key, partner_client, rotating_credential

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_tallies(monkeypatch):
    monkeypatch.setattr(PartnerThrottle, "_tallies", {})


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setitem(PartnerThrottle.THROTTLE_RATES, "scan", "3/min")


def test_a_scanner_key_is_throttled_per_key_and_window(
    clock, alice_pass, filature, scanner, three_a_minute
):
    first, second = make_partner_key(filature), make_partner_key(filature, "Téléphone")
    at_first = scanner.with_key(first)
    for _ in range(3):
        assert at_first.scan(rotating_credential(alice_pass)).status_code == 200
    refused = at_first.scan(rotating_credential(alice_pass))
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Scan.objects.count() == 3  # the refused request recorded nothing
    # Another device of the same space has its own count.
    assert partner_client(second).scan(rotating_credential(alice_pass)).status_code == 200
    # The next window starts afresh.
    clock.shift(dt.timedelta(seconds=61))
    assert at_first.scan(rotating_credential(alice_pass)).status_code == 200


def test_far_from_the_limit_the_cache_is_told_ten_scans_at_a_time(
    clock, alice_pass, filature, scanner, monkeypatch
):
    from django.core.cache import cache

    monkeypatch.setitem(PartnerThrottle.THROTTLE_RATES, "scan", "1000/min")
    told = []
    incr = cache.incr

    def spy(key, delta=1):
        count = incr(key, delta)  # raises for the window's first word, before it is added
        told.append(delta)
        return count

    monkeypatch.setattr(cache, "incr", spy)
    at_filature = scanner.with_key(make_partner_key(filature))
    for _ in range(25):
        assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    assert told == [10, 10]


def test_near_the_limit_every_scan_counts_and_the_limit_holds_exactly(
    clock, alice_pass, filature, scanner, monkeypatch
):
    monkeypatch.setitem(PartnerThrottle.THROTTLE_RATES, "scan", "50/min")
    at_filature = scanner.with_key(make_partner_key(filature))
    statuses = [at_filature.scan(rotating_credential(alice_pass)).status_code for _ in range(52)]
    assert statuses == [200] * 50 + [429] * 2


def test_a_key_revoked_in_this_process_is_refused_at_once(clock, alice_pass, filature, scanner):
    key = make_partner_key(filature)
    at_filature = scanner.with_key(key)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    partner_key_revoke(partner_key=PartnerKey.objects.get(), actor=None)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 401


def test_a_key_saved_in_the_admin_is_checked_again_at_the_next_scan(
    clock, alice_pass, filature, scanner
):
    key = make_partner_key(filature)
    at_filature = scanner.with_key(key)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    partner_key = PartnerKey.objects.get()
    partner_key.expiry_date = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    partner_key.save()
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 401


def test_a_key_revoked_by_another_process_is_refused_at_once(clock, alice_pass, filature, scanner):
    key = make_partner_key(filature)
    at_filature = scanner.with_key(key)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    PartnerKey.objects.update(revoked=True)  # no signal, no call here: as another worker would
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 401


def test_a_signing_key_compromised_by_another_process_is_refused_at_once(
    clock, alice_pass, filature, scanner
):
    at_filature = scanner.with_key(make_partner_key(filature))
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"
    signed_before = rotating_credential(alice_pass)
    # Another worker (`manage.py signing_keys compromised`) changes the row; nothing tells us.
    SigningKey.objects.update(status=SigningKey.Status.COMPROMISED)
    body = at_filature.scan(signed_before).json()
    assert (body["decision"], body["reason"]) == ("refused", "unknown_key")
