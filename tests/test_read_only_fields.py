"""What a client cannot set: who owns a thing, its state, and what the server decided (SPEC §5).

Clients write through small request serializers that name what they may send; the model
serializers only describe what comes back. Anything else in a request body is ignored.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

import api
from passes.models import PartnerKey, Pass, Scan, Visit
from spaces.models import Booking, BookingSeries

from .conftest import NOW, partner_client, rotating_credential
from .test_authorization_matrix import (
    MATRIX,
    PERSONAS,
    Row,
    api_patterns,
    api_routes,
    error_shape_problem,
    request,
    world_for_a_module,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world of the authorization matrix, for the method sweep below."""
    with world_for_a_module(django_db_blocker) as built:
        yield built


ALL_FIELDS = re.compile(r"""fields\s*=\s*["']__all__["']""")
BOOKINGS = "/api/v1/bookings/"
RECURRING = "/api/v1/bookings/recurring/"
SLOT = {"start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:00:00+01:00"}

# Whose it is, what state it is in, what the server decided: never from the client.
PROTECTED = {
    "id",
    "member",
    "space",
    "home",
    "host",
    "network",
    "pass",
    "pass_obj",
    "status",
    "state",
    "role",
    "used",
    "uses_allowance",
    "allowance",
    "decision",
    "visit",
    "already_checked_in",
    "flagged",
    "flag_reason",
    "offline",
    "series",
    "created_by",
    "cancelled_by",
    "created_at",
    "cancelled_at",
    "issued_at",
    "received_at",
    "status_changed_at",
    "revoked",
    "prefix",
    "key",
    "last_used_at",
    "expiry_date",
}
# The one exception, on purpose (both ways of booking): a co-manager books for a member of her
# space; the service answers 403 `forbidden` to anyone else who names a member.
WRITABLE_ON_PURPOSE = {("POST /bookings/", "member"), ("POST /bookings/recurring/", "member")}


def api_serializer_classes() -> set[type[serializers.BaseSerializer]]:
    """Every serializer defined in api/ or named by one of its views."""
    found: set[type[serializers.BaseSerializer]] = set()
    for module_info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"api.{module_info.name}")
        found.update(
            cls
            for _name, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == module.__name__
        )
    for _route, pattern in api_patterns():
        view_class = getattr(pattern.callback, "cls", None)
        if serializer_class := getattr(view_class, "serializer_class", None):
            found.add(serializer_class)
    return found


# --- The serializers, read as code ---------------------------------------------------------------


def test_no_serializer_takes_all_the_fields_of_a_model():
    model_serializers = [
        cls for cls in api_serializer_classes() if issubclass(cls, serializers.ModelSerializer)
    ]

    assert len(model_serializers) >= 10  # the introspection found them
    for cls in model_serializers:
        assert isinstance(cls.Meta.fields, list | tuple), f"{cls.__name__}: list its fields"
        assert not hasattr(cls.Meta, "exclude"), f"{cls.__name__}: list its fields"
    for source in Path(api.__file__).parent.glob("*.py"):
        assert not ALL_FIELDS.search(source.read_text()), source.name


def test_model_serializers_only_describe_what_comes_back():
    for cls in api_serializer_classes():
        if issubclass(cls, serializers.ModelSerializer):
            writable = [name for name, field in cls().fields.items() if not field.read_only]
            assert writable == [], f"{cls.__name__} would let a client write {writable}"


