"""Who may call what (SPEC §5): every method of every /api/v1/ route, for every persona.

One table below, read as a row per request and a column per caller. Mutualab objects belong to
Alice, La Filature objects to Charlie. An object of another member or of another space answers
404, never 403: its existence is nobody else's business. A partner key is a scanner: it reaches
the scanning endpoints of its own space only and gets 403 elsewhere; a revoked key gets 401.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
import yaml
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from passes.keys import signing_key_create
from passes.models import Network, NetworkSpace, PartnerKey
from passes.partner_keys import partner_key_revoke
from passes.scanning import ScanRequest, scan_record
from passes.services import pass_suspend
from spaces.models import Membership
from spaces.services import booking_create, booking_series_create

from .conftest import (
    NOW,
    _member,
    issue_pass,
    make_partner_key,
    paris,
    partner_client,
    rotating_credential,
)
from .factories import PASSWORD, PlanFactory, ResourceFactory, SpaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

PERSONAS = (
    "anonymous",
    "alice",  # member of Mutualab
    "bob",  # another member of Mutualab
    "charlie",  # member of La Filature
    "camille",  # co-manager of Mutualab
    "dominique",  # co-manager of La Filature
    "mutualab_key",
    "filature_key",
    "revoked_key",  # was Mutualab's
)

# The statuses an error body's `code` may carry when the status alone says what happened.
GENERIC_CODES = {
    401: {"not_authenticated", "authentication_failed"},
    403: {"permission_denied"},
    404: {"not_found"},
    405: {"method_not_allowed"},
}


class AnyId(dict):
    """Placeholders filled with a dummy id: enough to resolve a path to its route."""

    def __missing__(self, key: str) -> str:
        return "1"


@dataclasses.dataclass(frozen=True)
class Row:
    """One request and the status each persona gets for it, in the order of PERSONAS."""

    method: str
    path: str  # `{placeholders}` name objects of the world below
    expected: tuple[int, ...]
    body: dict[str, Any] | None = None
    codes: dict[int, str] = dataclasses.field(default_factory=dict)  # error codes beyond the usual
    html: bool = False  # a page for browsers: its errors are not in the JSON shape

    @property
    def id(self) -> str:
        resource = (self.body or {}).get("resource", "").strip("{}").replace("_", " ")
        return f"{self.method} {self.path}" + (f" ({resource})" if resource else "")

    @property
    def route(self) -> str:
        return resolve(self.path.format_map(AnyId()).partition("?")[0]).url_name


def row(method: str, path: str, statuses: str, **options: Any) -> Row:
    expected = tuple(int(status) for status in statuses.split())
    assert len(expected) == len(PERSONAS), f"{method} {path}: one status per persona"
    return Row(method, f"/api/v1/{path}", expected, **options)


MONTH = "?month=2026-11"
TOMORROW_ROOM = {"start": "2026-12-03T10:00:00+01:00", "end": "2026-12-03T11:00:00+01:00"}
WEEKLY_ROOM = {**TOMORROW_ROOM, "until": "2026-12-17"}
SCAN = {"credential": "{alice_credential}"}
BATCH = {
    "scans": [
        {"credential": "{alice_credential}", "scanned_at": NOW.isoformat(), "nonce": "matrix-1"}
    ]
}
REASON = {"reason": "Vérification"}
MEMBERS_ONLY = {400: "members_only"}

# fmt: off
MATRIX: tuple[Row, ...] = (
    # Columns, as PERSONAS: anonymous, alice, bob, charlie, camille, dominique, mutualab_key,
    # filature_key, revoked_key.
    # method, path                                       "ano ali bob cha cam dom muk fik rek"
    # --- Logging in ----------------------------------------------------------------------------
    row("POST", "auth/token/",                          "200 200 200 200 200 200 200 200 200",
        body={"email": "alice@mutualab.example", "password": PASSWORD}),
    # The browsable API's session login (Django's own views: credentials in headers are ignored).
    row("GET", "auth/login/",                           "200 200 200 200 200 200 200 200 200",
        html=True),
    row("POST", "auth/login/",                          "200 200 200 200 200 200 200 200 200",
        html=True, body={"username": "alice@mutualab.example", "password": "wrong"}),
    row("PUT", "auth/login/",                           "200 200 200 200 200 200 200 200 200",
        html=True, body={"username": "alice@mutualab.example", "password": "wrong"}),
    # Ends the caller's token or session; a scanner key is not a login.
    row("POST", "auth/logout/",                         "401 204 204 204 204 204 403 403 401"),
    # --- Public documents ----------------------------------------------------------------------
    row("GET", "",                                      "401 200 200 200 200 200 403 403 401"),
    row("GET", "schema/",                               "200 200 200 200 200 200 200 200 401"),
    row("GET", "docs/",                                 "200 200 200 200 200 200 200 200 401",
        html=True),
    # --- The member herself --------------------------------------------------------------------
    row("GET", "me/",                                   "401 200 200 200 200 200 403 403 401"),
    row("GET", "me/export/",                            "401 200 200 200 200 200 403 403 401"),
    # A wrong password: the request reaches the check, and nobody is erased by the matrix.
    row("POST", "me/erase/",                            "401 400 400 400 400 400 403 403 401",
        body={"password": "wrong"}, codes={400: "invalid_password"}),
    # Camille and Dominique hold no pass.
    row("GET", "me/pass/",                              "401 200 200 200 404 404 403 403 401"),
    row("GET", "me/pass/qr.svg",                        "401 200 200 200 404 404 403 403 401"),
    row("GET", "me/pass/qr.png",                        "401 200 200 200 404 404 403 403 401"),
    row("GET", "me/pass/card.svg",                      "401 200 200 200 404 404 403 403 401"),
    # --- Spaces: public, and their resources for members ----------------------------------------
    row("GET", "spaces/",                               "200 200 200 200 200 200 200 200 401"),
    row("GET", "spaces/mutualab/",                      "200 200 200 200 200 200 200 200 401"),
    row("GET", "spaces/filature-roubaix/",              "200 200 200 200 200 200 200 200 401"),
    row("GET", "spaces/nowhere/",                       "404 404 404 404 404 404 404 404 401"),
    row("GET", "spaces/mutualab/resources/",            "401 200 200 200 200 200 403 403 401"),
    row("GET", "spaces/filature-roubaix/resources/",    "401 200 200 200 200 200 403 403 401"),
    row("GET", "spaces/mutualab/availability/?date=2026-12-02",
                                                        "401 200 200 200 200 200 403 403 401"),
    row("GET", "spaces/filature-roubaix/availability/?date=2026-12-02",
                                                        "401 200 200 200 200 200 403 403 401"),
    # --- Bookings ------------------------------------------------------------------------------
    row("GET", "bookings/",                             "401 200 200 200 200 200 403 403 401"),
    # Booking a room of a space one is not a member of is a rule (400 members_only), not a right.
    row("POST", "bookings/",                            "401 201 201 400 201 400 403 403 401",
        body={"resource": "{mutualab_room}", **TOMORROW_ROOM}, codes=MEMBERS_ONLY),
    row("POST", "bookings/",                            "401 400 400 201 400 201 403 403 401",
        body={"resource": "{filature_room}", **TOMORROW_ROOM}, codes=MEMBERS_ONLY),
    row("POST", "bookings/recurring/",                  "401 201 201 400 201 400 403 403 401",
        body={"resource": "{mutualab_room}", **WEEKLY_ROOM}, codes=MEMBERS_ONLY),
    row("POST", "bookings/recurring/",                  "401 400 400 201 400 201 403 403 401",
        body={"resource": "{filature_room}", **WEEKLY_ROOM}, codes=MEMBERS_ONLY),
    row("GET", "bookings/{alice_booking}/",             "401 200 404 404 200 404 403 403 401"),
    row("DELETE", "bookings/{alice_booking}/",          "401 204 404 404 204 404 403 403 401"),
    row("GET", "bookings/{charlie_booking}/",           "401 404 404 200 404 200 403 403 401"),
    row("DELETE", "bookings/{charlie_booking}/",        "401 404 404 204 404 204 403 403 401"),
    # An id that does not exist answers like one that is not yours.
    row("GET", "bookings/999999/",                      "401 404 404 404 404 404 403 403 401"),
    row("GET", "bookings/not-an-id/",                   "401 404 404 404 404 404 403 403 401"),
    row("GET", "booking-series/{alice_series}/",        "401 200 404 404 200 404 403 403 401"),
    row("POST", "booking-series/{alice_series}/cancel/",
                                                        "401 200 404 404 200 404 403 403 401"),
    row("GET", "booking-series/{charlie_series}/",      "401 404 404 200 404 200 403 403 401"),
    row("POST", "booking-series/{charlie_series}/cancel/",
                                                        "401 404 404 200 404 200 403 403 401"),
    # --- Scanning: partner keys, each for its own space -----------------------------------------
    row("GET", "scans/",                                "401 403 403 403 403 403 200 200 401"),
    row("POST", "scans/",                               "401 403 403 403 403 403 200 200 401",
        body=SCAN),
    row("POST", "scans/batch/",                         "401 403 403 403 403 403 200 200 401",
        body=BATCH),
    # Offline scanners and the co-managers who set them up.
    row("GET", "network/keys/",                         "401 403 403 403 200 200 200 200 401"),
    row("GET", "network/revocations/?since=0",          "401 403 403 403 200 200 200 200 401"),
    # --- Co-managers: their own space only ------------------------------------------------------
    row("GET", "spaces/mutualab/partner-keys/",         "401 404 404 404 200 404 403 403 401"),
    row("POST", "spaces/mutualab/partner-keys/",        "401 404 404 404 201 404 403 403 401",
        body={"name": "Tablette"}),
    row("DELETE", "spaces/mutualab/partner-keys/{mutualab_key}/",
                                                        "401 404 404 404 204 404 403 403 401"),
    row("GET", "spaces/filature-roubaix/partner-keys/", "401 404 404 404 404 200 403 403 401"),
    row("POST", "spaces/filature-roubaix/partner-keys/",
                                                        "401 404 404 404 404 201 403 403 401",
        body={"name": "Tablette"}),
    row("DELETE", "spaces/filature-roubaix/partner-keys/{filature_key}/",
                                                        "401 404 404 404 404 204 403 403 401"),
    # Another space's key named under one's own space is not found there either.
    row("DELETE", "spaces/mutualab/partner-keys/{filature_key}/",
                                                        "401 404 404 404 404 404 403 403 401"),
    row("DELETE", "spaces/mutualab/partner-keys/nosuchkey/",
                                                        "401 404 404 404 404 404 403 403 401"),
    row("GET", "spaces/mutualab/passes/",               "401 404 404 404 200 404 403 403 401"),
    row("GET", "spaces/mutualab/passes/{alice_pass}/",  "401 404 404 404 200 404 403 403 401"),
    row("POST", "spaces/mutualab/passes/{alice_pass}/suspend/",
                                                        "401 404 404 404 200 404 403 403 401",
        body=REASON),
    row("POST", "spaces/mutualab/passes/{alice_pass}/revoke/",
                                                        "401 404 404 404 200 404 403 403 401",
        body=REASON),
    row("POST", "spaces/mutualab/passes/{gaspard_pass}/reinstate/",
                                                        "401 404 404 404 200 404 403 403 401",
        body=REASON),
    row("GET", "spaces/filature-roubaix/passes/",       "401 404 404 404 404 200 403 403 401"),
    row("GET", "spaces/filature-roubaix/passes/{charlie_pass}/",
                                                        "401 404 404 404 404 200 403 403 401"),
    row("POST", "spaces/filature-roubaix/passes/{charlie_pass}/suspend/",
                                                        "401 404 404 404 404 200 403 403 401",
        body=REASON),
    row("POST", "spaces/filature-roubaix/passes/{charlie_pass}/revoke/",
                                                        "401 404 404 404 404 200 403 403 401",
        body=REASON),
    row("POST", "spaces/filature-roubaix/passes/{fanny_pass}/reinstate/",
                                                        "401 404 404 404 404 200 403 403 401",
        body=REASON),
    # Another space's pass named under one's own space is not found there either.
    row("GET", "spaces/mutualab/passes/{charlie_pass}/",
                                                        "401 404 404 404 404 404 403 403 401"),
    row("POST", "spaces/mutualab/passes/{charlie_pass}/suspend/",
                                                        "401 404 404 404 404 404 403 403 401",
        body=REASON),
    row("GET", "spaces/mutualab/passes/999999/",        "401 404 404 404 404 404 403 403 401"),
    row("GET", "spaces/nowhere/passes/",                "401 404 404 404 404 404 403 403 401"),
    row("GET", "spaces/mutualab/scans/",                "401 404 404 404 200 404 403 403 401"),
    row("GET", "spaces/filature-roubaix/scans/",        "401 404 404 404 404 200 403 403 401"),
    row("GET", "spaces/mutualab/visits/",               "401 404 404 404 200 404 403 403 401"),
    row("GET", "spaces/filature-roubaix/visits/",       "401 404 404 404 404 200 403 403 401"),
    # The figures are for co-managers: a scanner's key is known, and refused (403, as elsewhere).
    row("GET", f"spaces/mutualab/usage/{MONTH}",        "401 404 404 404 200 404 403 403 401"),
    row("GET", f"spaces/filature-roubaix/usage/{MONTH}",
                                                        "401 404 404 404 404 200 403 403 401"),
    row("GET", f"spaces/nowhere/usage/{MONTH}",         "401 404 404 404 404 404 403 403 401"),
    row("GET", f"network/settlement/{MONTH}",           "401 403 403 403 200 200 403 403 401"),
)
# fmt: on


@dataclasses.dataclass
class World:
    clients: dict[str, APIClient]
    placeholders: dict[str, str]

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**self.placeholders)
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


def _build_world() -> World:
    """The personas of conftest and one object of each kind for Mutualab and La Filature."""
    mutualab = SpaceFactory(slug="mutualab", name="Mutualab")
    filature = SpaceFactory(slug="filature-roubaix", name="La Filature")
    quai = SpaceFactory(slug="quai-tourcoing", name="Le Quai")
    network = Network.objects.create(
        slug="chtipass", name="ch'tipass Métropole", monthly_visits=8, monthly_visits_per_host=4
    )
    for space in (mutualab, filature, quai):
        NetworkSpace.objects.create(network=network, space=space, daily_visitor_capacity=10)
    signing_key_create(not_before=NOW - dt.timedelta(days=30))

    resident = PlanFactory(space=mutualab, name="Résident")
    nomade = PlanFactory(space=mutualab, name="Nomade", desk_days_per_month=10)
    alice = _member("Alice", "alice@mutualab.example", mutualab, plan=resident)
    bob = _member("Bob", "bob@mutualab.example", mutualab, plan=nomade)
    charlie = _member("Charlie", "charlie@filature.example", filature)
    co_manager = Membership.Role.CO_MANAGER
    camille = _member("Camille", "camille@mutualab.example", mutualab, role=co_manager)
    dominique = _member(
        "Dominique", "comanager@filature-roubaix.example", filature, role=co_manager
    )
    # Two more members whose passes are suspended, for the reinstate rows.
    gaspard = _member("Gaspard", "gaspard@mutualab.example", mutualab)
    fanny = _member("Fanny", "fanny@filature.example", filature)

    alice_pass, bob_pass, charlie_pass, gaspard_pass, fanny_pass = (
        issue_pass(member, network) for member in (alice, bob, charlie, gaspard, fanny)
    )
    pass_suspend(pass_obj=gaspard_pass, actor=camille, reason="Carte perdue")
    pass_suspend(pass_obj=fanny_pass, actor=dominique, reason="Carte perdue")

    mutualab_room = ResourceFactory(space=mutualab, name="Salle Jean Bart")
    filature_room = ResourceFactory(space=filature, name="Salle Roubaix")
    alice_booking, charlie_booking = (
        booking_create(
            member=member, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        )
        for member, room in ((alice, mutualab_room), (charlie, filature_room))
    )
    alice_series, charlie_series = (
        booking_series_create(
            member=member,
            resource=room,
            start=paris(2026, 12, 4, 14),
            end=paris(2026, 12, 4, 15),
            until=dt.date(2026, 12, 18),
        )
        for member, room in ((alice, mutualab_room), (charlie, filature_room))
    )

    keys = {"mutualab_key": make_partner_key(mutualab), "filature_key": make_partner_key(filature)}
    revoked_key = make_partner_key(mutualab, name="Vieille tablette")
    partner_key_revoke(partner_key=PartnerKey.objects.get_from_key(revoked_key), actor=camille)
    # Something in the scan and visit lists: Charlie works a day at Mutualab and (with the next
    # code: one code is good at one host only) one at Le Quai, Bob one at La Filature.
    later = NOW + dt.timedelta(seconds=30)
    for key, credential in (
        (keys["mutualab_key"], rotating_credential(charlie_pass)),
        (make_partner_key(quai), rotating_credential(charlie_pass, at=later)),
        (keys["filature_key"], rotating_credential(bob_pass)),
    ):
        partner_key = PartnerKey.objects.get_from_key(key)
        answer = scan_record(
            ScanRequest(host=partner_key.space, credential=credential, partner_key=partner_key)
        )
        assert answer["decision"] == "accepted", answer

    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    for name, member in (
        ("alice", alice),
        ("bob", bob),
        ("charlie", charlie),
        ("camille", camille),
        ("dominique", dominique),
    ):
        clients[name] = APIClient()
        clients[name].force_authenticate(member)
    for name, key in (*keys.items(), ("revoked_key", revoked_key)):
        clients[name] = partner_client(key)

    placeholders = {
        "mutualab_room": mutualab_room.pk,
        "filature_room": filature_room.pk,
        "alice_booking": alice_booking.pk,
        "charlie_booking": charlie_booking.pk,
        "alice_series": alice_series.pk,
        "charlie_series": charlie_series.pk,
        "alice_pass": alice_pass.pk,
        "charlie_pass": charlie_pass.pk,
        "gaspard_pass": gaspard_pass.pk,
        "fanny_pass": fanny_pass.pk,
        "mutualab_key": PartnerKey.objects.get_from_key(keys["mutualab_key"]).prefix,
        "filature_key": PartnerKey.objects.get_from_key(keys["filature_key"]).prefix,
        "alice_credential": rotating_credential(alice_pass),
    }
    return World(clients, {name: str(value) for name, value in placeholders.items()})


@contextlib.contextmanager
def world_for_a_module(django_db_blocker) -> Iterator[World]:
    """Built once, in a transaction rolled back at the end; every request of the table runs
    in a savepoint of its own (see `request`), so that each one meets this same world."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_a_module(django_db_blocker) as built:
        yield built


