"""Bad input never gives a 500 (issue #9, point 4): every route of the URLconf is sent what an
attacker sends, and answers 4xx, in the API's error shape under /api/.

First what the attack run sent, pinned down one family at a time. Then the walk: it takes each
route from `get_resolver()` (tests/route_walk.py), fills its path with real ids, slugs, tokens
and prefixes, calls it as the persona it is meant for, with each method its view has, and notes
which query, form and JSON names the view reads. Then it sends, one at a time, bad values in
each path parameter and each name read: NUL, lone surrogates (JSON) and invalid UTF-8, non-ASCII
digits, huge numbers and dates (`"9" * 30`, `1e309`, `9999-12`, year 1), wrong JSON types, deep
JSON, a body over the size limit, and NUL in headers and cookies. Requests go through the whole
middleware stack, in the test's transaction; each route's writes are rolled back before the
next.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import resolve

from api.parsers import MAX_DEPTH

from .conftest import NOW, make_partner_key, paris
from .factories import PASSWORD, MemberFactory
from .route_walk import Raw, ReadRecorder, Route, routes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


class Literal(str):
    """A JSON value written as is: `1e309`, which `json.dumps` cannot produce."""


# What attackers send where a value goes. Path values that a route's pattern does not accept
# simply do not resolve (404), which is fine too.
PATH_VALUES = ["a\x00b", "²", "9" * 30, "-1", Raw("%ED%A0%80"), "x" * 300]
TEXT_VALUES = [
    "a\x00b",
    "²",
    "٣",
    "9" * 30,
    "1e309",
    "-1",
    "9999-12",
    "9999-12-31",
    "0001-01-01T00:00+05:00",
    Raw("%ED%A0%80"),
]
JSON_VALUES: list[Any] = [
    "a\x00b",
    "\ud800",
    "²",
    "9" * 30,
    Literal("1e309"),
    2**64,
    1.5,
    -1,
    True,
    None,
    [],
    {},
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "x" * 5000,
]
CODE_NUL = "null_characters_not_allowed"
CODE_SURROGATE = "surrogate_characters_not_allowed"
DEEP_JSON = ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000]
BAD_HEADERS = [
    {"HTTP_AUTHORIZATION": "Token a\x00b"},
    {"HTTP_X_FORWARDED_FOR": "10.0.0.1\x00"},
    # A quoted cookie value may spell NUL in octal.
    {"HTTP_COOKIE": 'sessionid="\\000\\000\\000\\000\\000\\000\\000\\000"'},
    {"CONTENT_TYPE": "application/json; charset=bz2_codec"},
]
BODY_LIMIT = 100_000  # lowered for the walk, so that an oversized body is cheap to send

# Who calls a route: the first rule whose pattern matches its path template wins.
PERSONAS = [
    (r"^/admin/", "superuser"),
    (r"^/api/v1/(scans/|network/keys/|network/revocations/)", "partner"),
    (r"^/lecteur/appareil/", "partner"),
    (r"^/api/v1/spaces/\{slug\}/(partner-keys|passes|scans|visits|usage)", "camille"),
    (r"^/api/v1/network/settlement", "camille"),
    (r"^/(tableau-de-bord|lecteur/appairer)/", "camille"),
    (r"", "alice"),
]
# Should DRF's suffix twins of routes come back (`/bookings.json`, off in api/urls.py), they run
# the same views: the walk would send them the path values and a real request only.
FORMAT_SUFFIX = "{format}"
# The schema takes seconds to generate: its query is not fuzzed.
SLOW_ROUTES = {"schema"}


@dataclass
class World:
    clients: dict[str, Client]
    path_values: dict[str, dict[str, str]]  # by parameter, then by route family
    bodies: dict[str, dict[str, Any]]  # real bodies, by route name
    queries: dict[str, str]  # real query values, by name
    failures: list[str] = field(default_factory=list)

    def client(self, template: str) -> Client:
        persona = next(name for rule, name in PERSONAS if re.search(rule, template))
        return self.clients[persona]

    def real_path(self, route: Route) -> dict[str, str]:
        return {name: self.path_value(route, name) for name in route.parameters}

    def path_value(self, route: Route, name: str) -> str:
        if name == "format":
            return ".json" if "drf_format_suffix" in route.route else "json"
        values = self.path_values[name]
        family = next((key for key in values if key and key in route.template), "")
        return values[family]


@pytest.fixture
def world(
    mutualab, filature, alice, bob, camille, dominique, room, desk, alice_pass, network
) -> World:
    from passes.models import PartnerKey
    from passes.scanning import ScanRequest, scan_record
    from passes.services import credential_static
    from spaces.services import booking_create, booking_series_create

    superuser = MemberFactory(email="root@example.org", is_staff=True, is_superuser=True)
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    series = booking_series_create(
        member=alice,
        resource=room,
        start=paris(2026, 12, 3, 14),
        end=paris(2026, 12, 3, 15),
        until=dt.date(2026, 12, 17),
    )
    filature_key = make_partner_key(filature)
    make_partner_key(mutualab)
    credential = credential_static(alice_pass)
    scan_record(ScanRequest(host=filature, credential=credential))

    clients = {"partner": Client(headers={"Authorization": f"Api-Key {filature_key}"})}
    for name, member in [("alice", alice), ("camille", camille), ("superuser", superuser)]:
        clients[name] = Client()
        clients[name].force_login(member)
    admin_objects = {
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/": str(first.pk)
        for model in apps.get_models()
        if (first := model._default_manager.order_by("pk").first()) is not None
    }
    moment = NOW.isoformat()
    return World(
        clients=clients,
        path_values={
            "slug": {"": mutualab.slug},
            "pk": {
                "booking-series": str(series.pk),
                "passes": str(alice_pass.pk),
                "": str(booking.pk),
            },
            "prefix": {"": PartnerKey.objects.filter(space=mutualab).get().prefix},
            "token": {"": alice.calendar_token},
            "object_id": {**admin_objects, "/admin/r/": str(mutualab.pk), "": "1"},
            "id": {"": str(alice.pk)},
            "content_type_id": {"": str(ContentType.objects.get_for_model(mutualab).pk)},
            "app_label": {"": "spaces"},
            "url": {"": "nowhere/"},
            "path": {"": "nothing.png"},
        },
        bodies={
            "auth-token": {"email": alice.email, "password": PASSWORD},
            "booking-list": {
                "resource": room.pk,
                "start": "2026-12-04T10:00:00+01:00",
                "end": "2026-12-04T11:00:00+01:00",
                "note": "Réunion",
            },
            "booking-recurring": {
                "resource": room.pk,
                "start": "2026-12-04T15:00:00+01:00",
                "end": "2026-12-04T16:00:00+01:00",
                "until": "2026-12-18",
            },
            "booking-series-cancel": {"from_date": "2026-12-10"},
            "scans": {"credential": credential, "nonce": "door-1", "scanned_at": moment},
            "scans-batch": {
                "scans": [{"credential": credential, "nonce": "door-2", "scanned_at": moment}]
            },
            "partner-key-list": {"name": "Tablette"},
            "space-pass-suspend": {"reason": "Carte perdue"},
            "space-pass-revoke": {"reason": "Départ"},
            "my-account-erase": {"password": PASSWORD},
            "web:booking_new": {
                "resource": room.pk,
                "date": "2026-12-04",
                "start": "10:00",
                "end": "11:00",
            },
            "web:scanner_pair": {"space": mutualab.pk},
            "web:login": {"username": alice.email, "password": PASSWORD},
            "set_language": {"language": "en", "next": "/"},
        },
        queries={
            "month": "2026-12",
            "date": "2026-12-02",
            "since": "0",
            "network": network.slug,
            "windows": "2",
            "space": mutualab.slug,
            "start_after": "2026-12-01T00:00:00Z",
            "page": "1",
            "format": "json",
        },
    )


# --- What the attack run sent, pinned down --------------------------------------------------

TOKEN = "/api/v1/auth/token/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code
    return body


def post_json(client, url: str, text: str | bytes, **extra):
    return client.generic("POST", url, text, content_type="application/json", **extra)


def nested(levels: int) -> str:
    """A JSON body `levels` deep: an object whose `email` is lists in lists."""
    return '{"email": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


@pytest.mark.parametrize("body", DEEP_JSON, ids=["array", "object"])
def test_a_thousand_deep_body_to_the_unauthenticated_token_endpoint_is_a_400(client, body):
    assert_error(post_json(client, TOKEN, body), 400, "too_deep")


def test_a_body_as_deep_as_the_limit_is_read_and_one_level_more_is_refused(client):
    assert_error(post_json(client, TOKEN, nested(MAX_DEPTH)), 400, "invalid")  # not a string
    assert_error(post_json(client, TOKEN, nested(MAX_DEPTH + 1)), 400, "too_deep")


def test_a_lone_surrogate_in_a_nonce_is_refused_online_and_in_batches_and_not_stored(
    client, filature_key, alice_pass
):
    from passes.models import Scan
    from passes.services import credential_static

    credential = credential_static(alice_pass)
    key = {"HTTP_AUTHORIZATION": f"Api-Key {filature_key}"}
    online = _json({"credential": credential, "nonce": "\ud800"})
    item = {"credential": credential, "scanned_at": NOW.isoformat(), "nonce": "a\udfffb"}
    batch = _json({"scans": [item]})

    body = assert_error(post_json(client, "/api/v1/scans/", online, **key), 400, CODE_SURROGATE)
    assert list(body["fields"]) == ["nonce"]
    body = assert_error(
        post_json(client, "/api/v1/scans/batch/", batch, **key), 400, CODE_SURROGATE
    )
    assert list(body["fields"]) == ["scans.0.nonce"]
    assert not Scan.objects.exists()


@pytest.mark.parametrize("moment", ["0001-01-01", "0001-01-01T00:05"])
def test_a_scan_moment_that_leaves_the_calendar_is_refused_online_and_in_batches(
    client, filature_key, alice_pass, moment
):
    # Without an offset it is read in Paris time (then 9 min 21 s ahead of UTC), before year 1
    # begins in UTC: DRF's own field raised OverflowError.
    from passes.services import credential_static

    credential = credential_static(alice_pass)
    key = {"HTTP_AUTHORIZATION": f"Api-Key {filature_key}"}
    online = _json({"credential": credential, "scanned_at": moment})
    batch = _json({"scans": [{"credential": credential, "scanned_at": moment, "nonce": "n1"}]})

    body = assert_error(post_json(client, "/api/v1/scans/", online, **key), 400, "overflow")
    assert list(body["fields"]) == ["scanned_at"]
    assert_error(post_json(client, "/api/v1/scans/batch/", batch, **key), 400, "overflow")


def test_a_surrogate_in_a_json_key_is_refused_without_writing_it_back(client):
    response = post_json(client, TOKEN, '{"\\ud800": 1, "email": "a@b.example"}')

    body = assert_error(response, 400, CODE_SURROGATE)
    assert list(body["fields"]) == ["non_field_errors"]
    response.content.decode("utf-8")  # an answer that a client can read


@pytest.mark.parametrize(
    ("value", "code"),
    [(Literal("1e309"), "number_too_large"), (2**63, "number_too_large"), (2**63 - 1, "invalid")],
)
def test_a_number_that_no_column_can_hold_is_refused_as_it_is_read(client, value, code):
    body = assert_error(post_json(client, TOKEN, _json({"email": value})), 400, code)
    assert "email" in body["fields"]


def test_nul_in_a_form_or_multipart_api_body_is_refused_as_in_json(api, alice):
    form = api.as_(alice).post(
        "/api/v1/bookings/", "note=a%00b", content_type="application/x-www-form-urlencoded"
    )
    multipart = api.as_(alice).post("/api/v1/bookings/", {"note": "a\x00b"}, format="multipart")

    assert list(assert_error(form, 400, CODE_NUL)["fields"]) == ["note"]
    assert list(assert_error(multipart, 400, CODE_NUL)["fields"]) == ["note"]


def test_nul_in_a_path_is_refused_before_any_query(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        feed = client.get("/calendar/%00.ics")
        api_path = client.get("/api/v1/spaces/a%00b/")

    assert feed.status_code == 400
    assert feed["Content-Type"].startswith("text/html")
    assert assert_error(api_path, 400, CODE_NUL)["fields"] == {}


def test_nul_in_a_query_value_is_refused_naming_the_parameter(api, camille, filature_key, network):
    key = {"HTTP_AUTHORIZATION": f"Api-Key {filature_key}"}
    revocations = api.get("/api/v1/network/revocations/", {"network": "\x00"}, **key)
    settlement = api.as_(camille).get(
        "/api/v1/network/settlement/", {"month": "2026-11", "network": "chtipass\x00"}
    )

    assert list(assert_error(revocations, 400, CODE_NUL)["fields"]) == ["network"]
    assert list(assert_error(settlement, 400, CODE_NUL)["fields"]) == ["network"]


def test_nul_in_a_header_or_a_cookie_is_refused(client, alice):
    credentials = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token a\x00b")
    # A quoted cookie value may spell NUL in octal: it would reach the session table.
    cookie = client.get(
        "/reservations/", HTTP_COOKIE='sessionid="\\000\\000\\000\\000\\000\\000\\000\\000"'
    )

    assert_error(credentials, 400, CODE_NUL)
    assert cookie.status_code == 400


def test_too_many_query_fields_are_a_400_in_the_error_shape(api, alice):
    query = "&".join(f"f{n}=1" for n in range(1001))

    assert_error(api.as_(alice).get(f"/api/v1/bookings/?{query}"), 400, "too_many_fields")


def test_too_many_form_fields_in_an_api_body_are_a_400_in_the_error_shape(api, alice):
    body = "&".join(f"f{n}=1" for n in range(1001))
    response = api.as_(alice).post(
        "/api/v1/bookings/", body, content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 400, "too_many_fields")


@pytest.mark.parametrize("since", ["²", "٣", "9" * 19, "-1", "1.0"])
def test_a_revocation_version_that_is_not_ascii_digits_is_a_400(
    api, filature_key, network, signing, since
):
    key = {"HTTP_AUTHORIZATION": f"Api-Key {filature_key}"}

    body = assert_error(
        api.get("/api/v1/network/revocations/", {"since": since}, **key), 400, "invalid"
    )
    assert list(body["fields"]) == ["since"]
    assert api.get("/api/v1/network/revocations/", {"since": "9" * 18}, **key).status_code == 200


@pytest.mark.parametrize("month", ["9999-12", "1999-12", "2101-01", "0202-11", "٢٠٢٦-١١"])
def test_a_month_outside_2000_to_2100_is_a_400_on_usage_and_settlement(
    api, camille, network, month
):
    for url in ("/api/v1/spaces/mutualab/usage/", "/api/v1/network/settlement/"):
        body = assert_error(api.as_(camille).get(url, {"month": month}), 400, "invalid")
        assert list(body["fields"]) == ["month"]


@pytest.mark.parametrize("month", ["2000-01", "2100-12"])
def test_the_first_and_last_months_of_the_range_are_answered(api, camille, network, month):
    for url in ("/api/v1/spaces/mutualab/usage/", "/api/v1/network/settlement/"):
        assert api.as_(camille).get(url, {"month": month}).status_code == 200


@pytest.mark.parametrize("space", ["²", "9" * 30, "a\x00b"])
def test_the_scanner_pairing_form_answers_a_bad_space_id_as_another_spaces(
    client, camille, mutualab, space
):
    from passes.models import PartnerKey

    client.force_login(camille)

    assert client.post("/lecteur/appairer/", {"space": space}).status_code == 404
    assert not PartnerKey.objects.exists()
    assert client.post("/lecteur/appairer/", {"space": mutualab.pk}).status_code == 302


def test_a_20_mb_body_is_refused_before_it_is_read(client):
    body = b'{"email": "' + b"x" * (20 * 1024 * 1024) + b'"}'

    api_answer = post_json(client, TOKEN, body)
    page = client.generic(
        "POST", "/connexion/", body, content_type="application/x-www-form-urlencoded"
    )

    assert_error(api_answer, 413, "payload_too_large")
    assert page.status_code == 413
    assert page["Content-Type"].startswith("text/html")


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    at_limit = _json({"email": "x" * 987})
    assert len(at_limit) == 1000

    assert_error(post_json(client, TOKEN, at_limit), 400, "invalid")
    assert_error(post_json(client, TOKEN, at_limit + " "), 413, "payload_too_large")


def test_an_upload_has_its_own_larger_limit(client, settings, alice):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.UPLOAD_MAX_BYTES = 5000
    client.force_login(alice)
    small = {"photo": SimpleUploadedFile("photo.png", b"x" * 2000)}
    large = {"photo": SimpleUploadedFile("photo.png", b"x" * 5000)}

    assert client.post("/api/v1/bookings/", small).status_code == 400  # read: not a booking
    assert_error(client.post("/api/v1/bookings/", large), 413, "payload_too_large")


@pytest.mark.parametrize("debug", [False, True])
def test_a_body_that_django_refuses_in_a_drf_view_is_a_413_in_the_error_shape(
    client, settings, debug
):
    # Behind the middleware's check: what Django raises when a view reads too large a body,
    # answered by the API itself (with DEBUG on, Django would answer with its debug page).
    settings.DEBUG = debug
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "RequestInputMiddleware" not in m]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    assert_error(post_json(client, TOKEN, _json({"email": "x" * 2000})), 413, "payload_too_large")


def test_a_request_that_django_refuses_outside_a_view_keeps_the_error_shape_under_api(client):
    # An unknown Host is refused by Django's CommonMiddleware (SuspiciousOperation, 400).
    assert_error(client.get("/api/v1/spaces/", HTTP_HOST="evil.example"), 400, "bad_request")
    assert client.get("/connexion/", HTTP_HOST="evil.example")["Content-Type"].startswith(
        "text/html"
    )


def test_an_unknown_format_is_answered_in_json(client):
    for url in ("/api/v1/schema/", "/api/v1/spaces/"):
        assert_error(client.get(url, {"format": "nope"}), 404, "not_found")


def test_the_api_has_no_format_suffix_twins_of_its_routes(api, alice, mutualab):
    # `/availability.json` reached an action without a `format` argument: a TypeError, a 500.
    response = api.as_(alice).get("/api/v1/spaces/mutualab/availability.json")

    assert_error(response, 404, "not_found")


# --- Sending --------------------------------------------------------------------------------


def _query_string(query: dict[str, str]) -> str:
    """Raw values as written; the others percent-encoded."""
    return "&".join(
        f"{name}={value}" if isinstance(value, Raw) else urlencode({name: value})
        for name, value in query.items()
    )


def _json(body: Any) -> str:
    """`body` as JSON, with `Literal` values written as they are and lone surrogates escaped."""
    literals: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Literal):
            literals[f"literal-{len(literals)}"] = str(value)
            return f"literal-{len(literals) - 1}"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body))  # ensure_ascii: a surrogate is written as \ud800
    for marker, literal in literals.items():
        text = text.replace(f'"{marker}"', literal)
    return text


def _leaves(body: Any, path: tuple = ()) -> Iterator[tuple]:
    """The paths of a body's values (in a list, its first item's only)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*path, key)
            yield from _leaves(value, (*path, key))
    elif isinstance(body, list) and body:
        yield from _leaves(body[0], (*path, 0))


