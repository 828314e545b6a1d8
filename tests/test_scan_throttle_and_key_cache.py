"""Scanner keys are throttled per key, and kept in each process's memory for a short while."""

import datetime as dt
import time

import pytest

from api.passes_views import PartnerThrottle
from coworking import memo
from passes import partner_keys
from passes.models import PartnerKey, Scan
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


def test_a_key_saved_elsewhere_in_this_process_is_forgotten(clock, alice_pass, filature, scanner):
    """The admin's change form saves the model: the signal empties the keys in memory."""
    key = make_partner_key(filature)
    at_filature = scanner.with_key(key)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    partner_key = PartnerKey.objects.get()
    partner_key.expiry_date = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    partner_key.save()
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 401


def test_a_key_revoked_by_another_process_stops_within_the_cache_delay(
    clock, alice_pass, filature, scanner, monkeypatch
):
    key = make_partner_key(filature)
    at_filature = scanner.with_key(key)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    PartnerKey.objects.update(revoked=True)  # no signal here: as if another worker did it
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200  # still fresh
    later = time.monotonic() + partner_keys.KEY_CACHE_SECONDS + 0.1
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    assert at_filature.scan(rotating_credential(alice_pass)).status_code == 401


def test_a_scan_with_a_known_key_costs_no_key_query(clock, alice_pass, filature, scanner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    at_filature = scanner.with_key(make_partner_key(filature))
    at_filature.scan(rotating_credential(alice_pass))
    with CaptureQueriesContext(connection) as queries:
        assert at_filature.scan(rotating_credential(alice_pass)).status_code == 200
    assert not [q for q in queries.captured_queries if "passes_partnerkey" in q["sql"]]


def test_a_signing_key_compromised_in_another_process_is_refused_within_a_second(
    clock, alice_pass, filature, scanner, monkeypatch
):
    from django.core.cache import cache

    from passes import keys
    from passes.models import SigningKey

    at_filature = scanner.with_key(make_partner_key(filature))
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"
    signed_before = rotating_credential(alice_pass)
    # Another worker marks the key compromised and bumps the shared version.
    SigningKey.objects.update(status=SigningKey.Status.COMPROMISED)
    cache.set(keys._VERSION_KEY, "another worker was here", timeout=None)
    later = time.monotonic() + keys._VERSION_CHECK_SECONDS + 0.1
    monkeypatch.setattr(keys.time, "monotonic", lambda: later)
    body = at_filature.scan(signed_before).json()
    assert (body["decision"], body["reason"]) == ("refused", "unknown_key")