def request(client: APIClient, row: Row, world: World):
    """One call, rolled back afterwards, so that every persona meets the same world."""
    data = world.fill(row.body)
    cache.clear()  # throttle counts: each call is a caller's first of the minute
    with transaction.atomic():
        if row.html:
            response = getattr(client, row.method.lower())(world.fill(row.path), data)
        else:
            response = getattr(client, row.method.lower())(
                world.fill(row.path), data, format="json", HTTP_ACCEPT="application/json"
            )
        transaction.set_rollback(True)
    return response


def error_shape_problem(row: Row, response) -> str | None:
    if response.status_code < 400 or row.html:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.content[:80]!r}"
    if set(body) != {"code", "detail", "fields"}:
        return f"error shape {sorted(body)}"
    if not (body["code"] and isinstance(body["code"], str) and isinstance(body["detail"], str)):
        return f"error code or detail {body}"
    if not isinstance(body["fields"], dict):
        return f"error fields {body['fields']!r}"
    if response.status_code == 401 and not response.has_header("WWW-Authenticate"):
        return "a 401 without WWW-Authenticate"
    code = row.codes.get(response.status_code)
    allowed = {code} if code else GENERIC_CODES.get(response.status_code)
    if allowed and body["code"] not in allowed:
        return f"code {body['code']!r} for a {response.status_code}"
    return None


