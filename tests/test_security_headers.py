"""Security headers on every page and API answer (production adds HSTS: see test_deploy)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/connexion/", "/api/v1/spaces/", "/api/v1/docs/", "/health/"])
def test_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_api_docs_page_has_no_inline_script(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "<script>" not in html.replace(" ", "")
    assert "cdn." not in html
