"""The OpenAPI schema and the interactive docs, served without any third-party host (SPEC §5)."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

SCHEMA_URL = "/api/v1/schema/"
DOCS_URL = "/api/v1/docs/"


@pytest.fixture
def schema(client) -> dict:
    response = client.get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_anyone_downloads_the_schema(client):
    response = client.get(SCHEMA_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


@pytest.mark.django_db
def test_the_schema_is_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "ch'tipass API"

    validate_schema(schema)  # raises jsonschema.ValidationError when invalid


@pytest.mark.django_db
def test_the_schema_generates_without_warnings():
    # Warnings mean guessed types, e.g. a booking id typed as a string.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null", stdout=io.StringIO()
    )


@pytest.mark.django_db
def test_the_schema_documents_the_booking_contract(schema):
    paths = schema["paths"]

    for path, method in [
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/me/", "get"),
        ("/api/v1/spaces/", "get"),
        ("/api/v1/spaces/{slug}/", "get"),
        ("/api/v1/spaces/{slug}/resources/", "get"),
        ("/api/v1/spaces/{slug}/availability/", "get"),
        ("/api/v1/bookings/", "get"),
        ("/api/v1/bookings/", "post"),
        ("/api/v1/bookings/{id}/", "delete"),
        ("/api/v1/bookings/recurring/", "post"),
        ("/api/v1/booking-series/{id}/cancel/", "post"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not documented"
    parameters = paths["/api/v1/bookings/{id}/"]["delete"]["parameters"]
    booking_id = next(p for p in parameters if p["name"] == "id")
    assert booking_id["schema"]["type"] == "integer"
    availability = paths["/api/v1/spaces/{slug}/availability/"]["get"]
    assert {p["name"] for p in availability["parameters"]} >= {"slug", "date"}


@pytest.mark.django_db
def test_the_docs_page_renders(client):
    response = client.get(DOCS_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in response.content


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_another_host(client):
    html = client.get(DOCS_URL).content.decode()

    assert "cdn" not in html.lower()
    assert re.findall(r"https?://", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page should load the vendored swagger assets"
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset


@pytest.mark.django_db
def test_the_swagger_assets_are_vendored_in_the_static_files(client):
    html = client.get(DOCS_URL).content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)

    assert {asset.rsplit("/", 1)[-1] for asset in assets} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        assert finders.find(asset), f"{asset} is not in the static files"