def _replaced(body: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: _replaced(body[head], rest, value)}
    return [_replaced(body[0], rest, value), *body[1:]]


def send(
    world: World,
    client: Client,
    method: str,
    url: str,
    *,
    query: dict[str, str] | None = None,
    body: str | bytes | None = None,
    content_type: str = "application/json",
    extra: dict[str, str] | None = None,
    route: Route,
) -> None:
    """One request, in a savepoint of its own, checked: never a 5xx nor an exception, and an
    error under /api/ has the error shape (but a page that DRF does not serve, the browsable
    API's login, answers as a page)."""
    full = url + ("?" + _query_string(query) if query else "")
    cache.clear()  # throttles would soon answer 429 before the code under test
    label = f"{method} {full[:160]!r} body={str(body)[:80]!r}"
    try:
        with transaction.atomic():
            response = client.generic(
                method, full, body or "", content_type=content_type, **(extra or {})
            )
    except Exception as error:  # the test client re-raises what the view raised
        world.failures.append(f"{label}: {type(error).__name__}: {str(error)[:200]}")
        return
    if response.status_code >= 500:
        world.failures.append(f"{label}: {response.status_code}")
        return
    api = url.startswith("/api/") and (route.is_drf_view or response.status_code == 404)
    if api and response.status_code >= 400:
        try:
            shaped = set(response.json()) == {"code", "detail", "fields"}
        except ValueError:
            shaped = False
        if not shaped:
            world.failures.append(f"{label}: {response.status_code} not in the error shape")


