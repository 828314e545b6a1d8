"""Concurrent scans, each thread with its own database connection.

Allowances and one-visit-per-day hold under concurrency: the Visit's and a code's first use's
unique constraints and the counters' conditional writes decide (passes/counters.py), and a scan
that loses a race is decided again on what won; SQLite's IMMEDIATE transactions also serialize
its writers.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from passes.keys import signing_key_create
from passes.models import (
    AllowanceCounter,
    CounterUse,
    HostDayCounter,
    Network,
    NetworkSpace,
    Scan,
    Visit,
)
from passes.services import credential_static, pass_issue

from .conftest import make_partner_key, partner_client, rotating_credential
from .factories import MemberFactory, MembershipFactory, SpaceFactory
from .test_booking_concurrency import run_concurrently, threads_for_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def world():
    """A home space, `n` partner hosts with scanner keys, and one member's pass."""
    import datetime as dt

    count = threads_for_backend()
    signing_key_create(not_before=timezone.now() - dt.timedelta(days=1))
    home = SpaceFactory()
    hosts = [SpaceFactory() for _ in range(count)]
    network = Network.objects.create(
        slug="net", name="Net", monthly_visits=1, monthly_visits_per_host=1
    )
    for space in [home, *hosts]:
        NetworkSpace.objects.create(network=network, space=space, daily_visitor_capacity=100)
    member = MemberFactory()
    membership = MembershipFactory(member=member, space=home)
    pass_obj = pass_issue(membership=membership, network=network)
    keys = [make_partner_key(host) for host in hosts]
    return {"count": count, "network": network, "pass": pass_obj, "hosts": hosts, "keys": keys}


def scan(key, credential):
    response = partner_client(key).scan(credential)
    body = response.json()
    return response.status_code, body.get("decision"), body.get("reason"), body.get("visit")


def test_concurrent_scans_at_different_hosts_never_exceed_the_allowance(world):
    # A printed card carries no rotating counter, so every host may accept it online.
    credential = credential_static(world["pass"])
    count = world["count"]

    results = run_concurrently(count, lambda i: scan(world["keys"][i], credential))

    outcomes = Counter((status, decision, reason) for status, decision, reason, _ in results)
    assert outcomes == {
        (200, "accepted", None): 1,
        (200, "refused", "allowance_exhausted"): count - 1,
    }, results
    assert Visit.objects.count() == 1
    used = AllowanceCounter.objects.get(host__isnull=True).used
    assert used == world["network"].monthly_visits == 1
    assert Scan.objects.count() == count


def test_one_rotating_code_shown_at_many_hosts_at_once_is_accepted_at_one(world):
    """A screenshot of one code at every door at once: the code's first use is unique, so one
    host accepts it and every other, decided again after losing, answers `stale_code`."""
    credential = rotating_credential(world["pass"])
    count = world["count"]

    results = run_concurrently(count, lambda i: scan(world["keys"][i], credential))

    outcomes = Counter((status, decision, reason) for status, decision, reason, _ in results)
    assert outcomes == {
        (200, "accepted", None): 1,
        (200, "refused", "stale_code"): count - 1,
    }, results
    assert Visit.objects.count() == CounterUse.objects.count() == 1
    assert AllowanceCounter.objects.get(host__isnull=True).used == 1


def test_concurrent_scans_at_one_host_make_one_visit(world):
    credential = credential_static(world["pass"])
    key = world["keys"][0]

    results = run_concurrently(5, lambda i: scan(key, credential))

    assert {status for status, *_ in results} == {200}
    assert {decision for _, decision, _, _ in results} == {"accepted"}
    visit_ids = {visit["id"] for *_, visit in results}
    assert len(visit_ids) == 1
    assert Visit.objects.count() == 1
    assert AllowanceCounter.objects.get(host__isnull=True).used == 1


