"""Offline scanners upload later: idempotent by nonce, in order, flagged rather than lost."""

import datetime as dt

import pytest

from passes.models import NetworkSpace, Scan, Visit
from passes.services import credential_static, pass_revoke

from .conftest import NOW, partner_client, rotating_credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_filature(scanner, filature_key):
    return scanner.with_key(filature_key)


def upload(client, *items):
    return client.post("/api/v1/scans/batch/", {"scans": list(items)}, format="json")


def item(credential, nonce, scanned_at=NOW, **extra):
    return {"credential": credential, "nonce": nonce, "scanned_at": scanned_at.isoformat(), **extra}


def test_offline_scans_are_validated_at_the_device_time(clock, alice_pass, bob_pass, at_filature):
    seen_at = NOW - dt.timedelta(hours=2)
    clock.move_to(seen_at)
    alice_code = rotating_credential(alice_pass)
    clock.move_to(NOW)
    response = upload(
        at_filature, item(alice_code, "t1-0001", scanned_at=seen_at), item("garbage", "t1-0002")
    )
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert (first["decision"], first["nonce"], first["flagged"], first["offline"]) == (
        "accepted",
        "t1-0001",
        False,
        True,
    )
    assert (second["decision"], second["reason"], second["nonce"]) == (
        "refused",
        "malformed",
        "t1-0002",
    )
    scan = Scan.objects.get(nonce="t1-0001")
    assert scan.offline and scan.scanned_at == seen_at and scan.received_at == NOW


def test_the_same_batch_uploaded_twice_records_each_scan_once(
    clock, alice_pass, bob_pass, at_filature
):
    payload = [
        item(rotating_credential(alice_pass), "t1-0001"),
        item(rotating_credential(bob_pass), "t1-0002"),
    ]
    first = upload(at_filature, *payload).json()
    second = upload(at_filature, *payload).json()
    assert first == second
    assert Scan.objects.count() == 2 and Visit.objects.count() == 2


def test_an_uploaded_nonce_reused_with_another_credential_is_refused_and_stored(
    clock, alice_pass, bob_pass, at_filature
):
    first = upload(at_filature, item(rotating_credential(alice_pass), "t1-0001")).json()
    assert first["results"][0]["decision"] == "accepted"
    reuse = [item(rotating_credential(bob_pass), "t1-0001"), item("garbage", "t1-0001b")]

    results = upload(at_filature, *reuse).json()["results"]
    again = upload(at_filature, *reuse).json()["results"]

    assert (results[0]["decision"], results[0]["reason"], results[0]["flagged"]) == (
        "refused",
        "nonce_reused",
        False,
    )
    assert results[0]["visitor"] is None and results[0]["nonce"] == "t1-0001"
    assert again == results
    assert Scan.objects.filter(reason="nonce_reused", offline=True, pass_obj=bob_pass).count() == 1
    assert not Visit.objects.filter(member=bob_pass.member).exists()


def test_a_nonce_is_scoped_to_the_host(clock, alice_pass, bob_pass, at_filature, quai_key):
    upload(at_filature, item(rotating_credential(alice_pass), "same-nonce"))
    upload(partner_client(quai_key), item(rotating_credential(bob_pass), "same-nonce"))
    assert Scan.objects.count() == 2


def test_an_offline_acceptance_of_a_revoked_pass_is_kept_and_flagged(
    clock, alice_pass, camille, at_filature
):
    code = rotating_credential(alice_pass)
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="perdu")
    [result] = upload(at_filature, item(code, "t1-0001")).json()["results"]
    assert (result["decision"], result["flagged"], result["flag_reason"]) == (
        "accepted",
        True,
        "revoked",
    )
    visit = Visit.objects.get()
    assert visit.flagged and visit.flag_reason == "revoked"
    assert Scan.objects.get().flagged


def test_an_offline_acceptance_beyond_the_allowance_is_kept_and_flagged(
    clock, alice_pass, network, at_filature
):
    network.monthly_visits = 1
    network.save()
    at_filature.scan(rotating_credential(alice_pass))
    next_day = NOW + dt.timedelta(days=1)
    clock.move_to(next_day)
    [result] = upload(
        at_filature, item(rotating_credential(alice_pass), "t1-0009", scanned_at=next_day)
    ).json()["results"]
    assert (result["decision"], result["flagged"], result["flag_reason"]) == (
        "accepted",
        True,
        "allowance_exhausted",
    )
    assert Visit.objects.filter(flagged=True).count() == 1


def test_an_offline_scan_the_device_refused_is_recorded_without_a_visit(
    clock, alice_pass, filature, at_filature
):
    NetworkSpace.objects.filter(space=filature).update(daily_visitor_capacity=0)
    [result] = upload(
        at_filature, item(rotating_credential(alice_pass), "t1-0001", device_decision="refused")
    ).json()["results"]
    assert (result["decision"], result["reason"], result["flagged"]) == (
        "refused",
        "host_full",
        False,
    )
    assert not Visit.objects.exists()


def test_a_forged_credential_uploaded_offline_is_refused_not_flagged(
    clock, alice_pass, at_filature
):
    code = rotating_credential(alice_pass)
    forged = code[:-10] + ("A" if code[-10] != "A" else "B") + code[-9:]
    [result] = upload(at_filature, item(forged, "t1-0001")).json()["results"]
    assert result["decision"] == "refused" and not result["flagged"]


def test_a_printed_card_is_refused_by_offline_verification(clock, alice_pass, at_filature):
    [result] = upload(at_filature, item(credential_static(alice_pass), "t1-0001")).json()["results"]
    assert (result["decision"], result["reason"]) == ("refused", "online_only")


def test_a_code_shown_online_elsewhere_then_offline_here_is_flagged(
    clock, alice_pass, at_filature, quai_key
):
    code = rotating_credential(alice_pass)
    assert partner_client(quai_key).scan(code).json()["decision"] == "accepted"
    [result] = upload(at_filature, item(code, "t1-0001")).json()["results"]
    assert (result["decision"], result["flag_reason"]) == ("accepted", "stale_code")


def test_a_batch_is_at_most_500_scans(clock, alice_pass, at_filature):
    items = [item("x", f"n-{i}") for i in range(501)]
    response = upload(at_filature, *items)
    assert response.status_code == 400
    assert not Scan.objects.exists()


def test_each_item_needs_a_nonce_and_a_device_time(clock, alice_pass, at_filature):
    response = at_filature.post(
        "/api/v1/scans/batch/", {"scans": [{"credential": "x"}]}, format="json"
    )
    assert response.status_code == 400
    assert "scans" in response.json()["fields"]


def test_duplicate_nonces_in_one_batch_are_refused_whole(clock, alice_pass, at_filature):
    response = upload(at_filature, item("x", "same"), item("y", "same"))
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_nonce"
    assert not Scan.objects.exists()
