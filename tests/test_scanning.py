"""Scanning the ch'tipass: every reason code of SPEC §3, in order, and what is recorded."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passes import codec
from passes.keys import signing_key, signing_key_create
from passes.models import AllowanceCounter, HostDayCounter, NetworkSpace, Scan, Visit
from passes.services import credential_static, pass_revoke, pass_suspend
from spaces.models import Membership

from .conftest import NOW, make_partner_key, partner_client, rotating_credential

pytestmark = pytest.mark.django_db


def forge(pass_obj, *, private_key=None, kid=None, issued=None, expires=None, counter=None):
    """A credential with chosen claims, signed by the registry key unless told otherwise."""
    key, registry_private = signing_key(NOW)
    now = int(NOW.timestamp())
    claims = codec.Claims(
        kid=kid if kid is not None else key.kid,
        pass_id=pass_obj.pk,
        member_id=pass_obj.member_id,
        home_space_id=pass_obj.membership.space_id,
        issued_at=issued if issued is not None else now,
        expires_at=expires if expires is not None else now + 90,
        counter=counter if counter is not None else codec.window_of(now),
    )
    return codec.encode(claims, private_key or registry_private)


def refused_with(response, reason):
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["decision"], body["reason"]) == ("refused", reason), body
    assert body["visitor"] is None and body["visit"] is None
    return body


@pytest.fixture
def at_filature(scanner, filature_key):
    return scanner.with_key(filature_key)


def test_a_valid_rotating_credential_is_accepted_with_what_the_host_may_see(
    clock, alice_pass, at_filature
):
    body = at_filature.scan(rotating_credential(alice_pass)).json()
    visit = Visit.objects.get()
    assert body == {
        "decision": "accepted",
        "reason": None,
        "already_checked_in": False,
        "visit": {"id": visit.pk, "date": "2026-12-01", "host": "filature-roubaix"},
        "visitor": {"first_name": "Alice", "photo_url": None, "home_space": "Mutualab"},
        "allowance": {"network_left": 7, "host_left": 3},
        "id_check_required": False,
        "offline": False,
        "flagged": False,
        "flag_reason": None,
        "nonce": None,
    }
    assert (visit.member, visit.host.slug, visit.home.slug) == (
        alice_pass.member,
        "filature-roubaix",
        "mutualab",
    )
    assert visit.uses_allowance


def test_every_scan_is_stored_with_device_and_server_times(clock, alice_pass, at_filature):
    at_filature.scan("nonsense")
    at_filature.scan(
        rotating_credential(alice_pass), scanned_at="2026-12-01T08:59:50+01:00", nonce="n-1"
    )
    refused, accepted = Scan.objects.order_by("id")
    assert (refused.decision, refused.reason, refused.pass_obj) == ("refused", "malformed", None)
    assert accepted.decision == "accepted" and accepted.pass_obj == alice_pass
    assert accepted.scanned_at == dt.datetime(2026, 12, 1, 7, 59, 50, tzinfo=dt.UTC)
    assert accepted.received_at == NOW and not accepted.offline
    assert accepted.partner_key.space.slug == "filature-roubaix"


def test_not_a_credential_is_malformed(clock, alice_pass, at_filature):
    refused_with(at_filature.scan("https://example.org/not-a-pass"), "malformed")


def test_an_unknown_key_id_is_refused(clock, alice_pass, at_filature):
    refused_with(at_filature.scan(forge(alice_pass, kid=200)), "unknown_key")


def test_a_key_not_yet_valid_at_scan_time_is_unknown(clock, alice_pass, at_filature):
    future = signing_key_create(not_before=NOW + dt.timedelta(days=2))
    credential = forge(alice_pass, kid=future.kid)
    refused_with(at_filature.scan(credential), "unknown_key")


def test_a_credential_signed_by_someone_else_has_a_bad_signature(clock, alice_pass, at_filature):
    credential = forge(alice_pass, private_key=Ed25519PrivateKey.generate())
    refused_with(at_filature.scan(credential), "bad_signature")


def test_one_changed_character_is_refused(clock, alice_pass, at_filature):
    credential = rotating_credential(alice_pass)
    position = 60
    changed = (
        credential[:position]
        + ("A" if credential[position] != "A" else "B")
        + credential[position + 1 :]
    )
    body = at_filature.scan(changed).json()
    assert body["decision"] == "refused"
    assert body["reason"] in {"bad_signature", "malformed"}


def test_an_expired_credential_is_refused(clock, alice_pass, at_filature):
    credential = rotating_credential(alice_pass)
    clock.move_to(NOW + dt.timedelta(minutes=3))
    refused_with(at_filature.scan(credential), "expired")


def test_a_credential_from_the_future_is_not_yet_valid(clock, alice_pass, at_filature):
    later = int(NOW.timestamp()) + 600
    credential = forge(alice_pass, issued=later, expires=later + 90, counter=codec.window_of(later))
    refused_with(at_filature.scan(credential), "not_yet_valid")


def test_clock_skew_of_up_to_a_minute_is_tolerated(clock, alice_pass, at_filature):
    soon = int(NOW.timestamp()) + 45
    credential = forge(alice_pass, issued=soon, expires=soon + 90, counter=codec.window_of(soon))
    assert at_filature.scan(credential).json()["decision"] == "accepted"


def test_a_counter_outside_the_window_is_stale(clock, alice_pass, at_filature):
    now = int(NOW.timestamp())
    old_counter = codec.window_of(now) - 3
    credential = forge(alice_pass, expires=now + 3600, counter=old_counter)
    refused_with(at_filature.scan(credential), "stale_code")


def test_a_replayed_credential_after_its_window_is_refused(clock, alice_pass, at_filature):
    credential = rotating_credential(alice_pass)
    clock.move_to(NOW + dt.timedelta(seconds=100))
    body = at_filature.scan(credential).json()
    assert (body["decision"], body["reason"]) == ("refused", "stale_code")


def test_a_code_used_at_one_host_is_stale_at_another(clock, alice_pass, at_filature, quai_key):
    credential = rotating_credential(alice_pass)
    assert at_filature.scan(credential).json()["decision"] == "accepted"
    refused_with(partner_client(quai_key).scan(credential), "stale_code")
    assert Visit.objects.count() == 1


def test_the_same_code_read_again_at_the_same_host_answers_as_the_first_time(
    clock, alice_pass, at_filature
):
    credential = rotating_credential(alice_pass)
    first = at_filature.scan(credential).json()
    clock.shift(dt.timedelta(seconds=1))
    again = at_filature.scan(credential).json()
    assert again == first
    assert Scan.objects.count() == 2 and Visit.objects.count() == 1


def test_a_revoked_pass_is_refused(clock, alice_pass, camille, at_filature):
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="a quitté Mutualab")
    refused_with(at_filature.scan(rotating_credential(alice_pass)), "revoked")


def test_a_suspended_pass_is_refused(clock, alice_pass, camille, at_filature):
    credential = rotating_credential(alice_pass)
    pass_suspend(pass_obj=alice_pass, actor=camille, reason="cotisation en retard")
    refused_with(at_filature.scan(credential), "suspended")


@pytest.mark.parametrize("kind", ["rotating", "printed card"])
def test_a_deactivated_account_is_refused_whatever_its_membership_says(
    clock, alice_pass, at_filature, kind
):
    credential = (
        rotating_credential(alice_pass) if kind == "rotating" else credential_static(alice_pass)
    )
    alice_pass.member.is_active = False
    alice_pass.member.save()
    refused_with(at_filature.scan(credential), "account_inactive")
    assert not Visit.objects.exists()
    assert Scan.objects.get().reason == "account_inactive"


def test_a_reactivated_account_is_accepted_again(clock, alice_pass, at_filature):
    member = alice_pass.member
    member.is_active = False
    member.save()
    refused_with(at_filature.scan(rotating_credential(alice_pass)), "account_inactive")
    member.is_active = True
    member.save()
    clock.shift(dt.timedelta(seconds=30))  # the next window's code: the first one was used
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"


def test_an_inactive_home_membership_is_refused(clock, alice_pass, at_filature):
    Membership.objects.filter(pk=alice_pass.membership_id).update(ends_on=dt.date(2026, 11, 30))
    refused_with(at_filature.scan(rotating_credential(alice_pass)), "membership_inactive")


def test_a_suspended_home_membership_is_refused(clock, alice_pass, at_filature):
    Membership.objects.filter(pk=alice_pass.membership_id).update(status="suspended")
    refused_with(at_filature.scan(rotating_credential(alice_pass)), "membership_inactive")


def test_a_space_outside_the_network_is_refused(clock, alice_pass, verriere, scanner):
    key = make_partner_key(verriere)
    refused_with(scanner.with_key(key).scan(rotating_credential(alice_pass)), "not_in_network")


def test_a_full_host_refuses_more_network_visitors(
    clock, alice_pass, bob_pass, filature, at_filature
):
    NetworkSpace.objects.filter(space=filature).update(daily_visitor_capacity=1)
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"
    refused_with(at_filature.scan(rotating_credential(bob_pass)), "host_full")
    # The refusal used nothing: one visitor counted today, none of Bob's allowance.
    assert list(HostDayCounter.objects.values_list("used", flat=True)) == [1]
    assert not AllowanceCounter.objects.filter(member=bob_pass.member, used__gt=0).exists()
    assert Visit.objects.count() == 1
    clock.move_to(NOW + dt.timedelta(days=1))
    assert at_filature.scan(rotating_credential(bob_pass)).json()["decision"] == "accepted"


def test_the_allowance_at_one_host_runs_out(clock, alice_pass, network, at_filature):
    network.monthly_visits_per_host = 2
    network.save()
    for day in (1, 2):
        clock.move_to(NOW + dt.timedelta(days=day - 1))
        assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"
    clock.move_to(NOW + dt.timedelta(days=2))
    body = refused_with(at_filature.scan(rotating_credential(alice_pass)), "allowance_exhausted")
    assert body["allowance"] == {"network_left": 6, "host_left": 0}


def test_the_network_wide_allowance_runs_out_across_hosts(
    clock, alice_pass, network, at_filature, quai_key
):
    network.monthly_visits = 1
    network.save()
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"
    clock.move_to(NOW + dt.timedelta(days=1))
    refused_with(
        partner_client(quai_key).scan(rotating_credential(alice_pass)), "allowance_exhausted"
    )


def test_the_allowance_starts_again_next_month(clock, alice_pass, network, at_filature):
    network.monthly_visits = 1
    network.save()
    at_filature.scan(rotating_credential(alice_pass))
    clock.move_to(dt.datetime(2027, 1, 4, 9, tzinfo=NOW.tzinfo))
    assert at_filature.scan(rotating_credential(alice_pass)).json()["decision"] == "accepted"


def test_a_second_scan_the_same_day_is_already_checked_in_and_uses_nothing(
    clock, alice_pass, at_filature
):
    first = at_filature.scan(rotating_credential(alice_pass)).json()
    clock.move_to(NOW + dt.timedelta(hours=4))
    second = at_filature.scan(rotating_credential(alice_pass)).json()
    assert second["decision"] == "accepted" and second["already_checked_in"] is True
    assert second["visit"] == first["visit"]
    assert second["allowance"] == first["allowance"] == {"network_left": 7, "host_left": 3}


def test_already_checked_in_wins_over_an_allowance_used_up_since(
    clock, alice_pass, network, at_filature
):
    network.monthly_visits = 1
    network.save()
    at_filature.scan(rotating_credential(alice_pass))
    clock.move_to(NOW + dt.timedelta(hours=2))
    body = at_filature.scan(rotating_credential(alice_pass)).json()
    assert (body["decision"], body["already_checked_in"]) == ("accepted", True)


def test_the_local_day_decides_what_counts_as_the_same_day(clock, alice_pass, at_filature):
    clock.move_to(dt.datetime(2026, 12, 1, 23, 50, tzinfo=NOW.tzinfo))
    first = at_filature.scan(rotating_credential(alice_pass)).json()
    clock.move_to(dt.datetime(2026, 12, 2, 0, 10, tzinfo=NOW.tzinfo))
    second = at_filature.scan(rotating_credential(alice_pass)).json()
    assert first["visit"]["date"] == "2026-12-01" and second["visit"]["date"] == "2026-12-02"
    assert not second["already_checked_in"]


def test_a_scan_at_home_is_a_check_in_that_uses_no_allowance(
    clock, alice_pass, mutualab_key, scanner
):
    body = scanner.with_key(mutualab_key).scan(rotating_credential(alice_pass)).json()
    assert body["decision"] == "accepted"
    assert body["allowance"] == {"network_left": 8, "host_left": 4}
    assert not Visit.objects.get().uses_allowance


def test_a_printed_card_is_accepted_online_with_an_id_check(clock, alice_pass, at_filature):
    body = at_filature.scan(credential_static(alice_pass)).json()
    assert body["decision"] == "accepted" and body["id_check_required"] is True


def test_the_same_nonce_twice_records_one_scan_and_answers_the_same(clock, alice_pass, at_filature):
    credential = rotating_credential(alice_pass)
    first = at_filature.scan(credential, nonce="tablet-1-0001").json()
    again = at_filature.scan(credential, nonce="tablet-1-0001").json()
    assert again == first
    assert Scan.objects.count() == 1


def test_a_used_nonce_with_another_credential_is_refused_and_stored(
    clock, alice_pass, bob_pass, at_filature
):
    first = at_filature.scan(rotating_credential(alice_pass), nonce="tablet-1-0001").json()
    assert first["decision"] == "accepted"

    response = at_filature.scan(rotating_credential(bob_pass), nonce="tablet-1-0001")

    body = refused_with(response, "nonce_reused")
    assert body["allowance"] is None and body["nonce"] == "tablet-1-0001"
    assert "Alice" not in response.content.decode()
    reused = Scan.objects.get(reason="nonce_reused")
    assert (reused.pass_obj, reused.decision, reused.nonce) == (
        bob_pass,
        "refused",
        "tablet-1-0001",
    )
    assert reused.visit is None
    assert list(Visit.objects.values_list("member", flat=True)) == [alice_pass.member_id]


def test_garbage_with_a_used_nonce_learns_nothing_of_the_first_scan(clock, alice_pass, at_filature):
    at_filature.scan(rotating_credential(alice_pass), nonce="tablet-1-0001")

    response = at_filature.scan("CP1:GARBAGE", nonce="tablet-1-0001")

    body = refused_with(response, "nonce_reused")
    assert body["allowance"] is None
    assert "Alice" not in response.content.decode()
    stored = Scan.objects.get(reason="nonce_reused")
    assert (stored.credential, stored.pass_obj, stored.kid) == ("CP1:GARBAGE", None, None)


def test_a_reused_nonce_answers_each_credential_as_it_first_did(
    clock, alice_pass, bob_pass, at_filature
):
    alice_code, bob_code = rotating_credential(alice_pass), rotating_credential(bob_pass)
    first = at_filature.scan(alice_code, nonce="n-1").json()
    refused = at_filature.scan(bob_code, nonce="n-1").json()

    assert at_filature.scan(bob_code, nonce="n-1").json() == refused
    assert at_filature.scan(alice_code, nonce="n-1").json() == first
    assert Scan.objects.count() == 2


def test_a_partner_key_records_only_at_its_own_space(clock, alice_pass, at_filature, quai):
    at_filature.post(
        "/api/v1/scans/",
        {"credential": rotating_credential(alice_pass), "host": quai.slug},
        format="json",
    )
    assert Visit.objects.get().host.slug == "filature-roubaix"
    assert Scan.objects.get().host.slug == "filature-roubaix"


def test_a_partner_key_reads_only_its_own_space_scans(
    clock, alice_pass, bob_pass, at_filature, quai_key
):
    at_filature.scan(rotating_credential(alice_pass))
    partner_client(quai_key).scan(rotating_credential(bob_pass))
    listed = at_filature.get("/api/v1/scans/").json()["results"]
    assert [scan["host"] for scan in listed] == ["filature-roubaix"]


@pytest.mark.parametrize("header", [None, "Api-Key nope.nope", "Api-Key ", "Token abc"])
def test_scanning_needs_a_valid_partner_key(clock, alice_pass, scanner, header):
    if header:
        scanner.credentials(HTTP_AUTHORIZATION=header)
    response = scanner.scan(rotating_credential(alice_pass))
    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail", "fields"}
    assert not Scan.objects.exists()


def test_a_revoked_partner_key_gets_401(clock, alice_pass, filature, scanner):
    from passes.models import PartnerKey

    key = make_partner_key(filature)
    PartnerKey.objects.update(revoked=True)
    assert scanner.with_key(key).scan(rotating_credential(alice_pass)).status_code == 401


def test_a_member_token_cannot_scan(clock, alice_pass, bob, api):
    response = api.as_(bob).post(
        "/api/v1/scans/", {"credential": rotating_credential(alice_pass)}, format="json"
    )
    assert response.status_code == 403


def test_an_empty_credential_is_a_validation_error(clock, alice_pass, at_filature):
    response = at_filature.post("/api/v1/scans/", {}, format="json")
    assert response.status_code == 400
    assert "credential" in response.json()["fields"]
