"""The ch'tipass admin: co-managers see and act on what touches their own spaces only."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization

from coworking.models import AuditEntry, Member
from passes.keys import _decrypt
from passes.models import Network, PartnerKey, Pass, Scan, SigningKey, Visit
from passes.services import credential_rotating, pass_revoke

from .conftest import issue_pass, make_partner_key, rotating_credential
from .factories import MemberFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

PASSES = "/admin/passes/pass/"


@pytest.fixture
def as_camille(client, camille):
    client.force_login(camille)
    return client


@pytest.fixture
def as_dominique(client, dominique):
    client.force_login(dominique)
    return client


@pytest.fixture
def as_root(client, db):
    root = Member.objects.create_superuser("root@chtipass.example", "x", first_name="Root")
    client.force_login(root)
    return client


@pytest.fixture
def charlie_pass(charlie, network, signing):
    return issue_pass(charlie, network)


@pytest.fixture
def scans(scanner, alice_pass, charlie_pass, mutualab_key, filature_key):
    """Charlie works a day at Mutualab, Alice a day at La Filature."""
    at_mutualab = scanner.with_key(mutualab_key).scan(rotating_credential(charlie_pass)).json()
    at_filature = scanner.with_key(filature_key).scan(rotating_credential(alice_pass)).json()
    return {
        "at_mutualab": Scan.objects.get(visit_id=at_mutualab["visit"]["id"]),
        "at_filature": Scan.objects.get(visit_id=at_filature["visit"]["id"]),
    }


def listed(response) -> set:
    assert response.status_code == 200
    return set(response.context["cl"].queryset)


def admin_models(response) -> set[str]:
    return {model["object_name"] for app in response.context["app_list"] for model in app["models"]}


def run_action(client, action: str, passes, reason: str = "impayé"):
    return client.post(
        PASSES,
        {"action": action, "_selected_action": [p.pk for p in passes], "reason": reason},
        follow=True,
    )


def message_levels(response) -> list[str]:
    return [message.level_tag for message in response.context["messages"]]


# --- What a co-manager sees ------------------------------------------------------------------


def test_a_co_manager_sees_her_members_passes_only(as_camille, alice_pass, bob_pass, charlie_pass):
    assert listed(as_camille.get(PASSES)) == {alice_pass, bob_pass}


def test_a_co_manager_sees_her_spaces_partner_keys_only(as_camille, mutualab_key, filature_key):
    keys = listed(as_camille.get("/admin/passes/partnerkey/"))

    assert {key.space.slug for key in keys} == {"mutualab"}


def test_a_co_manager_sees_the_scans_made_at_her_space_only(as_camille, scans):
    assert listed(as_camille.get("/admin/passes/scan/")) == {scans["at_mutualab"]}


def test_a_co_manager_sees_visits_hosted_or_made_by_her_members(
    as_camille, scans, charlie_pass, quai_key, scanner
):
    # Charlie (La Filature) at Le Quai: none of Mutualab's business.
    # Next window's code: a (pass, counter) shown at one host is refused at any other.
    next_code = credential_rotating(charlie_pass, windows=2)[1][1]
    assert scanner.with_key(quai_key).scan(next_code).json()["decision"] == "accepted"

    assert listed(as_camille.get("/admin/passes/visit/")) == {
        scans["at_mutualab"].visit,
        scans["at_filature"].visit,
    }
    assert Visit.objects.count() == 3


def test_a_host_sees_a_visitors_first_name_only(as_camille, scans, charlie):
    charlie.last_name = "Dupont"
    charlie.save()

    scan = scans["at_mutualab"]

    pages = [
        as_camille.get(f"/admin/passes/scan/{scan.pk}/change/"),
        as_camille.get("/admin/passes/scan/"),
        as_camille.get(f"/admin/passes/visit/{scan.visit_id}/change/"),
        as_camille.get("/admin/passes/visit/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "Charlie" in page.content.decode()
        assert "Dupont" not in page.content.decode()
        assert charlie.email not in page.content.decode()
    assert scan.credential not in pages[0].content.decode()


def test_the_home_space_sees_its_own_members_in_full(as_camille, scans, alice):
    alice.last_name = "Martin"
    alice.save()

    page = as_camille.get(f"/admin/passes/visit/{scans['at_filature'].visit_id}/change/")

    assert "Alice Martin" in page.content.decode()


def test_a_co_manager_cannot_open_another_spaces_scan(as_camille, scans):
    response = as_camille.get(f"/admin/passes/scan/{scans['at_filature'].pk}/change/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_co_manager_views_her_network_but_cannot_change_it(as_camille, network):
    response = as_camille.get(f"/admin/passes/network/{network.pk}/change/")

    assert listed(as_camille.get("/admin/passes/network/")) == {network}
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert as_camille.get("/admin/passes/network/add/").status_code == 403
    assert (
        as_camille.post(f"/admin/passes/network/{network.pk}/change/", {"name": "Pris"})
    ).status_code == 403
    assert Network.objects.get().name == "ch'tipass Métropole"


def test_a_co_manager_outside_the_network_does_not_see_it(client, verriere, network):
    outsider = MemberFactory()
    MembershipFactory(member=outsider, space=verriere, role="co_manager")
    client.force_login(outsider)

    assert "Network" not in admin_models(client.get("/admin/"))
    assert client.get("/admin/passes/network/").status_code == 403


# --- Acting on passes ------------------------------------------------------------------------


def test_a_co_manager_suspends_her_members_pass_with_the_admin_action(
    as_camille, camille, alice_pass
):
    response = run_action(as_camille, "suspend_passes", [alice_pass])

    assert message_levels(response) == ["success"]
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.SUSPENDED
    assert alice_pass.status_reason == "impayé"
    assert AuditEntry.objects.filter(
        action="pass.suspend", actor=camille, target_id=str(alice_pass.pk)
    ).exists()


def test_reinstating_and_revoking_go_through_the_services(as_camille, camille, alice_pass):
    run_action(as_camille, "suspend_passes", [alice_pass])
    run_action(as_camille, "reinstate_passes", [alice_pass], reason="réglé")
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.ACTIVE

    run_action(as_camille, "revoke_passes", [alice_pass], reason="départ")

    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.REVOKED
    assert list(
        AuditEntry.objects.filter(target_id=str(alice_pass.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["pass.issue", "pass.suspend", "pass.reinstate", "pass.revoke"]


def test_an_action_without_a_reason_changes_nothing(as_camille, alice_pass):
    response = run_action(as_camille, "suspend_passes", [alice_pass], reason=" ")

    assert message_levels(response) == ["error"]
    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.ACTIVE
    assert not AuditEntry.objects.filter(action="pass.suspend").exists()


def test_a_refused_transition_is_an_error_message(as_camille, camille, alice_pass, bob_pass):
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="départ")

    response = run_action(as_camille, "suspend_passes", [alice_pass, bob_pass])

    assert sorted(message_levels(response)) == ["error", "success"]
    bob_pass.refresh_from_db()
    assert bob_pass.status == Pass.Status.SUSPENDED


def test_another_spaces_co_manager_cannot_see_or_act_on_mutualabs_passes(
    as_dominique, alice_pass, charlie_pass
):
    assert listed(as_dominique.get(PASSES)) == {charlie_pass}
    assert as_dominique.get(f"{PASSES}{alice_pass.pk}/change/").status_code == 302

    run_action(as_dominique, "suspend_passes", [alice_pass])

    alice_pass.refresh_from_db()
    assert alice_pass.status == Pass.Status.ACTIVE
    assert not AuditEntry.objects.filter(action="pass.suspend").exists()


def test_a_pass_cannot_be_deleted_in_the_admin(as_camille, alice_pass):
    response = as_camille.post(f"{PASSES}{alice_pass.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Pass.objects.filter(pk=alice_pass.pk).exists()


def test_a_co_manager_issues_a_pass_through_the_service(as_camille, camille, bob, network):
    response = as_camille.post(
        f"{PASSES}add/", {"membership": bob.memberships.get().pk, "network": network.pk}
    )

    assert response.status_code == 302
    issued = Pass.objects.get(member=bob)
    assert issued.status == Pass.Status.ACTIVE
    assert AuditEntry.objects.filter(action="pass.issue", actor=camille).count() == 1


def test_a_second_pass_in_the_same_network_is_a_form_error(as_camille, alice, alice_pass):
    response = as_camille.post(
        f"{PASSES}add/",
        {"membership": alice.memberships.get().pk, "network": alice_pass.network_id},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["pass_exists"]
    assert Pass.objects.filter(member=alice).count() == 1


def test_a_co_manager_cannot_issue_a_pass_to_another_spaces_member(as_camille, charlie, network):
    response = as_camille.post(
        f"{PASSES}add/", {"membership": charlie.memberships.get().pk, "network": network.pk}
    )

    assert response.status_code == 200
    assert "membership" in response.context["adminform"].form.errors
    assert not Pass.objects.filter(member=charlie).exists()


# --- Partner keys ----------------------------------------------------------------------------


def test_a_co_manager_creates_a_partner_key_shown_once(as_camille, camille, mutualab):
    response = as_camille.post(
        "/admin/passes/partnerkey/add/",
        {"name": "Tablette du café", "space": mutualab.pk},
        follow=True,
    )

    partner_key = PartnerKey.objects.get()
    assert partner_key.space == mutualab
    assert partner_key.created_by == camille
    (shown,) = [m.message for m in response.context["messages"] if m.level_tag == "warning"]
    key = shown.split(" : ")[1].split(" ")[0]
    assert key.startswith(f"{partner_key.prefix}.")
    assert PartnerKey.objects.get_from_key(key) == partner_key
    assert key not in partner_key.hashed_key
    page = as_camille.get(f"/admin/passes/partnerkey/{partner_key.pk}/change/").content.decode()
    assert key not in page
    assert partner_key.hashed_key not in page


def test_the_space_of_a_new_partner_key_is_one_of_hers(as_camille, mutualab, filature):
    form = as_camille.get("/admin/passes/partnerkey/add/").context["adminform"].form

    assert list(form.fields["space"].queryset) == [mutualab]
    assert form.initial["space"] == mutualab.pk
    response = as_camille.post(
        "/admin/passes/partnerkey/add/", {"name": "Pirate", "space": filature.pk}
    )
    assert response.status_code == 200
    assert "space" in response.context["adminform"].form.errors
    assert not PartnerKey.objects.exists()


def test_a_co_manager_revokes_a_partner_key(as_camille, camille, mutualab, alice_pass, scanner):
    key = make_partner_key(mutualab)
    partner_key = PartnerKey.objects.get()

    as_camille.post(
        "/admin/passes/partnerkey/",
        {"action": "revoke_partner_keys", "_selected_action": [partner_key.pk]},
    )

    partner_key.refresh_from_db()
    assert partner_key.revoked
    assert AuditEntry.objects.filter(action="partner_key.revoke", actor=camille).exists()
    assert scanner.with_key(key).scan(rotating_credential(alice_pass)).status_code == 401


def test_a_co_manager_cannot_open_another_spaces_partner_key(as_camille, filature_key, filature):
    partner_key = PartnerKey.objects.get(space=filature)

    response = as_camille.get(f"/admin/passes/partnerkey/{partner_key.pk}/change/")

    assert response.status_code == 302


# --- Signing keys ----------------------------------------------------------------------------


def test_signing_keys_are_hidden_from_co_managers(as_camille, signing):
    assert "SigningKey" not in admin_models(as_camille.get("/admin/"))
    assert as_camille.get("/admin/passes/signingkey/").status_code == 403
    assert as_camille.get(f"/admin/passes/signingkey/{signing.pk}/change/").status_code == 403


def test_signing_keys_are_read_only_for_superusers(as_root, signing):
    assert listed(as_root.get("/admin/passes/signingkey/")) == {signing}
    assert as_root.get("/admin/passes/signingkey/add/").status_code == 403
    assert as_root.post(f"/admin/passes/signingkey/{signing.pk}/delete/").status_code == 403
    page = as_root.get(f"/admin/passes/signingkey/{signing.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False


def test_the_signing_key_admin_never_renders_private_material(as_root, signing):
    stored = SigningKey.objects.get(pk=signing.pk)
    blob = bytes(stored.encrypted_private_key)
    raw = _decrypt(blob).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    secrets = {
        base64.b64encode(blob).decode(),
        blob.hex(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    }

    pages = [
        as_root.get("/admin/passes/signingkey/").content.decode(),
        as_root.get(f"/admin/passes/signingkey/{signing.pk}/change/").content.decode(),
    ]

    assert stored.public_key in pages[1]
    for page in pages:
        assert "encrypted_private_key" not in page
        assert not any(secret in page for secret in secrets)


# --- Every page opens ------------------------------------------------------------------------


def test_a_co_manager_finds_the_network_pages_in_the_admin_index(as_camille, network):
    assert admin_models(as_camille.get("/admin/")) >= {
        "Network",
        "NetworkSpace",
        "Pass",
        "PartnerKey",
        "Scan",
        "Visit",
    }


def test_the_pass_list_asks_for_a_reason_next_to_the_actions(as_camille, alice_pass):
    page = as_camille.get(PASSES).content.decode()

    assert 'name="reason"' in page
    assert 'value="suspend_passes"' in page
    assert 'value="delete_selected"' not in page


@pytest.mark.parametrize("user", ["as_root", "as_camille"])
def test_every_ch_tipass_admin_page_opens(request, user, scans, network, signing):
    client = request.getfixturevalue(user)
    partner_key = PartnerKey.objects.get(space__slug="mutualab")
    pages = [
        "/admin/",
        "/admin/passes/network/",
        f"/admin/passes/network/{network.pk}/change/",
        "/admin/passes/networkspace/",
        f"/admin/passes/networkspace/{network.members.get(space__slug='mutualab').pk}/change/",
        PASSES,
        f"{PASSES}add/",
        f"{PASSES}{scans['at_filature'].pass_obj_id}/change/",
        "/admin/passes/partnerkey/",
        "/admin/passes/partnerkey/add/",
        f"/admin/passes/partnerkey/{partner_key.pk}/change/",
        "/admin/passes/scan/",
        f"/admin/passes/scan/{scans['at_mutualab'].pk}/change/",
        "/admin/passes/visit/",
        f"/admin/passes/visit/{scans['at_mutualab'].visit_id}/change/",
    ]
    if user == "as_root":
        pages += ["/admin/passes/network/add/", "/admin/passes/networkspace/add/"]

    assert {page: client.get(page).status_code for page in pages} == dict.fromkeys(pages, 200)


# --- Filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["as_root", "as_camille"])
@pytest.mark.parametrize(
    "query",
    [
        "credential__startswith=CP1:",
        "credential__startswith=ZZZ",
        "credential__contains=CP1",
        "nonce__startswith=a",
        "pass_obj__member__calendar_token__startswith=a",
    ],
)
def test_scans_cannot_be_filtered_on_the_credential_they_read(request, user, scans, query):
    client = request.getfixturevalue(user)

    response = client.get(f"/admin/passes/scan/?{query}")

    # The same answer whether or not a stored credential matches: no oracle.
    assert response.status_code == 400


def test_the_declared_scan_filters_and_date_drill_down_still_work(as_camille, scans):
    accepted = as_camille.get("/admin/passes/scan/?decision__exact=accepted")
    this_year = as_camille.get("/admin/passes/scan/?received_at__year=2026&received_at__month=12")
    refused = as_camille.get("/admin/passes/scan/?decision__exact=refused")

    assert listed(accepted) == listed(this_year) == {scans["at_mutualab"]}
    assert listed(refused) == set()


def test_partner_keys_are_never_filtered_on_their_hash(as_root, mutualab_key):
    response = as_root.get("/admin/passes/partnerkey/?hashed_key__startswith=pbkdf2")

    assert response.status_code == 400


def test_the_dashboards_visit_and_key_filters_are_declared(as_camille, scans, mutualab):
    visits = as_camille.get(f"/admin/passes/visit/?host__id__exact={mutualab.pk}")
    keys = as_camille.get(f"/admin/passes/partnerkey/?space__id__exact={mutualab.pk}")

    assert listed(visits) == {scans["at_mutualab"].visit}
    assert {key.space for key in listed(keys)} == {mutualab}


def test_a_pass_is_issued_only_in_a_network_of_the_memberships_space(
    as_camille, camille, network, verriere
):
    # Camille also co-manages La Verrière, which is not in the network: both are hers to pick,
    # but together they make no pass.
    MembershipFactory(member=camille, space=verriere, role="co_manager")
    outsider = MembershipFactory(space=verriere)

    response = as_camille.post(f"{PASSES}add/", {"membership": outsider.pk, "network": network.pk})

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["not_in_network"]
    assert not Pass.objects.filter(membership=outsider).exists()