# --- The walk -------------------------------------------------------------------------------


def _walk_route(world: World, recorder: ReadRecorder, route: Route) -> None:
    client = world.client(route.template)
    url = route.url(world.real_path(route))
    suffix = FORMAT_SUFFIX in route.template
    admin = route.template.startswith("/admin/")
    for method in route.methods:
        real_body = world.bodies.get(route.name or "", {})
        form = not route.template.startswith("/api/")

        def encoded(body: dict) -> str:
            return urlencode(body) if form else _json(body)

        content_type = "application/x-www-form-urlencoded" if form else "application/json"
        # 1. A real request, twice: the names read without a query, then with real values.
        with recorder.recording() as reads:
            send(world, client, method, url, body=encoded(real_body), content_type=content_type,
                 route=route)  # fmt: skip
            query = {name: world.queries.get(name, "1") for name in sorted(reads)}
            send(world, client, method, url, query=query, body=encoded(real_body),
                 content_type=content_type, route=route)  # fmt: skip
        names = sorted(reads)
        query = {name: world.queries.get(name, "1") for name in names}
        if suffix or route.name in SLOW_ROUTES:
            continue
        # 2. Each name read, with each bad value; the admin (Django's own code) gets every name
        # bad at once, which keeps the walk short.
        groups = [names] if admin else [[name] for name in names]
        for group in groups:
            for value in TEXT_VALUES:
                bad = {**query, **dict.fromkeys(group, value)}
                if method == "GET":
                    send(world, client, method, url, query=bad, route=route)
                elif form:
                    plain = {key: str(item) for key, item in {**real_body, **bad}.items()}
                    send(world, client, method, url, body=urlencode(plain),
                         content_type=content_type, route=route)  # fmt: skip
        if method == "GET":
            continue
        # 3. Bodies: deep, oversized, and (JSON) each value of the real body made bad.
        for deep in DEEP_JSON:
            send(world, client, method, url, body=deep, route=route)
        send(world, client, method, url, body=b"x" * (BODY_LIMIT + 1),
             content_type=content_type, route=route)  # fmt: skip
        if not form:
            body = real_body or dict.fromkeys(names, "1")
            for path in _leaves(body):
                for value in JSON_VALUES:
                    send(world, client, method, url, body=_json(_replaced(body, path, value)),
                         route=route)  # fmt: skip
    # 4. Each path parameter, with each bad value.
    for name in route.parameters:
        for value in PATH_VALUES:
            bad_url = route.url({**world.real_path(route), name: value})
            send(world, client, route.methods[0], bad_url, route=route)
    # 5. Headers and cookies.
    for extra in BAD_HEADERS:
        send(world, client, route.methods[0], url, extra=extra, route=route)


def test_every_route_refuses_bad_input_without_a_server_error(world, settings, monkeypatch):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BODY_LIMIT
    recorder = ReadRecorder(monkeypatch)
    walked = 0
    for route in routes():
        if route.template is None:
            continue  # test_every_route_can_be_walked says which
        with transaction.atomic():
            _walk_route(world, recorder, route)
            transaction.set_rollback(True)
        walked += 1

    assert walked > 100
    assert not world.failures, f"{len(world.failures)} failures:\n" + "\n".join(world.failures[:40])


def test_every_route_can_be_walked(world):
    """The walk's completeness: each route's URL can be built, resolves back to it, and each
    of its path parameters has a real value."""
    problems = []
    for route in routes():
        if route.template is None:
            problems.append(f"{route.route}: no URL template")
            continue
        missing = [
            name for name in route.parameters if name != "format" and name not in world.path_values
        ]
        if missing:
            problems.append(f"{route.route}: no real value for {missing}")
            continue
        url = route.url(world.real_path(route))
        if resolve(url).route != route.route:
            problems.append(f"{route.route}: {url} resolves to {resolve(url).route}")

    assert not problems, "\n".join(problems)
