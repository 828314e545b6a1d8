"""Every operation of the served OpenAPI schema, fuzzed by Schemathesis (SPEC §5).

The schema is the one the API serves at /api/v1/schema/, loaded from the WSGI application at
import; each operation becomes one test, whose requests go through the same application
in-process, inside that test's database transaction. The world holds real data (spaces,
resources, bookings, a series, passes, scans, a signing key, partner keys), and each generated
request is sent as a persona that makes sense for the operation (Alice or Bob as members,
Camille as co-manager, a partner space's scanner key, or nobody) with, three times out of four,
real path parameters, query values and bodies swapped in, so that requests get past the 404s
and 400s to the code behind them.

What must hold for every request: no 5xx; a success status is documented and its body and
content type match the schema; an error is one of the statuses of SPEC §5 with the error shape
`{"code", "detail", "fields"}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from coworking.tokens import token_issue

from .conftest import NOW, make_partner_key, paris
from .factories import PASSWORD

# The fuzzing phase only: the coverage phase (every boundary of every parameter, unexpected
# methods) is thorough but triples the time; turn it on here for a deeper run by hand.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)

# The statuses SPEC §5 names for errors, and HTTP's own for a method a route does not have
# (405) or a body without a usable content type (415).
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 415, 429}
PARTNER_PATHS = ("/api/v1/scans/", "/api/v1/network/keys/", "/api/v1/network/revocations/")
CO_MANAGER_PATHS = ("/partner-keys/", "/passes/", "/scans/", "/visits/", "/usage/", "/settlement/")
DAYS = [NOW.date() + dt.timedelta(days=n) for n in (-1, 0, 1, 2, 7, 30, 90)]
# Mostly open days ahead, where a booking can succeed; yesterday and beyond the horizon too.
BOOKING_DAYS = [NOW.date() + dt.timedelta(days=n) for n in (1, 2, 3, 7, 8, 9, 10, -1, 90)]


@dataclass
class World:
    """The real data that generated requests are mixed with (ids differ between databases)."""

    tokens: dict[str, str]
    partner_keys: list[str]
    slugs: list[str]
    path_values: dict[str, list[Any]]
    member_ids: list[int]
    resource_ids: list[int]
    credentials: list[str]

    def authorizations(self, path: str) -> list[str | None]:
        """Who calls an operation: those it is meant for, and nobody."""
        if path.startswith(PARTNER_PATHS):
            callers = [f"Api-Key {key}" for key in self.partner_keys]
        elif path.startswith("/api/v1/spaces/{slug}/") and path.endswith(CO_MANAGER_PATHS):
            callers = [f"Token {self.tokens[name]}" for name in ("camille", "camille", "alice")]
        elif path.endswith("/settlement/"):
            callers = [f"Token {self.tokens['camille']}"]
        else:
            callers = [f"Token {self.tokens[name]}" for name in ("alice", "bob", "camille")]
        return [*callers, *callers, None]  # nobody, a third as often as anybody

    def real_path_parameters(self, path: str) -> st.SearchStrategy[dict] | None:
        names = [name for name in ("slug", "id", "prefix") if "{" + name + "}" in path]
        if not names:
            return None
        key = "pass" if "/passes/" in path else "series" if "booking-series" in path else "booking"
        values = {
            "slug": self.slugs,
            "id": self.path_values[key],
            "prefix": self.path_values["prefix"],
        }
        return st.fixed_dictionaries({name: st.sampled_from(values[name]) for name in names})

    def real_query(self, path: str) -> st.SearchStrategy[dict] | None:
        if path.endswith("/availability/"):
            return st.fixed_dictionaries({"date": st.sampled_from(DAYS).map(str)})
        if path.endswith(("/usage/", "/settlement/")):
            return st.fixed_dictionaries(
                {"month": st.sampled_from(["2026-11", "2026-12", "2027-01", "1999-13"])},
                optional={"format": st.sampled_from(["json", "csv"])},
            )
        if path.endswith("/revocations/"):
            return st.fixed_dictionaries(
                {}, optional={"since": st.integers(0, 5), "network": st.just("chtipass")}
            )
        if path == "/api/v1/me/pass/":
            return st.fixed_dictionaries({"windows": st.integers(0, 3000)})
        if path == "/api/v1/bookings/":
            return st.fixed_dictionaries(
                {},
                optional={
                    "space": st.sampled_from(self.slugs),
                    "mine": st.sampled_from(["true", "false"]),
                    "status": st.sampled_from(["confirmed", "cancelled"]),
                    "start_after": st.sampled_from(DAYS).map(lambda day: f"{day}T00:00:00Z"),
                },
            )
        return None

    def real_body(self, method: str, path: str) -> st.SearchStrategy | None:
        if method != "POST":
            return None
        if path in ("/api/v1/bookings/", "/api/v1/bookings/recurring/"):
            return self._booking_body(recurring=path.endswith("/recurring/"))
        if path == "/api/v1/booking-series/{id}/cancel/":
            day = st.sampled_from(DAYS).map(str)
            return st.fixed_dictionaries({}, optional={"from_date": day, "until": day})
        if path == "/api/v1/scans/":
            return st.fixed_dictionaries(
                {"credential": st.sampled_from(self.credentials)},
                optional={"nonce": st.text(min_size=1, max_size=8), "scanned_at": _moments()},
            )
        if path == "/api/v1/scans/batch/":
            item = st.fixed_dictionaries(
                {
                    "credential": st.sampled_from(self.credentials),
                    "scanned_at": _moments(),
                    "nonce": st.uuids().map(str),
                },
                optional={"device_decision": st.sampled_from(["accepted", "refused"])},
            )
            return st.fixed_dictionaries({"scans": st.lists(item, min_size=1, max_size=4)})
        if path == "/api/v1/auth/token/":
            return st.fixed_dictionaries(
                {"email": st.just("alice@mutualab.example"), "password": st.just(PASSWORD)}
            )
        if path == "/api/v1/me/erase/":
            return st.fixed_dictionaries({"password": st.just(PASSWORD)})
        return None

    def _booking_body(self, *, recurring: bool) -> st.SearchStrategy[dict]:
        slot = st.builds(
            lambda day, quarter: (
                dt.datetime.combine(day, dt.time(8, 30), tzinfo=NOW.tzinfo)
                + dt.timedelta(minutes=15 * quarter)
            ),
            st.sampled_from(BOOKING_DAYS),
            st.integers(0, 44),
        )
        interval = st.builds(
            lambda start, quarters: {
                "start": start.isoformat(),
                "end": (start + dt.timedelta(minutes=15 * quarters)).isoformat(),
            },
            slot,
            st.sampled_from([4, 2, 8, 6, 12, 1, 0, -1]),  # in quarters of an hour
        )
        period = st.fixed_dictionaries(
            {
                "date": st.sampled_from(BOOKING_DAYS).map(str),
                "period": st.sampled_from(["day", "morning", "afternoon"]),
            }
        )
        required = {"until": st.sampled_from(BOOKING_DAYS).map(str)} if recurring else {}
        extra = {"note": st.text(max_size=20), "member": st.sampled_from(self.member_ids)}
        return st.builds(
            lambda resource, shape, more: {"resource": resource, **shape, **more},
            st.sampled_from(self.resource_ids),
            st.one_of(interval, period),
            st.fixed_dictionaries(required, optional=extra),
        )


def _moments() -> st.SearchStrategy[str]:
    return st.integers(-3 * 24 * 3600, 3600).map(
        lambda seconds: (NOW + dt.timedelta(seconds=seconds)).isoformat()
    )


_world: list[World] = []


def _current_world() -> World:
    assert _world, "the `world` fixture builds the data that requests are mixed with"
    return _world[-1]


@schema.hook
def flatmap_case(context, case):
    """Choose the caller, and three times out of four swap in real path parameters, query and
    body (as generated, they mostly meet a 404 or a 400)."""
    world = _current_world()
    operation = context.operation
    path, method = operation.path, operation.method.upper()

    def maybe(generated: Any, real: st.SearchStrategy | None) -> st.SearchStrategy:
        if real is None:
            return st.just(generated)
        return st.sampled_from([True, True, True, False]).flatmap(
            lambda swap: real if swap else st.just(generated)
        )

    def ground(authorization, path_parameters, query, body):
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        if authorization is not None:
            headers["Authorization"] = authorization
        case.headers = headers
        if path_parameters:
            case.path_parameters = {**(case.path_parameters or {}), **path_parameters}
        if query is not case.query:
            case.query = {**(case.query or {}), **query}
        case.body = body
        return case

    return st.builds(
        ground,
        st.sampled_from(world.authorizations(path)),
        maybe(None, world.real_path_parameters(path)),
        maybe(case.query, world.real_query(path)),
        maybe(case.body, world.real_body(method, path)),
    )


def successes_are_documented(ctx, response, case):
    """A 2xx/3xx must be one the schema documents (errors are checked for their shape)."""
    if response.status_code < 400:
        return status_code_conformance(ctx, response, case)
    return None


def errors_have_the_api_error_shape(ctx, response, case):
    """SPEC §5: errors are `{"code", "detail", "fields"}` with one of the listed statuses."""
    if response.status_code < 400 or response.status_code >= 500:
        return None  # 5xx: not_a_server_error
    assert response.status_code in ERROR_STATUSES, f"Unexpected status {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"The error body is not JSON: {response.text[:200]!r}") from None
    assert (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and body["code"]
        and isinstance(body.get("detail"), str)
        and isinstance(body.get("fields"), dict)
    ), f"Not the error shape of SPEC §5: {body!r}"
    return None


CHECKS = [
    not_a_server_error,
    successes_are_documented,
    response_schema_conformance,
    content_type_conformance,
    errors_have_the_api_error_shape,
]


@pytest.fixture
def _requests_keep_the_test_connection() -> Iterator[None]:
    """Requests run in-process on the test's connection, inside its transaction: Django must not
    close it at the start and end of each request (its test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(
    _requests_keep_the_test_connection,
    clock,
    mutualab,
    filature,
    quai,
    verriere,
    alice,
    bob,
    camille,
    dominique,
    room,
    desk,
    laser,
    filature_room,
    alice_pass,
    bob_pass,
) -> Iterator[World]:
    from passes.models import PartnerKey
    from passes.scanning import ScanRequest, scan_record
    from passes.services import credential_rotating, credential_static, pass_suspend
    from spaces.schedule import desk_periods
    from spaces.services import booking_create, booking_series_create

    tomorrow = NOW.date() + dt.timedelta(days=1)
    bookings = [
        booking_create(
            member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        ),
        booking_create(
            member=bob,
            resource=desk,
            start=desk_periods(desk, tomorrow)["day"][0],
            end=desk_periods(desk, tomorrow)["day"][1],
        ),
    ]
    series = booking_series_create(
        member=alice,
        resource=room,
        start=paris(2026, 12, 3, 14),
        end=paris(2026, 12, 3, 15),
        until=dt.date(2026, 12, 24),
    )
    scanner_key = make_partner_key(filature)
    home_key = make_partner_key(mutualab)
    scan_record(ScanRequest(host=filature, credential=credential_static(alice_pass)))
    scan_record(ScanRequest(host=quai, credential=credential_rotating(bob_pass)[0][1]))
    credentials = [
        credential_static(alice_pass),
        credential_rotating(alice_pass)[0][1],
        credential_rotating(bob_pass)[0][1],
        credential_rotating(alice_pass, now=NOW - dt.timedelta(minutes=10))[0][1],  # expired
        "CP1:NOTACREDENTIAL",
    ]
    pass_suspend(pass_obj=bob_pass, actor=camille, reason="Carte perdue")
    built = World(
        tokens={
            "alice": token_issue(member=alice)[1],
            "bob": token_issue(member=bob)[1],
            "camille": token_issue(member=camille)[1],
        },
        partner_keys=[scanner_key, home_key],
        # Mutualab, whose co-manager is Camille, the most often.
        slugs=[
            mutualab.slug,
            mutualab.slug,
            mutualab.slug,
            filature.slug,
            quai.slug,
            verriere.slug,
        ],
        path_values={
            "booking": [b.pk for b in bookings] + [b.pk for b in series.bookings.all()],
            "series": [series.pk],
            "pass": [alice_pass.pk, bob_pass.pk],
            "prefix": list(PartnerKey.objects.values_list("prefix", flat=True)),
        },
        member_ids=[alice.pk, bob.pk, camille.pk],
        resource_ids=[room.pk, room.pk, desk.pk, desk.pk, laser.pk, filature_room.pk],
        credentials=credentials,
    )
    _world.append(built)
    yield built
    _world.remove(built)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, world):
    case.call_and_validate(checks=CHECKS)


