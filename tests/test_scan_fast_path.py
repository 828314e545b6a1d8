"""The one-statement acceptance on PostgreSQL says and records exactly what the reference says.

`passes/scanning.py::_accept_fast` calls the database function of migration passes/0002; the
reference path is the Python one (the only one on SQLite). Random sequences of scans — members,
hosts, printed cards and rotating codes, nonces, days, suspended passes, ended memberships, photos —
run twice from the same state, with and without the fast path: answers and stored rows must match.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coworking.models import Member
from passes import scanning
from passes.models import (
    AllowanceCounter,
    CounterUse,
    HostDayCounter,
    NetworkSpace,
    Pass,
    Scan,
    Visit,
)
from passes.scanning import ScanRequest, scan_record
from passes.services import credential_rotating, credential_static
from spaces.models import Membership

from .conftest import NOW, issue_pass, on_postgresql

pytestmark = pytest.mark.django_db

PHOTOS = ["", "members/alice.jpg", "members/photo d'été.jpg"]


class _Rollback(Exception):
    pass


@pytest.fixture
def world(alice, bob, charlie, mutualab, filature, quai, verriere, network, signing):
    # Small limits so that sequences reach them: 2 visitors a day at la Filature.
    NetworkSpace.objects.filter(network=network, space=filature).update(daily_visitor_capacity=2)
    network.monthly_visits, network.monthly_visits_per_host = 3, 2
    network.save()
    members = [alice, bob, charlie]
    passes = [issue_pass(member, network) for member in members]
    return {"passes": passes, "hosts": [mutualab, filature, quai, verriere]}


step = st.tuples(
    st.integers(0, 2),  # member
    st.integers(0, 3),  # host
    st.sampled_from(["rotating", "static", "rotating-again"]),
    st.sampled_from([None, None, "n-1", "n-2"]),  # nonce
    st.sampled_from([0, 0, 0, 1, 40]),  # days after NOW
    st.sampled_from([None, None, None, "suspend", "end-membership", "photo"]),
)


def _run(world, steps, *, fast: bool) -> tuple[list[dict], dict]:
    """Play `steps`, return the answers and the rows, then undo everything."""
    answers: list[dict] = []
    try:
        with transaction.atomic():
            scanning.settings.SCAN_FAST_PATH = fast
            last_code: dict[int, str] = {}
            for index, (who, where, kind, nonce, days, event) in enumerate(steps):
                pass_obj = world["passes"][who]
                moment = NOW + dt.timedelta(days=days, seconds=index)
                if event == "suspend":
                    Pass.objects.filter(pk=pass_obj.pk).update(status=Pass.Status.SUSPENDED)
                elif event == "end-membership":
                    Membership.objects.filter(pk=pass_obj.membership_id).update(ends_on=NOW.date())
                elif event == "photo":
                    Member.objects.filter(pk=pass_obj.member_id).update(photo=PHOTOS[index % 3])
                if kind == "static":
                    credential = credential_static(pass_obj, now=NOW)
                elif kind == "rotating-again" and who in last_code:
                    credential = last_code[who]
                else:
                    credential = credential_rotating(pass_obj, now=moment)[0][1]
                    last_code[who] = credential
                request = ScanRequest(
                    host=world["hosts"][where], credential=credential, nonce=nonce
                )
                answers.append(scan_record(request, now=moment))
            rows = _rows()
            raise _Rollback
    except _Rollback:
        pass
    finally:
        scanning.settings.SCAN_FAST_PATH = True
    return _same_ids(answers), rows


def _rows() -> dict:
    visits = {v.pk: i for i, v in enumerate(Visit.objects.order_by("id"))}
    return {
        "visits": list(
            Visit.objects.order_by("id").values_list(
                "member_id",
                "pass_obj_id",
                "network_id",
                "host_id",
                "home_id",
                "date",
                "uses_allowance",
                "flagged",
                "flag_reason",
            )
        ),
        "scans": [
            (*row[:-1], visits.get(row[-1]))
            for row in Scan.objects.order_by("id").values_list(
                "host_id",
                "partner_key_id",
                "credential",
                "kid",
                "counter",
                "pass_obj_id",
                "scanned_at",
                "received_at",
                "decision",
                "reason",
                "already_checked_in",
                "offline",
                "flagged",
                "nonce",
                "visit_id",
            )
        ],
        "responses": _same_ids([scan.response for scan in Scan.objects.order_by("id")]),
        # A counter at zero is no counter: the fast path may leave one where it gave up.
        "host_days": sorted(
            HostDayCounter.objects.filter(used__gt=0).values_list("host_id", "date", "used")
        ),
        "allowances": sorted(
            AllowanceCounter.objects.filter(used__gt=0).values_list(
                "member_id", "month", "host_id", "used"
            ),
            key=repr,
        ),
        "counter_uses": sorted(CounterUse.objects.values_list("pass_obj_id", "counter", "host_id")),
    }


def _same_ids(answers: list[dict]) -> list[dict]:
    """Visit ids differ between two runs (sequences are not rolled back): number them."""
    seen: dict[int, int] = {}
    out = []
    for answer in answers:
        visit = answer.get("visit")
        if visit:
            answer = {**answer, "visit": {**visit, "id": seen.setdefault(visit["id"], len(seen))}}
        out.append(answer)
    return out


@settings(
    max_examples=60 if on_postgresql() else 5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_the_fast_path_answers_and_records_what_the_reference_does(world, steps):
    fast_answers, fast_rows = _run(world, steps, fast=True)
    reference_answers, reference_rows = _run(world, steps, fast=False)
    assert fast_answers == reference_answers
    assert fast_rows == reference_rows


def test_an_accepted_online_scan_is_one_statement_on_postgresql(world, filature):
    alice_pass = world["passes"][0]
    request = ScanRequest(host=filature, credential=credential_rotating(alice_pass, now=NOW)[0][1])
    with CaptureQueriesContext(connection) as queries:
        answer = scan_record(request, now=NOW)
    assert answer["decision"] == "accepted"
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    if on_postgresql():
        assert len(statements) == 1, statements
        assert "chtipass_scan_accept_v1" in statements[0]
    else:  # the reference path, the only one on SQLite
        assert len(statements) > 1
        assert not any("chtipass_scan" in sql for sql in statements)


def test_without_the_fast_path_the_reference_takes_the_same_scan(world, filature, settings):
    settings.SCAN_FAST_PATH = False
    alice_pass = world["passes"][0]
    request = ScanRequest(host=filature, credential=credential_rotating(alice_pass, now=NOW)[0][1])
    with CaptureQueriesContext(connection) as queries:
        assert scan_record(request, now=NOW)["decision"] == "accepted"
    assert not any("chtipass_scan" in q["sql"] for q in queries.captured_queries)


def test_a_refusal_falls_back_to_the_reference_and_consumes_nothing(world, filature, network):
    """One visitor a day at la Filature: the second is refused with the reference's reason, and
    the fast path's attempt used nothing."""
    NetworkSpace.objects.filter(network=network, space=filature).update(daily_visitor_capacity=1)
    alice_pass, bob_pass = world["passes"][:2]
    first = credential_rotating(alice_pass, now=NOW)[0][1]
    assert scan_record(ScanRequest(host=filature, credential=first), now=NOW)["decision"] == (
        "accepted"
    )
    second = credential_rotating(bob_pass, now=NOW)[0][1]
    answer = scan_record(ScanRequest(host=filature, credential=second), now=NOW)
    assert (answer["decision"], answer["reason"]) == ("refused", "host_full")
    assert list(HostDayCounter.objects.values_list("used", flat=True)) == [1]
    assert not AllowanceCounter.objects.filter(member=bob_pass.member, used__gt=0).exists()
    assert Visit.objects.count() == 1


def test_with_a_storage_that_writes_its_own_urls_the_reference_takes_the_scan(
    world, filature, settings
):
    """The function writes photo URLs as MEDIA_URL + name, true of the file system storage
    only: with any other storage the Python path (and the storage) answers."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    alice_pass = world["passes"][0]
    request = ScanRequest(host=filature, credential=credential_rotating(alice_pass, now=NOW)[0][1])
    with CaptureQueriesContext(connection) as queries:
        assert scan_record(request, now=NOW)["decision"] == "accepted"
    assert not any("chtipass_scan" in q["sql"] for q in queries.captured_queries)