def request_bodies() -> dict[str, set[str]]:
    """Each operation of the OpenAPI schema ("POST /bookings/") → every property its request
    body offers, nested ones too."""
    schema = SchemaGenerator(urlconf="api.urls").get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def properties(schema: dict) -> set[str]:
        if ref := schema.get("$ref"):
            return properties(components[ref.rpartition("/")[2]])
        if "items" in schema:
            return properties(schema["items"])
        found = set(schema.get("properties", {}))
        for prop in schema.get("properties", {}).values():
            found |= properties(prop)
        return found

    return {
        f"{method.upper()} {path}": properties(content["schema"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    }


def test_no_request_body_offers_whose_it_is_or_what_the_server_decided():
    bodies = request_bodies()

    assert {"POST /bookings/", "POST /scans/", "POST /scans/batch/"} <= set(bodies)
    offered = {(operation, prop) for operation, props in bodies.items() for prop in props}
    assert {(operation, prop) for operation, prop in offered if prop in PROTECTED} == (
        WRITABLE_ON_PURPOSE
    )


# --- The same, over HTTP ------------------------------------------------------------------------


def test_a_new_booking_is_confirmed_and_alone_whatever_the_client_says(api, alice, bob, room):
    others_series = BookingSeries.objects.create(
        member=bob, resource=room, until=dt.date(2026, 12, 30)
    )

    response = api.as_(alice).post(
        BOOKINGS,
        {
            "resource": room.pk,
            **SLOT,
            "id": 4242,
            "status": "cancelled",
            "series": others_series.pk,
            "space": "filature-roubaix",
            "created_by": bob.pk,
            "created_at": "2020-01-01T00:00:00Z",
            "cancelled_at": NOW.isoformat(),
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["series"], body["space"], body["member"]) == (
        "confirmed",
        None,
        "mutualab",
        alice.pk,
    )
    booking = Booking.objects.get(pk=body["id"])
    assert booking.pk != 4242
    assert booking.created_by == alice
    assert booking.cancelled_at is None
    assert booking.created_at == NOW
    assert not others_series.bookings.exists()


@pytest.mark.parametrize("url", [BOOKINGS, RECURRING])
def test_a_member_naming_another_member_gets_403_forbidden(api, alice, bob, room, url):
    response = api.as_(alice).post(
        url, {"resource": room.pk, **SLOT, "until": "2026-12-16", "member": bob.pk}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Booking.objects.exists()
    assert not BookingSeries.objects.exists()


def test_a_scanner_cannot_choose_the_host_the_decision_or_the_visit(
    alice, bob, alice_pass, bob_pass, filature_key, quai_key
):
    bob_at_quai = partner_client(quai_key).scan(rotating_credential(bob_pass)).json()["visit"]

    response = partner_client(filature_key).scan(
        rotating_credential(alice_pass),
        host="quai-tourcoing",
        decision="refused",
        reason="revoked",
        visit={"id": bob_at_quai["id"], "date": "2026-12-01", "host": "quai-tourcoing"},
        already_checked_in=True,
        pass_obj=bob_pass.pk,
        member=bob.pk,
        offline=True,
        flagged=True,
        device_decision="refused",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["decision"], body["reason"], body["already_checked_in"]) == (
        "accepted",
        None,
        False,
    )
    assert (body["offline"], body["flagged"]) == (False, False)
    assert body["visit"]["host"] == "filature-roubaix"
    assert body["visit"]["id"] != bob_at_quai["id"]
    visit = Visit.objects.get(pk=body["visit"]["id"])
    assert (visit.member, visit.host.slug, visit.flagged) == (alice, "filature-roubaix", False)
    scan = Scan.objects.get(visit=visit)
    assert (scan.host.slug, scan.pass_obj, scan.offline) == ("filature-roubaix", alice_pass, False)


def test_an_offline_upload_cannot_choose_its_host_or_decision(alice_pass, filature_key):
    item = {
        "credential": rotating_credential(alice_pass),
        "scanned_at": NOW.isoformat(),
        "nonce": "n-1",
        "host": "mutualab",
        "decision": "refused",
        "visit": None,
    }

    response = partner_client(filature_key).post(
        "/api/v1/scans/batch/", {"scans": [item]}, format="json"
    )

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["decision"], result["visit"]["host"]) == ("accepted", "filature-roubaix")
    assert Scan.objects.get().host.slug == "filature-roubaix"


def test_a_new_partner_key_is_named_and_nothing_else(api, camille, mutualab, filature):
    response = api.as_(camille).post(
        "/api/v1/spaces/mutualab/partner-keys/",
        {
            "name": "Accueil",
            "space": filature.pk,
            "id": "chosen",
            "prefix": "chosen",
            "key": "chosen.secret",
            "revoked": True,
            "expiry_date": "2020-01-01T00:00:00Z",
            "last_used_at": NOW.isoformat(),
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert "chosen" not in (body["id"], body["prefix"], body["key"])
    partner_key = PartnerKey.objects.get(prefix=body["prefix"])
    assert (partner_key.space, partner_key.created_by, partner_key.revoked) == (
        mutualab,
        camille,
        False,
    )
    assert partner_key.expiry_date is None and partner_key.last_used_at is None


def test_a_pass_action_changes_the_state_it_names_and_nothing_else(
    api, camille, alice, bob, alice_pass
):
    issued_at = alice_pass.issued_at

    response = api.as_(camille).post(
        f"/api/v1/spaces/mutualab/passes/{alice_pass.pk}/suspend/",
        {
            "reason": "Carte perdue",
            "status": "revoked",
            "member": bob.pk,
            "issued_at": "2020-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 200
    alice_pass.refresh_from_db()
    assert (alice_pass.status, alice_pass.member, alice_pass.issued_at) == (
        Pass.Status.SUSPENDED,
        alice,
        issued_at,
    )


# --- Methods the contract does not offer --------------------------------------------------------


def test_methods_the_contract_does_not_offer_answer_405(world):
    """No PUT or PATCH anywhere, and no method but the ones the URLconf wires."""
    wired = api_routes()
    assert {route for route, method in wired if method in {"PUT", "PATCH"}} == {"login"}
    problems, tried = [], set()
    for row in MATRIX:
        if row.html or row.route in tried:
            continue
        # Someone the view lets in (a 400 is a request that reached it).
        allowed = [
            persona
            for persona, status in zip(PERSONAS, row.expected, strict=True)
            if status not in {401, 403, 404}
        ]
        if not allowed:
            continue
        tried.add(row.route)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if (row.route, method) in wired:
                continue
            attempt = Row(method, row.path, row.expected, body={"status": "cancelled"})
            response = request(world.clients[allowed[0]], attempt, world)
            if response.status_code != 405:
                problems.append(f"{method} {row.path}: {response.status_code}")
            elif (problem := error_shape_problem(attempt, response)) is not None:
                problems.append(f"{method} {row.path}: {problem}")

    assert {route for route, _method in wired} <= tried | {"login", "logout", "docs"}
    assert not problems, "\n".join(problems)