def test_crossed_scans_between_spaces_neither_deadlock_nor_wait_on_each_other():
    """Member i (home space i) scanned at space i+1, all at once: every scan is accepted.

    Locking joined rows (network, home space) made such crossed scans deadlock on PostgreSQL.
    """
    import datetime as dt

    count = threads_for_backend()
    signing_key_create(not_before=timezone.now() - dt.timedelta(days=1))
    spaces = [SpaceFactory() for _ in range(count)]
    network = Network.objects.create(
        slug="ring", name="Ring", monthly_visits=10, monthly_visits_per_host=10
    )
    for space in spaces:
        NetworkSpace.objects.create(network=network, space=space, daily_visitor_capacity=100)
    credentials = [
        credential_static(pass_issue(membership=MembershipFactory(space=space), network=network))
        for space in spaces
    ]
    keys = [make_partner_key(space) for space in spaces]

    results = run_concurrently(count, lambda i: scan(keys[(i + 1) % count], credentials[i]))

    assert [(status, decision) for status, decision, _reason, _visit in results] == [
        (200, "accepted")
    ] * count, results
    assert Visit.objects.count() == count


def test_concurrent_visitors_never_exceed_a_hosts_daily_capacity():
    """Many members at one door at once: exactly `capacity` get in, and those refused have
    used nothing (the counters they moved are taken back)."""
    import datetime as dt

    count = threads_for_backend()
    capacity = count // 2
    signing_key_create(not_before=timezone.now() - dt.timedelta(days=1))
    home, host = SpaceFactory(), SpaceFactory()
    network = Network.objects.create(
        slug="busy", name="Busy", monthly_visits=10, monthly_visits_per_host=10
    )
    NetworkSpace.objects.create(network=network, space=home, daily_visitor_capacity=100)
    NetworkSpace.objects.create(network=network, space=host, daily_visitor_capacity=capacity)
    credentials = []
    for _ in range(count):
        membership = MembershipFactory(member=MemberFactory(), space=home)
        credentials.append(credential_static(pass_issue(membership=membership, network=network)))
    key = make_partner_key(host)

    results = run_concurrently(count, lambda i: scan(key, credentials[i]))

    outcomes = Counter((status, decision, reason) for status, decision, reason, _ in results)
    assert outcomes == {
        (200, "accepted", None): capacity,
        (200, "refused", "host_full"): count - capacity,
    }, results
    assert Visit.objects.filter(host=host).count() == capacity
    assert HostDayCounter.objects.get(host=host).used == capacity
    # Nobody refused at the door has used any of their allowance.
    assert sum(AllowanceCounter.objects.values_list("used", flat=True)) == 2 * capacity


def test_one_fresh_nonce_sent_at_once_with_many_credentials_answers_one_of_them():
    """Different members' codes under one new nonce, all at once at one host: one scan is taken,
    every other is refused `nonce_reused` and stored; nobody gets another member's answer."""
    import datetime as dt

    count = threads_for_backend()
    signing_key_create(not_before=timezone.now() - dt.timedelta(days=1))
    home, host = SpaceFactory(), SpaceFactory()
    network = Network.objects.create(slug="net", name="Net")
    for space in (home, host):
        NetworkSpace.objects.create(network=network, space=space, daily_visitor_capacity=100)
    credentials = []
    for _ in range(count):
        membership = MembershipFactory(member=MemberFactory(), space=home)
        credentials.append(credential_static(pass_issue(membership=membership, network=network)))
    key = make_partner_key(host)

    def scan_with_the_nonce(index):
        response = partner_client(key).scan(credentials[index], nonce="same-nonce")
        return response.status_code, response.json()

    results = run_concurrently(count, scan_with_the_nonce)

    outcomes = Counter((status, body["decision"], body["reason"]) for status, body in results)
    assert outcomes == {
        (200, "accepted", None): 1,
        (200, "refused", "nonce_reused"): count - 1,
    }, results
    [accepted] = [body for _status, body in results if body["decision"] == "accepted"]
    assert all(body["visitor"] is None for _status, body in results if body is not accepted)
    assert Visit.objects.count() == 1
    assert Scan.objects.filter(reason="nonce_reused").count() == count - 1
    assert Scan.objects.exclude(reason="nonce_reused").get().visit_id == accepted["visit"]["id"]
