"""Every admin form offers and accepts only what its user may manage (spaces/admin_scoping.py).

Camille co-manages Mutualab. For every registered admin, its add page and the change page of
one of Mutualab's objects, and every inline on them, she posts the page as her browser would,
with one relation field (a member, a space, a plan, a resource, a pass, a key…) set to another
space's object. Each post must be refused (a form error on that very field, or 403, or "no such
object") and leave nothing written. A completeness check fails when an admin, an inline or a
relation target is not covered, as tests/test_authorization_matrix.py does for the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse

from coworking.models import AuditEntry, Member, OutboxMessage
from passes.models import Network, NetworkSpace, PartnerKey, Pass, Scan, SigningKey, Visit
from passes.services import credential_rotating
from reports.models import SummaryDispatch
from spaces.admin_scoping import (
    SCOPES,
    SUPERUSERS_ONLY,
    ManagedAdminMixin,
    ManagedInlineMixin,
)
from spaces.models import (
    Booking,
    BookingSeries,
    Closure,
    Membership,
    Plan,
    Resource,
    Space,
    Training,
    TrainingRecord,
)
from spaces.services import booking_create

from .conftest import issue_pass, make_partner_key, paris, rotating_credential
from .factories import PlanFactory, SpaceFactory, TrainingFactory, TrainingRecordFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


# --- What a browser posts --------------------------------------------------------------------


class FormControls(HTMLParser):
    """The name/value pairs a browser would submit from the form with id `form_id`."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = defaultdict(list)
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
            return
        name = attributes.get("name")
        if not self.inside or "disabled" in attributes:
            return
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.data[name].append(attributes.get("value") or "on")
                return
            self.data[name].append(attributes.get("value") or "")
        elif tag == "select" and name:
            self._select, self._multiple, self._options = name, "multiple" in attributes, []
        elif tag == "option" and self._select:
            self._options.append((attributes.get("value") or "", "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]
            self.data[self._select].extend(chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self.data[self._textarea].append(text.removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def posted_form(response, model: type[models.Model]) -> dict[str, list[str]]:
    parser = FormControls(f"{model._meta.model_name}_form")
    parser.feed(response.content.decode())
    return dict(parser.data)


# --- The world: one object of Mutualab's and one of another space's per model -----------------


@pytest.fixture
def world(
    scanner,
    mutualab,
    filature,
    quai,
    verriere,
    alice,
    bob,
    charlie,
    camille,
    dominique,
    room,
    laser,
    filature_room,
    resident_plan,
    network,
    signing,
):
    """`own[model]`: a Mutualab object Camille may manage; `foreign[model]`: one she may not."""
    other_network = Network.objects.create(slug="autre", name="Autre réseau")
    NetworkSpace.objects.create(network=other_network, space=verriere)
    filature_training = TrainingFactory(space=filature, name="Tour à bois")
    alice_pass, charlie_pass = issue_pass(alice, network), issue_pass(charlie, network)
    mutualab_key, quai_key = make_partner_key(mutualab), make_partner_key(quai)
    make_partner_key(filature)
    at_mutualab = scanner.with_key(mutualab_key).scan(rotating_credential(charlie_pass)).json()
    # The next window's code: a (pass, counter) shown at one host is refused at any other.
    at_quai = scanner.with_key(quai_key).scan(credential_rotating(charlie_pass, windows=2)[1][1])
    assert at_quai.json()["decision"] == "accepted"
    own_scan = Scan.objects.get(visit_id=at_mutualab["visit"]["id"])
    foreign_scan = Scan.objects.get(host=quai)
    own = {
        Space: mutualab,
        Member: alice,
        Plan: resident_plan,
        Membership: alice.memberships.get(),
        Resource: room,
        Training: laser.training,
        TrainingRecord: TrainingRecordFactory(training=laser.training, member=alice),
        Closure: Closure.objects.create(
            space=mutualab,
            resource=room,
            starts_on=dt.date(2026, 12, 24),
            ends_on=dt.date(2026, 12, 26),
        ),
        BookingSeries: BookingSeries.objects.create(
            member=alice, resource=room, until=dt.date(2027, 1, 31)
        ),
        Booking: booking_create(
            member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        ),
        Network: network,
        NetworkSpace: network.members.get(space=mutualab),
        Pass: alice_pass,
        PartnerKey: PartnerKey.objects.get(space=mutualab),
        Scan: own_scan,
        Visit: own_scan.visit,
        AuditEntry: AuditEntry.objects.create(
            actor=camille, action="test", target_type="t", target_id="1", space_id=mutualab.pk
        ),
        SummaryDispatch: SummaryDispatch.objects.create(
            recipient=alice, month=dt.date(2026, 11, 1), status=SummaryDispatch.Status.UNKNOWN
        ),
        SigningKey: signing,
        # Belongs to no space: only superusers see the outbox.
        OutboxMessage: OutboxMessage.objects.create(kind="bookings.confirmed", payload={}),
    }
    foreign = {
        Space: filature,
        Member: charlie,
        Plan: PlanFactory(space=filature, name="Filature résident"),
        Membership: charlie.memberships.get(),
        Resource: filature_room,
        Training: filature_training,
        TrainingRecord: TrainingRecordFactory(training=filature_training, member=charlie),
        Closure: Closure.objects.create(
            space=filature,
            resource=filature_room,
            starts_on=dt.date(2026, 12, 24),
            ends_on=dt.date(2026, 12, 26),
        ),
        BookingSeries: BookingSeries.objects.create(
            member=charlie, resource=filature_room, until=dt.date(2027, 1, 31)
        ),
        Booking: booking_create(
            member=charlie,
            resource=filature_room,
            start=paris(2026, 12, 2, 10),
            end=paris(2026, 12, 2, 11),
        ),
        Network: other_network,
        NetworkSpace: network.members.get(space=filature),
        Pass: charlie_pass,
        PartnerKey: PartnerKey.objects.get(space=filature),
        Scan: foreign_scan,
        Visit: foreign_scan.visit,
        AuditEntry: AuditEntry.objects.create(
            actor=dominique, action="test", target_type="t", target_id="2", space_id=filature.pk
        ),
        SummaryDispatch: SummaryDispatch.objects.create(
            recipient=charlie, month=dt.date(2026, 11, 1), status=SummaryDispatch.Status.UNKNOWN
        ),
        # Nothing of these is any co-manager's: any row is another space's.
        Group: Group.objects.create(name="Équipe"),
    }
    return World(own=own, foreign=foreign)


@dataclasses.dataclass
class World:
    own: dict[type[models.Model], models.Model]
    foreign: dict[type[models.Model], models.Model]

    def foreign_of(self, model: type[models.Model]) -> models.Model | None:
        if model in self.foreign:
            return self.foreign[model]
        if model._meta.label_lower in SUPERUSERS_ONLY:
            return model._default_manager.first()
        return None


def relation_fields(model: type[models.Model]) -> list[models.Field]:
    """Forward relations a form could carry: foreign keys, one-to-ones, many-to-manys."""
    return [
        field
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and not field.auto_created
    ]


def registered() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def url(model: type[models.Model], view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- The walk --------------------------------------------------------------------------------


def rows(model: type[models.Model]) -> list[dict]:
    return list(model._default_manager.order_by("pk").values())


def references(model: type[models.Model], field: models.Field, foreign: models.Model) -> set:
    return set(
        model._default_manager.filter(**{field.name: foreign.pk}).values_list("pk", flat=True)
    )


def refused_as_a_whole(response) -> bool:
    """403, or the admin's "no such object" (a redirect to its index) or its login page."""
    if response.status_code in (403, 404):
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and (
        location == "/admin/" or location.startswith("/admin/login/")
    )


@dataclasses.dataclass
class Walk:
    client: object
    world: World
    problems: list[str] = dataclasses.field(default_factory=list)
    posts: int = 0

    def refuse(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def post(self, path: str, data: dict[str, list[str]]):
        self.posts += 1
        return self.client.post(path, data)

    def page(
        self,
        model: type[models.Model],
        path: str,
        obj: models.Model | None,
        seed: dict[str, list[str]] | None = None,
    ) -> dict[str, list[str]]:
        """Post the page with each relation field set to another space's object, in turn;
        `seed` fills the page's fields where it has values (an add page from a change page)."""
        shown = self.client.get(path)
        if shown.status_code == 500:
            self.refuse(path, "server error")
        baseline = posted_form(shown, model) if shown.status_code == 200 else {}
        # Inline rows ("prefix-0-field") are not seeded: an add page starts without any.
        seeded = {key: value for key, value in (seed or {}).items() if "-" not in key}
        baseline = {key: seeded.get(key, value) for key, value in baseline.items()}
        form_fields = (
            set(shown.context["adminform"].form.fields) if shown.status_code == 200 else set()
        )
        if obj is not None and form_fields:
            # The page as it is saves: a refusal below is the relation's, not another field's.
            saved = self.post(path, baseline)
            if saved.status_code != 302:
                self.refuse(path, f"the unchanged page does not save ({errors_of(saved)})")
        for field in relation_fields(model):
            foreign = self.world.foreign_of(field.related_model)
            if foreign is None:
                self.refuse(path, f"no foreign {field.related_model.__name__} to post")
                continue
            rows_before, refs_before = rows(model), references(model, field, foreign)
            response = self.post(path, {**baseline, field.name: [str(foreign.pk)]})
            where = f"{path} {field.name}={foreign.pk}"
            in_form = field.name in form_fields
            if response.status_code == 500:
                self.refuse(where, "server error")
            elif refused_as_a_whole(response):
                pass
            elif in_form and response.status_code != 200:
                self.refuse(where, f"accepted (status {response.status_code})")
            elif in_form:
                codes = field_error_codes(response.context["adminform"].form, field.name)
                if "invalid_choice" not in codes:
                    self.refuse(where, f"accepted (error codes {codes})")
            if in_form and rows(model) != rows_before:
                self.refuse(where, "a row was written")
            if references(model, field, foreign) != refs_before:
                self.refuse(where, "a row now points at the other space's object")
        if shown.status_code == 200:
            for inline in shown.context["inline_admin_formsets"]:
                self.inline(path, baseline, inline.formset)
        return baseline

    def inline(self, path: str, baseline: dict[str, list[str]], formset) -> None:
        """The same for an inline, on a new row and on the first existing one."""
        prefix, model = formset.prefix, formset.model
        form_fields = set(formset.empty_form.fields)
        new = int(baseline[f"{prefix}-TOTAL_FORMS"][0])
        new_row = {
            key.replace("__prefix__", str(new)): value
            for key, value in baseline.items()
            if key.startswith(f"{prefix}-__prefix__-")
        }
        for field in relation_fields(model):
            if field == formset.fk:
                continue
            foreign = self.world.foreign_of(field.related_model)
            if foreign is None:
                self.refuse(path, f"no foreign {field.related_model.__name__} to post")
                continue
            for index in [new] + ([0] if new else []):
                rows_before, refs_before = rows(model), references(model, field, foreign)
                data = {**baseline, **new_row, f"{prefix}-TOTAL_FORMS": [str(new + 1)]}
                data[f"{prefix}-{index}-{field.name}"] = [str(foreign.pk)]
                response = self.post(path, data)
                where = f"{path} {prefix}-{index}-{field.name}={foreign.pk}"
                in_form = field.name in form_fields
                if response.status_code == 500:
                    self.refuse(where, "server error")
                elif refused_as_a_whole(response):
                    pass
                elif in_form and response.status_code != 200:
                    self.refuse(where, f"accepted (status {response.status_code})")
                elif in_form:
                    row_form = inline_form_at(response, prefix, index)
                    codes = field_error_codes(row_form, field.name)
                    if "invalid_choice" not in codes:
                        self.refuse(where, f"accepted (error codes {codes})")
                if in_form and rows(model) != rows_before:
                    self.refuse(where, "a row was written")
                if references(model, field, foreign) != refs_before:
                    self.refuse(where, "a row now points at the other space's object")


def field_error_codes(form, name: str) -> list[str]:
    return [error.code for error in form.errors.as_data().get(name, [])]


def inline_form_at(response, prefix: str, index: int):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return inline.formset.forms[index]
    raise AssertionError(f"no inline {prefix} in the answer")


def errors_of(response) -> str:
    if response.status_code != 200 or not response.context:
        return f"status {response.status_code}"
    errors = [response.context["adminform"].form.errors]
    errors += [inline.formset.errors for inline in response.context["inline_admin_formsets"]]
    return repr(errors)


# --- Tests -----------------------------------------------------------------------------------


def test_every_admin_form_refuses_another_spaces_objects(client, camille, world):
    client.force_login(camille)
    walk = Walk(client, world)

    for model, _model_admin in registered():
        obj = world.own.get(model) or model._default_manager.first()
        seed = walk.page(model, url(model, "change", obj.pk), obj) if obj is not None else {}
        walk.page(model, url(model, "add"), None, seed)

    assert walk.problems == []
    assert walk.posts > 100  # the walk reached the forms, not only their doors


def test_every_admin_inline_and_relation_is_covered(world):
    uncovered = []
    for model, model_admin in registered():
        if not isinstance(model_admin, ManagedAdminMixin):
            uncovered.append(f"{type(model_admin).__name__} lacks ManagedAdminMixin")
        models_in_forms = [model]
        for inline in model_admin.inlines:
            if not issubclass(inline, ManagedInlineMixin):
                uncovered.append(f"{inline.__name__} lacks ManagedInlineMixin")
            models_in_forms.append(inline.model)
        if model not in world.own and model._meta.label_lower not in SUPERUSERS_ONLY:
            uncovered.append(f"the walk has no {model.__name__} of Mutualab's")
        for form_model in models_in_forms:
            for target in [form_model] + [f.related_model for f in relation_fields(form_model)]:
                if target not in SCOPES and target._meta.label_lower not in SUPERUSERS_ONLY:
                    uncovered.append(f"{target.__name__} is in no scope")
                if target is not form_model and world.foreign_of(target) is None:
                    uncovered.append(f"the walk has no {target.__name__} of another space")

    assert uncovered == []


def test_a_model_without_a_scope_gives_a_co_manager_nothing(rf, camille, world):
    from spaces.admin_scoping import admin_scope

    request = rf.get("/admin/")
    request.user = camille

    assert list(admin_scope(Group.objects.all(), request)) == []
    assert list(admin_scope(SigningKey.objects.all(), request)) == []
    assert set(admin_scope(Member.objects.all(), request)) == {
        world.own[Member],
        camille,
        Member.objects.get(first_name="Bob"),
    }


def test_the_autocomplete_of_every_admin_offers_only_her_members_and_objects(
    client, camille, world
):
    client.force_login(camille)
    asked = 0

    for model, model_admin in registered():
        for field_name in model_admin.autocomplete_fields:
            field = model._meta.get_field(field_name)
            response = client.get(
                "/admin/autocomplete/",
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            asked += 1
            assert response.status_code == 200, (model, field_name)
            offered = {result["id"] for result in response.json()["results"]}
            assert str(world.foreign_of(field.related_model).pk) not in offered
            if field.related_model is Member:
                bob = Member.objects.get(first_name="Bob")
                assert offered == {str(world.own[Member].pk), str(camille.pk), str(bob.pk)}

    assert asked >= 4


def test_the_autocomplete_does_not_find_another_spaces_member_by_name(client, camille, charlie):
    client.force_login(camille)

    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "spaces",
            "model_name": "membership",
            "field_name": "member",
            "term": "Charlie",
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_superuser_still_picks_anyone(client, world, mutualab):
    root = Member.objects.create_superuser("root@chtipass.example", "x", first_name="Root")
    client.force_login(root)
    charlie = world.foreign[Member]

    response = client.post(
        "/admin/spaces/trainingrecord/add/",
        {"training": world.own[Training].pk, "member": charlie.pk, "granted_on": "01/12/2026"},
    )

    assert response.status_code == 302
    assert TrainingRecord.objects.filter(member=charlie, training=world.own[Training]).exists()


@pytest.mark.parametrize("space_of", ["mutualab", "other"])
def test_a_plan_must_be_of_the_membership_space(client, camille, mutualab, alice, space_of):
    # Camille co-manages a second space, so both plans are hers to pick: they must still match.
    other = SpaceFactory(slug="annexe", name="Annexe")
    Membership.objects.create(
        member=camille, space=other, role=Membership.Role.CO_MANAGER, starts_on=dt.date(2025, 1, 1)
    )
    plan = PlanFactory(space=mutualab if space_of == "mutualab" else other, name="Nomade")
    client.force_login(camille)

    response = client.post(
        "/admin/spaces/membership/add/",
        {
            "member": alice.pk,
            "space": other.pk,
            "plan": plan.pk,
            "role": "member",
            "status": "active",
            "starts_on": "01/12/2026",
        },
    )

    if space_of == "other":
        assert response.status_code == 302
        assert Membership.objects.filter(member=alice, space=other, plan=plan).exists()
    else:
        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors().as_data()
        assert [error.code for error in errors] == ["plan_of_another_space"]
        assert not Membership.objects.filter(member=alice, space=other).exists()


def test_a_closure_must_be_of_its_resources_space(client, camille, mutualab, room):
    other = SpaceFactory(slug="annexe", name="Annexe")
    Membership.objects.create(
        member=camille, space=other, role=Membership.Role.CO_MANAGER, starts_on=dt.date(2025, 1, 1)
    )
    client.force_login(camille)

    response = client.post(
        "/admin/spaces/closure/add/",
        {
            "space": other.pk,
            "resource": room.pk,
            "starts_on": "24/12/2026",
            "ends_on": "26/12/2026",
            "reason": "Noël",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["resource_of_another_space"]
    assert not Closure.objects.exists()


def test_a_resource_closure_inline_takes_the_resources_space(client, camille, mutualab, room):
    client.force_login(camille)
    page = client.get(f"/admin/spaces/resource/{room.pk}/change/")
    data = posted_form(page, Resource)
    data.update(
        {
            "closures-TOTAL_FORMS": ["1"],
            "closures-0-starts_on": ["24/12/2026"],
            "closures-0-ends_on": ["26/12/2026"],
            "closures-0-reason": ["Noël"],
        }
    )

    response = client.post(f"/admin/spaces/resource/{room.pk}/change/", data)

    assert response.status_code == 302
    assert Closure.objects.get().space == mutualab


@pytest.mark.parametrize(
    ("field", "code"),
    [("training", "training_of_another_space"), ("assigned_to", "assignee_not_a_member")],
)
def test_a_resource_takes_a_training_and_an_assignee_of_its_own_space(
    client, camille, alice, mutualab, field, code
):
    other = SpaceFactory(slug="annexe", name="Annexe")
    Membership.objects.create(
        member=camille, space=other, role=Membership.Role.CO_MANAGER, starts_on=dt.date(2025, 1, 1)
    )
    elsewhere = {
        "training": lambda: TrainingFactory(space=other).pk,
        # Alice is hers to pick (a member of Mutualab), but not a member of the Annexe.
        "assigned_to": lambda: alice.pk,
    }[field]()
    client.force_login(camille)

    response = client.post(
        "/admin/spaces/resource/add/",
        {
            "space": other.pk if field == "assigned_to" else mutualab.pk,
            "name": "Poste 42",
            "kind": "desk",
            "desk_type": "fixed",
            "capacity": "1",
            "members_only": "on",
            "is_active": "on",
            field: elsewhere,
            "closures-TOTAL_FORMS": "0",
            "closures-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == [code]
    assert not Resource.objects.filter(name="Poste 42").exists()
