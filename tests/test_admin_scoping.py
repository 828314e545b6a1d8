"""The admin for co-managers: they get in without `is_staff` and see only their own spaces."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.contrib.auth.hashers import check_password

from coworking.models import AuditEntry, Member
from spaces.admin import BookingAdminForm
from spaces.models import Booking, Closure, Membership, Resource, TrainingRecord
from spaces.services import booking_create

from .conftest import paris
from .factories import PASSWORD, MemberFactory, MembershipFactory

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def as_camille(client, camille):
    client.force_login(camille)
    return client


@pytest.fixture
def filature_things(dominique, charlie, filature, filature_room):
    """La Filature's objects, which Camille must never reach."""
    booking = booking_create(
        member=charlie,
        resource=filature_room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    return {
        "space": filature,
        "resource": filature_room,
        "booking": booking,
        "membership": charlie.memberships.get(),
        "member": charlie,
    }


def listed(response) -> set:
    assert response.status_code == 200
    return set(response.context["cl"].queryset)


def booking_form_data(resource, member, start: str, end: str) -> dict[str, str]:
    """The admin's split date/time widgets for a booking on 2 December 2026."""
    return {
        "resource": str(resource.pk),
        "member": str(member.pk),
        "start_0": "2026-12-02",
        "start_1": start,
        "end_0": "2026-12-02",
        "end_1": end,
        "note": "",
    }


# --- Getting in ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_who_is_not_staff_opens_the_admin(as_camille, camille):
    assert not camille.is_staff

    response = as_camille.get("/admin/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_co_manager_logs_in_with_the_admin_login_form(client, camille):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "camille@mutualab.example", "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_plain_member_is_sent_to_the_login_page(client, alice):
    client.force_login(alice)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_a_plain_member_cannot_log_in_with_the_admin_login_form(client, alice):
    response = client.post(
        "/admin/login/", {"username": "alice@mutualab.example", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_former_co_manager_is_locked_out(client, camille):
    membership = camille.memberships.get()
    membership.ends_on = dt.date(2026, 11, 30)
    membership.status = Membership.Status.ENDED
    membership.save()
    client.force_login(camille)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- What a co-manager sees ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_sees_only_their_spaces_resources(as_camille, desk, room, filature_things):
    assert listed(as_camille.get("/admin/spaces/resource/")) == {desk, room}


@pytest.mark.django_db
def test_a_co_manager_sees_only_their_spaces_bookings(as_camille, alice, room, filature_things):
    own = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )

    assert listed(as_camille.get("/admin/spaces/booking/")) == {own}


@pytest.mark.django_db
def test_a_co_manager_sees_only_their_spaces_memberships(
    as_camille, alice, bob, camille, filature_things
):
    memberships = listed(as_camille.get("/admin/spaces/membership/"))

    assert {m.member for m in memberships} == {alice, bob, camille}


@pytest.mark.django_db
def test_a_co_manager_sees_only_the_members_of_their_spaces(
    as_camille, alice, bob, camille, dominique, filature_things
):
    assert listed(as_camille.get("/admin/coworking/member/")) == {alice, bob, camille}


@pytest.mark.django_db
def test_a_co_manager_never_sees_platform_accounts(as_camille, alice, mutualab):
    staff = MemberFactory(is_staff=True)
    MembershipFactory(member=staff, space=mutualab)

    assert staff not in listed(as_camille.get("/admin/coworking/member/"))
    assert as_camille.get(f"/admin/coworking/member/{staff.pk}/change/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("space", "/admin/spaces/space/{}/change/"),
        ("resource", "/admin/spaces/resource/{}/change/"),
        ("booking", "/admin/spaces/booking/{}/change/"),
        ("membership", "/admin/spaces/membership/{}/change/"),
        ("member", "/admin/coworking/member/{}/change/"),
    ],
)
def test_a_co_manager_cannot_open_another_spaces_object(as_camille, filature_things, kind, url):
    response = as_camille.get(url.format(filature_things[kind].pk))

    # The admin answers "no such object" with a redirect to its index.
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_a_co_manager_cannot_change_another_spaces_object_by_posting(as_camille, filature_things):
    resource = filature_things["resource"]

    response = as_camille.post(
        f"/admin/spaces/resource/{resource.pk}/change/",
        {"space": resource.space_id, "name": "Pris", "kind": "room", "capacity": 1},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    resource.refresh_from_db()
    assert resource.name == "Salle Roubaix"


@pytest.mark.django_db
def test_the_space_choices_of_a_new_resource_are_the_co_managers_spaces(
    as_camille, mutualab, filature
):
    response = as_camille.get("/admin/spaces/resource/add/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.fields["space"].queryset) == [mutualab]


@pytest.mark.django_db
def test_a_co_manager_cannot_create_a_resource_in_another_space(as_camille, filature):
    response = as_camille.post(
        "/admin/spaces/resource/add/",
        {
            "space": filature.pk,
            "name": "Salle pirate",
            "kind": "room",
            "capacity": 4,
            "members_only": "on",
            "is_active": "on",
            "closures-TOTAL_FORMS": "0",
            "closures-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "space" in response.context["adminform"].form.errors
    assert not Resource.objects.filter(name="Salle pirate").exists()


# --- Inlines ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_edits_a_members_membership_inline(as_camille, mutualab):
    # Ids far apart, so that nothing matches the member's id by chance.
    erin = MemberFactory(id=900_001, first_name="Erin")
    membership = MembershipFactory(member=erin, space=mutualab)
    assert membership.pk != erin.pk

    response = as_camille.get(f"/admin/coworking/member/{erin.pk}/change/")

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_change_permission
    assert [form.instance for form in inline.formset.forms] == [membership]
    assert 'name="memberships-0-role"' in response.content.decode()


@pytest.mark.django_db
def test_the_membership_inline_hides_memberships_of_other_spaces(as_camille, alice, filature):
    MembershipFactory(member=alice, space=filature)

    response = as_camille.get(f"/admin/coworking/member/{alice.pk}/change/")

    (inline,) = response.context["inline_admin_formsets"]
    assert [form.instance.space.slug for form in inline.formset.forms] == ["mutualab"]


@pytest.mark.django_db
def test_a_co_manager_edits_the_closures_of_a_resource_inline(as_camille, mutualab):
    resource = Resource.objects.create(id=900_002, space=mutualab, name="Atelier", kind="room")
    closure = Closure.objects.create(
        space=mutualab,
        resource=resource,
        starts_on=dt.date(2026, 12, 24),
        ends_on=dt.date(2026, 12, 26),
    )
    assert closure.pk != resource.pk

    response = as_camille.get(f"/admin/spaces/resource/{resource.pk}/change/")

    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_change_permission
    assert 'name="closures-0-reason"' in response.content.decode()


# --- Members who co-manage elsewhere ---------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_changes_a_member_of_their_space(as_camille, alice):
    response = as_camille.get(f"/admin/coworking/member/{alice.pk}/change/")

    assert response.context["has_change_permission"] is True
    assert as_camille.get(f"/admin/coworking/member/{alice.pk}/password/").status_code == 200


@pytest.mark.django_db
def test_a_co_manager_cannot_take_over_another_spaces_co_manager(as_camille, mutualab, dominique):
    # Dominique co-manages La Filature and also works at Mutualab.
    MembershipFactory(member=dominique, space=mutualab)

    page = as_camille.get(f"/admin/coworking/member/{dominique.pk}/change/")
    password_page = as_camille.get(f"/admin/coworking/member/{dominique.pk}/password/")
    set_password = as_camille.post(
        f"/admin/coworking/member/{dominique.pk}/password/",
        {"password1": "taken-over-1234", "password2": "taken-over-1234", "usable_password": "true"},
    )
    change = as_camille.post(
        f"/admin/coworking/member/{dominique.pk}/change/",
        {"email": "camille+evil@mutualab.example", "first_name": "Dominique"},
    )

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert password_page.status_code == 403
    assert set_password.status_code == 403
    assert change.status_code == 403
    dominique.refresh_from_db()
    assert dominique.email == "comanager@filature-roubaix.example"
    assert check_password(PASSWORD, dominique.password)


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["charlie", "dominique"])
def test_a_co_manager_cannot_take_over_another_spaces_member_by_giving_a_membership(
    request, as_camille, mutualab, person
):
    # Charlie is a member of La Filature only; Dominique co-manages it.
    other = request.getfixturevalue(person)

    added = as_camille.post(
        "/admin/spaces/membership/add/",
        {
            "member": other.pk,
            "space": mutualab.pk,
            "role": "member",
            "status": "active",
            "starts_on": "2026-12-01",
        },
    )

    assert added.status_code == 200
    errors = added.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["member"]] == ["invalid_choice"]
    assert not Membership.objects.filter(member=other, space=mutualab).exists()
    # So the person is still not hers: no account page, no password, no erasure.
    assert as_camille.get(f"/admin/coworking/member/{other.pk}/change/").status_code == 302
    assert as_camille.get(f"/admin/coworking/member/{other.pk}/password/").status_code == 404
    as_camille.post(
        "/admin/coworking/member/", {"action": "erase_members", "_selected_action": [other.pk]}
    )
    other.refresh_from_db()
    assert other.is_active
    assert other.memberships.get().status == Membership.Status.ACTIVE


@pytest.mark.django_db
def test_the_member_choices_of_a_new_membership_are_the_people_of_her_spaces(
    as_camille, alice, bob, camille, charlie, dominique
):
    form = as_camille.get("/admin/spaces/membership/add/").context["adminform"].form

    assert set(form.fields["member"].queryset) == {alice, bob, camille}


@pytest.mark.django_db
def test_a_co_manager_cannot_record_a_training_for_another_spaces_member(
    as_camille, laser, charlie
):
    response = as_camille.post(
        "/admin/spaces/trainingrecord/add/",
        {"training": laser.training_id, "member": charlie.pk, "granted_on": "2026-12-01"},
    )

    assert response.status_code == 200
    assert "member" in response.context["adminform"].form.errors
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
def test_a_co_manager_cannot_assign_a_desk_to_another_spaces_member(as_camille, desk, charlie):
    response = as_camille.post(
        f"/admin/spaces/resource/{desk.pk}/change/",
        {
            "space": desk.space_id,
            "name": desk.name,
            "kind": "desk",
            "desk_type": "fixed",
            "assigned_to": charlie.pk,
            "capacity": 1,
            "closures-TOTAL_FORMS": "0",
            "closures-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "assigned_to" in response.context["adminform"].form.errors
    desk.refresh_from_db()
    assert desk.assigned_to is None


# --- Erasing ---------------------------------------------------------------------------------


def erase(client, *members):
    return client.post(
        "/admin/coworking/member/",
        {"action": "erase_members", "_selected_action": [m.pk for m in members]},
        follow=True,
    )


@pytest.mark.django_db
def test_a_co_manager_erases_only_the_people_she_manages(as_camille, alice, charlie):
    erase(as_camille, alice, charlie)

    alice.refresh_from_db()
    charlie.refresh_from_db()
    assert not alice.is_active
    assert charlie.is_active
    assert charlie.memberships.get().status == Membership.Status.ACTIVE


@pytest.mark.django_db
def test_a_member_of_another_space_too_is_not_erased_by_one_co_manager(as_camille, alice, filature):
    # Erasing ends every membership: La Filature's is not Camille's to end.
    MembershipFactory(member=alice, space=filature)

    response = erase(as_camille, alice)

    alice.refresh_from_db()
    assert alice.is_active
    assert set(alice.memberships.values_list("status", flat=True)) == {"active"}
    assert [m.level_tag for m in response.context["messages"]] == ["success", "warning"]


@pytest.mark.django_db
def test_a_superuser_erases_a_member_of_several_spaces(client, alice, filature):
    MembershipFactory(member=alice, space=filature)
    client.force_login(root())

    erase(client, alice)

    alice.refresh_from_db()
    assert not alice.is_active
    assert set(alice.memberships.values_list("status", flat=True)) == {"ended"}


@pytest.mark.django_db
def test_a_co_manager_does_not_erase_herself(as_camille, camille):
    erase(as_camille, camille)

    camille.refresh_from_db()
    assert camille.is_active


# --- Bookings through the admin --------------------------------------------------------------


@pytest.mark.django_db
def test_a_co_manager_books_for_a_member_through_the_admin(as_camille, camille, alice, room):
    response = as_camille.post(
        "/admin/spaces/booking/add/", booking_form_data(room, alice, "10:00", "11:00")
    )

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.member == alice
    assert booking.created_by == camille
    assert booking.start == paris(2026, 12, 2, 10)
    assert booking.end == paris(2026, 12, 2, 11)
    assert AuditEntry.objects.filter(
        action="booking.create_for_member", actor=camille, target_id=str(booking.pk)
    ).exists()


@pytest.mark.django_db
def test_an_overlapping_booking_in_the_admin_is_a_form_error(as_camille, alice, bob, room):
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )

    response = as_camille.post(
        "/admin/spaces/booking/add/", booking_form_data(room, bob, "10:30", "11:30")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["booking_conflict"]
    assert Booking.objects.count() == 1
    assert not AuditEntry.objects.filter(action="booking.create_for_member").exists()


@pytest.mark.django_db
def test_a_broken_rule_in_the_admin_is_a_form_error_with_its_code(as_camille, alice, room):
    response = as_camille.post(
        "/admin/spaces/booking/add/", booking_form_data(room, alice, "18:00", "20:00")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["outside_opening_hours"]
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_slot_taken_between_check_and_save_is_a_message_not_a_crash(
    as_camille, monkeypatch, alice, bob, room
):
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    # As if a concurrent writer took the slot right after the form was validated.
    monkeypatch.setattr(BookingAdminForm, "clean", forms.ModelForm.clean)

    response = as_camille.post(
        "/admin/spaces/booking/add/",
        booking_form_data(room, bob, "10:30", "11:30"),
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain == [("/admin/spaces/booking/add/", 302)]
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_co_manager_cannot_book_another_spaces_resource_in_the_admin(
    as_camille, charlie, filature_room
):
    response = as_camille.post(
        "/admin/spaces/booking/add/", booking_form_data(filature_room, charlie, "10:00", "11:00")
    )

    assert response.status_code == 200
    assert "resource" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_superuser_sees_every_space(client, desk, filature_things):
    root = Member.objects.create_superuser("root@chtipass.example", "x", first_name="Root")
    client.force_login(root)

    assert listed(client.get("/admin/spaces/resource/")) == {desk, filature_things["resource"]}


def root() -> Member:
    return Member.objects.create_superuser("root@chtipass.example", "x", first_name="Root")


# --- Filters: declared ones only -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["camille", "root"])
@pytest.mark.parametrize(
    "query",
    [
        "calendar_token__startswith=a",
        "calendar_token=x",
        "password__startswith=md5",
        "email__startswith=alice",
        "memberships__space__name__startswith=Mut",
        # Through a reverse relation after another relation (it raised AttributeError).
        "memberships__space__memberships__member__email=alice@mutualab.example",
    ],
)
def test_members_cannot_be_filtered_on_an_undeclared_field(client, camille, alice, user, query):
    client.force_login(camille if user == "camille" else root())

    response = client.get(f"/admin/coworking/member/?{query}")

    # DisallowedModelAdminLookup: a SuspiciousOperation, answered 400.
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_secret_calendar_token_gives_no_oracle(as_camille, alice):
    prefix = alice.calendar_token[:3]

    matching = as_camille.get(f"/admin/coworking/member/?calendar_token__startswith={prefix}")
    other = as_camille.get("/admin/coworking/member/?calendar_token__startswith=ZZZ")

    assert matching.status_code == other.status_code == 400
    assert alice.calendar_token not in matching.content.decode()


@pytest.mark.django_db
def test_declared_member_filters_and_search_still_work(as_camille, alice, bob, mutualab):
    by_space = as_camille.get(
        f"/admin/coworking/member/?memberships__space__id__exact={mutualab.pk}"
    )
    inactive = as_camille.get("/admin/coworking/member/?is_active__exact=0")
    searched = as_camille.get("/admin/coworking/member/?q=alice")

    assert alice in listed(by_space)
    assert listed(inactive) == set()
    assert listed(searched) == {alice}


@pytest.mark.django_db
def test_every_admin_refuses_undeclared_filters_and_follows_its_own(client, world_for_lists):
    """As a superuser, on every registered admin: a filter on any field it does not declare is
    refused; every link its filter sidebar and date drill-down offer opens."""
    from django.contrib import admin

    client.force_login(root())
    checked = 0
    for model, model_admin in admin.site._registry.items():
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        shown = client.get(changelist)
        assert shown.status_code == 200, changelist
        declared = model_admin.declared_lookups(None)
        for field in model._meta.concrete_fields:
            if field.name in declared:
                continue
            response = client.get(f"{changelist}?{field.name}__isnull=True")
            assert response.status_code == 400, f"{changelist} {field.name}"
            checked += 1
        cl = shown.context["cl"]
        offered = [
            choice["query_string"] for spec in cl.filter_specs for choice in spec.choices(cl)
        ]
        for query_string in offered:
            assert client.get(f"{changelist}{query_string}").status_code == 200, query_string

    assert checked > 50


@pytest.fixture
def world_for_lists(alice, charlie, room, network, signing):
    """A few rows, so that the filter sidebars have choices to offer."""
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )


# --- Summary dispatches ----------------------------------------------------------------------


@pytest.fixture
def dispatches(alice, camille, charlie):
    from reports.models import SummaryDispatch

    november = dt.date(2026, 11, 1)
    return {
        "alice": SummaryDispatch.objects.create(
            recipient=alice,
            month=november,
            status=SummaryDispatch.Status.UNKNOWN,
            last_error="SMTPServerDisconnected('secret relay detail')",
        ),
        "camille": SummaryDispatch.objects.create(
            recipient=camille, month=november, status=SummaryDispatch.Status.SENT
        ),
        "charlie": SummaryDispatch.objects.create(
            recipient=charlie, month=november, status=SummaryDispatch.Status.UNKNOWN
        ),
    }


SUMMARIES = "/admin/reports/summarydispatch/"


@pytest.mark.django_db
def test_a_co_manager_sees_the_summaries_of_the_people_she_manages(as_camille, dispatches):
    assert listed(as_camille.get(SUMMARIES)) == {dispatches["alice"], dispatches["camille"]}
    assert as_camille.get(f"{SUMMARIES}{dispatches['charlie'].pk}/change/").status_code == 302


@pytest.mark.django_db
def test_summaries_that_ended_unknown_are_found_with_the_state_filter(as_camille, dispatches):
    response = as_camille.get(f"{SUMMARIES}?status__exact=unknown")

    assert listed(response) == {dispatches["alice"]}
    assert "interrompu pendant l&#x27;envoi" in response.content.decode()


@pytest.mark.django_db
def test_summaries_are_read_only_and_their_error_text_is_for_superusers(
    client, as_camille, dispatches
):
    alice_summary = dispatches["alice"]
    page = as_camille.get(f"{SUMMARIES}{alice_summary.pk}/change/")

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "secret relay detail" not in page.content.decode()
    assert as_camille.get(f"{SUMMARIES}add/").status_code == 403
    assert (
        as_camille.post(f"{SUMMARIES}{alice_summary.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    client.force_login(root())
    assert (
        "secret relay detail"
        in client.get(f"{SUMMARIES}{alice_summary.pk}/change/").content.decode()
    )
    assert listed(client.get(SUMMARIES)) == set(dispatches.values())