@pytest.mark.parametrize("row", MATRIX, ids=[r.id for r in MATRIX])
def test_each_persona_gets_the_status_the_contract_gives_it(world, row):
    problems = []
    for persona, expected in zip(PERSONAS, row.expected, strict=True):
        response = request(world.clients[persona], row, world)
        if response.status_code != expected:
            detail = response.content[:200] if response.status_code >= 400 else b""
            problems.append(f"{persona}: {response.status_code}, expected {expected} {detail!r}")
        elif problem := error_shape_problem(row, response):
            problems.append(f"{persona}: {problem}")

    assert not problems, "\n".join(problems)


# --- The table is complete ---------------------------------------------------------------------


def view_methods(route: str, callback) -> set[str]:
    """The HTTP methods a URL pattern's view answers (OPTIONS and HEAD aside)."""
    if actions := getattr(callback, "actions", None):  # a router's viewset route
        return {method.upper() for method in actions if method not in {"options", "head"}}
    view_class = getattr(callback, "view_class", None)
    assert view_class is not None, f"{route}: a function view; make it a class to list its methods"
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in {"options", "head"} and hasattr(view_class, method)
    }


def api_patterns() -> list[tuple[str, URLPattern]]:
    """(route, pattern) for everything the URLconf serves under /api/v1/."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return found


def api_routes() -> set[tuple[str, str]]:
    """(URL name, method) for everything the URLconf serves under /api/v1/."""
    return {
        (pattern.name, method)
        for route, pattern in api_patterns()
        for method in view_methods(route, pattern.callback)
    }


def test_the_table_lists_every_route_and_method_of_the_api():
    in_table = {(row.route, row.method) for row in MATRIX}
    wired = api_routes()

    assert wired - in_table == set(), "new endpoints: add them to MATRIX"
    assert in_table - wired == set(), "endpoints that no longer exist"


# --- Around the table --------------------------------------------------------------------------


def test_options_answers_like_the_endpoint_and_never_fails(world):
    """OPTIONS checks the view's permissions but looks no object up: a 404 there is a 200 here."""
    problems = []
    # One row per route: OPTIONS answers from the view, whatever the object.
    rows = {row.route: row for row in reversed(MATRIX) if not row.html}
    for row in rows.values():
        for persona, expected in zip(PERSONAS, row.expected, strict=True):
            response = request(
                world.clients[persona], dataclasses.replace(row, method="OPTIONS"), world
            )
            wanted = expected if expected in {401, 403} else 200
            if response.status_code != wanted:
                problems.append(
                    f"OPTIONS {row.path} as {persona}: {response.status_code}, expected {wanted}"
                )

    assert not problems, "\n".join(problems)


