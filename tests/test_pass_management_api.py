"""A member's own pass (GET /me/pass/) and co-managers managing their members' passes,
scans and visits (SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coworking.models import AuditEntry
from passes import codec
from passes.keys import verifying_key
from passes.models import Pass, RevocationEvent, Scan, Visit
from passes.services import (
    MAX_PRELOADED_WINDOWS,
    PassError,
    credential_rotating,
    pass_suspend,
)

from .conftest import NOW, issue_pass, rotating_credential
from .factories import MemberFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

MY_PASS = "/api/v1/me/pass/"
MUTUALAB_PASSES = "/api/v1/spaces/mutualab/passes/"


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"code", "detail", "fields"}


def verified(credential: str) -> codec.Claims:
    return codec.verify(credential, lambda kid: verifying_key(kid, NOW))


def ids(response) -> set[int]:
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def query_count(client, url: str) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    return len(queries), body["results"] if isinstance(body, dict) else body


# --- The member's own pass -------------------------------------------------------------------


def test_a_member_reads_her_pass_state_credential_and_allowance(api, alice, alice_pass):
    response = api.as_(alice).get(MY_PASS)

    assert response.status_code == 200
    body = response.json()
    assert {"state", "credential", "expires_at", "server_time", "allowance"} <= set(body)
    assert body["state"] == "active"
    assert dt.datetime.fromisoformat(body["server_time"]) == NOW
    claims = verified(body["credential"])
    assert claims.pass_id == alice_pass.pk
    assert claims.counter == codec.window_of(NOW.timestamp())
    assert dt.datetime.fromisoformat(body["expires_at"]).timestamp() == claims.expires_at
    assert "upcoming" not in body


def test_the_allowance_is_keyed_by_partner_space_not_the_home_space(api, alice, alice_pass):
    allowance = api.as_(alice).get(MY_PASS).json()["allowance"]

    assert allowance == {
        "network_left": 8,
        "per_host_left": {"filature-roubaix": 4, "quai-tourcoing": 4},
    }


def test_a_visit_lowers_the_allowance_shown(api, alice, alice_pass, scanner, filature_key):
    scanner.with_key(filature_key).scan(rotating_credential(alice_pass))

    allowance = api.as_(alice).get(MY_PASS).json()["allowance"]

    assert allowance["network_left"] == 7
    assert allowance["per_host_left"] == {"filature-roubaix": 3, "quai-tourcoing": 4}


def test_windows_preloads_consecutive_credentials_that_verify(api, alice, alice_pass):
    body = api.as_(alice).get(MY_PASS, {"windows": 5}).json()

    upcoming = body["upcoming"]
    first = codec.window_of(NOW.timestamp())
    assert [item["counter"] for item in upcoming] == list(range(first, first + 5))
    assert len({item["credential"] for item in upcoming}) == 5
    assert upcoming[0]["credential"] == body["credential"]
    for item in upcoming:
        claims = verified(item["credential"])
        assert (claims.pass_id, claims.counter) == (alice_pass.pk, item["counter"])


def test_windows_is_capped_at_one_day(api, alice, alice_pass):
    assert MAX_PRELOADED_WINDOWS == 2880

    body = api.as_(alice).get(MY_PASS, {"windows": 100_000}).json()

    assert len(body["upcoming"]) == 2880


@pytest.mark.parametrize("windows", ["abc", "1.5", "-3"])
def test_windows_must_be_a_positive_integer(api, alice, alice_pass, windows):
    response = api.as_(alice).get(MY_PASS, {"windows": windows})

    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body)
    assert "windows" in body["fields"]


def test_a_deactivated_account_is_issued_no_pass(bob, network, signing):
    bob.is_active = False
    bob.save()

    with pytest.raises(PassError) as refused:
        issue_pass(bob, network)

    assert refused.value.code == "account_inactive"
    assert not Pass.objects.exists()


def test_a_member_without_a_pass_gets_404(api, bob, network, signing):
    response = api.as_(bob).get(MY_PASS)

    assert response.status_code == 404
    assert_error_shape(response.json())


def test_a_suspended_pass_shows_its_state_and_no_credential(api, alice, camille, alice_pass):
    pass_suspend(pass_obj=alice_pass, actor=camille, reason="impayé")

    body = api.as_(alice).get(MY_PASS, {"windows": 3}).json()

    assert body["state"] == "suspended"
    assert body["credential"] is None
    assert body["expires_at"] is None
    assert body["upcoming"] == []


def test_the_profile_still_works_with_a_pass(api, alice, alice_pass):
    assert api.as_(alice).get("/api/v1/me/").status_code == 200


def test_an_anonymous_caller_gets_401(api, alice_pass):
    response = api.get(MY_PASS)

    assert response.status_code == 401
    assert_error_shape(response.json())


# --- A co-manager manages their members' passes ----------------------------------------------


@pytest.fixture
def charlie_pass(charlie, network, signing):
    return issue_pass(charlie, network)


def act(api, pass_obj, action: str, reason: str | None = "impayé", slug="mutualab"):
    data = {} if reason is None else {"reason": reason}
    return api.post(f"/api/v1/spaces/{slug}/passes/{pass_obj.pk}/{action}/", data)


def test_a_co_manager_lists_her_members_passes(api, camille, alice_pass, bob_pass, charlie_pass):
    response = api.as_(camille).get(MUTUALAB_PASSES)

    assert ids(response) == {alice_pass.pk, bob_pass.pk}
    row = next(row for row in response.json()["results"] if row["id"] == alice_pass.pk)
    assert row["status"] == "active"
    assert row["home_space"] == "mutualab"
    assert row["network"] == "chtipass"


def test_a_suspended_pass_is_refused_at_a_partner(api, camille, alice_pass, scanner, filature_key):
    credential = rotating_credential(alice_pass)  # pre-loaded on her phone before the suspension

    response = act(api.as_(camille), alice_pass, "suspend")

    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    assert response.json()["status_reason"] == "impayé"
    assert AuditEntry.objects.filter(
        action="pass.suspend", actor=camille, target_id=str(alice_pass.pk)
    ).exists()
    assert RevocationEvent.objects.filter(pass_obj=alice_pass, action="suspend").exists()
    scan = scanner.with_key(filature_key).scan(credential).json()
    assert (scan["decision"], scan["reason"]) == ("refused", "suspended")
    assert scan["visitor"] is None


def test_a_reinstated_pass_is_accepted_again(api, camille, alice_pass, scanner, filature_key):
    api.as_(camille)
    act(api, alice_pass, "suspend")

    response = act(api, alice_pass, "reinstate", reason="réglé")

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    scan = scanner.with_key(filature_key).scan(rotating_credential(alice_pass)).json()
    assert scan["decision"] == "accepted"


def test_a_co_manager_revokes_a_pass(api, camille, alice_pass, scanner, filature_key):
    response = act(api.as_(camille), alice_pass, "revoke", reason="départ")

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.REVOKED
    scan = scanner.with_key(filature_key).scan(rotating_credential(alice_pass)).json()
    assert (scan["decision"], scan["reason"]) == ("refused", "revoked")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_changing_a_pass_needs_a_reason(api, camille, alice_pass, reason):
    response = act(api.as_(camille), alice_pass, "suspend", reason=reason)

    assert response.status_code == 400
    assert_error_shape(response.json())
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.ACTIVE
    assert not AuditEntry.objects.filter(action="pass.suspend").exists()


def test_a_revoked_pass_cannot_be_suspended(api, camille, alice_pass):
    api.as_(camille)
    act(api, alice_pass, "revoke")

    response = act(api, alice_pass, "suspend")

    assert response.status_code == 409
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "invalid_transition"


def test_an_active_pass_cannot_be_reinstated(api, camille, alice_pass):
    response = act(api.as_(camille), alice_pass, "reinstate")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_another_spaces_co_manager_gets_404_on_mutualabs_passes(api, dominique, alice_pass):
    api.as_(dominique)

    assert api.get(MUTUALAB_PASSES).status_code == 404
    assert api.get(f"{MUTUALAB_PASSES}{alice_pass.pk}/").status_code == 404
    assert act(api, alice_pass, "suspend").status_code == 404
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.ACTIVE


def test_a_co_manager_cannot_reach_another_spaces_pass_through_her_own_space(
    api, camille, charlie_pass
):
    response = act(api.as_(camille), charlie_pass, "revoke")

    assert response.status_code == 404
    charlie_pass.refresh_from_db()
    assert charlie_pass.status == Pass.Status.ACTIVE


def test_a_plain_member_gets_404_on_her_spaces_passes(api, alice, alice_pass):
    api.as_(alice)

    assert api.get(MUTUALAB_PASSES).status_code == 404
    assert act(api, alice_pass, "suspend").status_code == 404


# --- Scans and visits, seen from a space -----------------------------------------------------


@pytest.fixture
def gaspard_pass(quai, network, signing):
    """A member of Le Quai, who visits Mutualab."""
    gaspard = MemberFactory(first_name="Gaspard")
    MembershipFactory(member=gaspard, space=quai)
    return issue_pass(gaspard, network)


def nth_credential(pass_obj, n: int) -> str:
    """The credential of the n-th window from now: a (pass, counter) is good at one host only."""
    return credential_rotating(pass_obj, windows=n + 1)[n][1]


@pytest.fixture
def traffic(scanner, alice_pass, charlie_pass, gaspard_pass, mutualab_key, filature_key, quai_key):
    """Visits of every kind, by (host, home)."""

    def scan(key, credential):
        body = scanner.with_key(key).scan(credential).json()
        assert body["decision"] == "accepted", body
        return Visit.objects.get(pk=body["visit"]["id"])

    return {
        "mutualab_hosts_quai": scan(mutualab_key, rotating_credential(gaspard_pass)),
        "filature_hosts_mutualab": scan(filature_key, rotating_credential(alice_pass)),
        "mutualab_checks_in_its_own": scan(mutualab_key, nth_credential(alice_pass, 1)),
        "quai_hosts_filature": scan(quai_key, rotating_credential(charlie_pass)),
        "filature_checks_in_its_own": scan(filature_key, nth_credential(charlie_pass, 1)),
    }


def test_a_co_manager_sees_visits_hosted_and_made_by_her_members(api, camille, traffic):
    response = api.as_(camille).get("/api/v1/spaces/mutualab/visits/")

    assert ids(response) == {
        traffic["mutualab_hosts_quai"].pk,
        traffic["filature_hosts_mutualab"].pk,
        traffic["mutualab_checks_in_its_own"].pk,
    }


def test_a_co_manager_sees_the_scans_made_at_her_space(api, camille, traffic):
    response = api.as_(camille).get("/api/v1/spaces/mutualab/scans/")

    expected = set(Scan.objects.filter(host__slug="mutualab").values_list("id", flat=True))
    assert len(expected) == 2
    assert ids(response) == expected
    assert {row["host"] for row in response.json()["results"]} == {"mutualab"}


def test_another_spaces_co_manager_gets_404_on_mutualabs_scans_and_visits(api, dominique, traffic):
    api.as_(dominique)

    assert api.get("/api/v1/spaces/mutualab/visits/").status_code == 404
    assert api.get("/api/v1/spaces/mutualab/scans/").status_code == 404


# --- Lists cost the same number of queries whatever their length -----------------------------


def add_passes(mutualab, network, count: int) -> None:
    for _ in range(count):
        member = MemberFactory()
        MembershipFactory(member=member, space=mutualab)
        issue_pass(member, network)


def add_visits(alice_pass, hosts, count: int) -> None:
    start = Visit.objects.count()
    for offset in range(start, start + count):
        Visit.objects.create(
            member=alice_pass.member,
            pass_obj=alice_pass,
            network=alice_pass.network,
            host=hosts[offset % len(hosts)],
            home=alice_pass.membership.space,
            date=dt.date(2026, 11, 1) + dt.timedelta(days=offset),
        )


def add_scans(host, pass_obj, count: int) -> None:
    for _ in range(count):
        Scan.objects.create(
            host=host,
            pass_obj=pass_obj,
            credential="CP1:X",
            scanned_at=NOW,
            received_at=NOW,
            decision=Scan.Decision.REFUSED,
            reason=Scan.Reason.STALE_CODE,
        )


def test_the_passes_list_costs_constant_queries(api, camille, mutualab, network, signing):
    api.as_(camille)
    add_passes(mutualab, network, 2)
    few, rows = query_count(api, MUTUALAB_PASSES)
    assert len(rows) == 2

    add_passes(mutualab, network, 8)
    many, rows = query_count(api, MUTUALAB_PASSES)

    assert len(rows) == 10
    assert many == few


def test_the_visits_list_costs_constant_queries(api, camille, alice_pass, filature, quai):
    api.as_(camille)
    add_visits(alice_pass, [filature, quai], 2)
    few, rows = query_count(api, "/api/v1/spaces/mutualab/visits/")
    assert len(rows) == 2

    add_visits(alice_pass, [filature, quai], 8)
    many, rows = query_count(api, "/api/v1/spaces/mutualab/visits/")

    assert len(rows) == 10
    assert many == few


def test_the_scans_list_costs_constant_queries(api, camille, mutualab, alice_pass):
    api.as_(camille)
    add_scans(mutualab, alice_pass, 2)
    few, rows = query_count(api, "/api/v1/spaces/mutualab/scans/")
    assert len(rows) == 2

    add_scans(mutualab, alice_pass, 8)
    many, rows = query_count(api, "/api/v1/spaces/mutualab/scans/")

    assert len(rows) == 10
    assert many == few