# --- What the fuzzing found, pinned down ---------------------------------------------------


@pytest.mark.django_db
def test_a_booking_filter_beyond_the_range_of_ids_is_refused_not_a_server_error(api, alice):
    huge = 2**81  # SQLite's integers are 64-bit: the lookup itself used to overflow

    for name in ("resource", "series"):
        response = api.as_(alice).get("/api/v1/bookings/", {name: huge})

        assert response.status_code == 400
        assert response.json()["code"] == "max_value"
        assert list(response.json()["fields"]) == [name]


@pytest.mark.django_db
def test_a_booking_filter_moment_is_compared_in_utc_whatever_its_offset(api, alice):
    # PostgreSQL takes no UTC offset beyond 15:59: the moment goes to the database in UTC.
    response = api.as_(alice).get("/api/v1/bookings/", {"start_after": "2026-12-01T20:40+21:31"})

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_booking_filter_moment_that_leaves_the_calendar_in_utc_is_refused(api, alice):
    # Year 1 at +05:00 is year 0 in UTC, which no database (nor Python) has.
    response = api.as_(alice).get("/api/v1/bookings/", {"start_after": "0001-01-01T00:00+05:00"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["start_after"]


@pytest.mark.django_db
def test_an_api_url_that_no_route_matches_answers_in_the_error_shape(client):
    response = client.get("/api/v1/spaces/caf%C3%A9%20du%20coin/usage/", {"month": "2026-12"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["code"], body["fields"]) == ("not_found", {})
    assert body["detail"]


@pytest.mark.django_db
def test_a_url_outside_the_api_that_no_route_matches_keeps_the_html_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