def test_a_member_browsing_the_api_sees_no_one_elses_series_in_the_filter_form(world):
    response = world.clients["bob"].get("/api/v1/bookings/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice" not in html and "Charlie" not in html


def test_filtering_by_someone_elses_series_looks_like_filtering_by_none(world):
    bob = world.clients["bob"]
    answers = [
        bob.get("/api/v1/bookings/", {"series": series})
        for series in (world.placeholders["alice_series"], "999999")
    ]

    assert [(a.status_code, a.json()["results"]) for a in answers] == [(200, []), (200, [])]


def test_an_error_on_the_yaml_schema_keeps_the_error_shape(world):
    response = world.clients["revoked_key"].get("/api/v1/schema/")

    assert response.status_code == 401
    body = yaml.safe_load(response.content)
    assert body == {"code": "authentication_failed", "detail": body["detail"], "fields": {}}
    assert isinstance(body["detail"], str)


MUTUALAB, FILATURE, QUAI = "mutualab", "filature-roubaix", "quai-tourcoing"
# What a caller may see in a list: whose rows (or which space's) come back.
LISTS = (
    ("alice", "bookings/", "member_name", {"Alice"}),
    ("bob", "bookings/", "member_name", set()),
    ("charlie", "bookings/", "member_name", {"Charlie"}),
    ("camille", "bookings/", "member_name", {"Alice"}),
    ("dominique", "bookings/", "member_name", {"Charlie"}),
    ("mutualab_key", "scans/", "host", {MUTUALAB}),
    ("filature_key", "scans/", "host", {FILATURE}),
    ("camille", "spaces/mutualab/passes/", "home_space", {MUTUALAB}),
    ("dominique", "spaces/filature-roubaix/passes/", "home_space", {FILATURE}),
    ("camille", "spaces/mutualab/scans/", "host", {MUTUALAB}),
    ("dominique", "spaces/filature-roubaix/scans/", "host", {FILATURE}),
    # Visits hosted by the space and visits its members made elsewhere, as (host, home).
    (
        "camille",
        "spaces/mutualab/visits/",
        ("host", "home"),
        {(MUTUALAB, FILATURE), (FILATURE, MUTUALAB)},
    ),
    (
        "dominique",
        "spaces/filature-roubaix/visits/",
        ("host", "home"),
        {(MUTUALAB, FILATURE), (FILATURE, MUTUALAB), (QUAI, FILATURE)},
    ),
)


def test_lists_hold_only_what_the_caller_may_see(world):
    problems = []
    for persona, path, field, expected in LISTS:
        response = world.clients[persona].get(f"/api/v1/{path}")
        assert response.status_code == 200, (persona, path)
        body = response.json()
        items = body["results"] if isinstance(body, dict) else body
        seen = {
            tuple(item[name] for name in field) if isinstance(field, tuple) else item[field]
            for item in items
        }
        if seen != expected:
            problems.append(f"{persona} on {path}: {field} {seen}, expected {expected}")

    assert not problems, "\n".join(problems)


def test_a_co_manager_lists_the_keys_of_her_space_only(world):
    listed = {
        persona: {key["prefix"] for key in world.clients[persona].get(f"/api/v1/{path}").json()}
        for persona, path in (
            ("camille", "spaces/mutualab/partner-keys/"),
            ("dominique", "spaces/filature-roubaix/partner-keys/"),
        )
    }

    assert world.placeholders["mutualab_key"] in listed["camille"]
    assert len(listed["camille"]) == 2  # and the revoked one
    assert listed["dominique"] == {world.placeholders["filature_key"]}
