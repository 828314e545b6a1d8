"""The partner scanner page: open to a paired device, paired by a co-manager, self-contained."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.urls import reverse
from django.utils import translation

from passes import codec
from passes.models import PartnerKey, Scan
from web.scanner_views import OFFLINE_ASSETS, PAIRING_COOKIE

from .conftest import partner_client

pytestmark = pytest.mark.django_db

SCANNER = "/lecteur/"
PAIR = "/lecteur/appairer/"
PAIRED = "/lecteur/appairer/ok/"
STATIC_DIR = Path(settings.BASE_DIR) / "web" / "static" / "web"


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and leaves it active afterwards."""
    with translation.override(translation.get_language()):
        yield


def json_block(page: str, element_id: str):
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S
    )
    assert match, f"no JSON block #{element_id}"
    return json.loads(match.group(1))


def data_attribute(page: str, name: str) -> str | None:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def pair(client, space):
    """A co-manager's browser pairs for `space`; returns the page after the redirect."""
    response = client.post(PAIR, {"space": space.pk})
    assert response.status_code == 302
    assert response["Location"] == PAIRED
    return client.get(PAIRED)


# --- The scanner page ------------------------------------------------------------------------


def test_the_scanner_page_opens_without_logging_in(client):
    response = client.get(SCANNER)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="scanner"' in page
    assert data_attribute(page, "scan-url") == "/api/v1/scans/"
    assert data_attribute(page, "batch-url") == "/api/v1/scans/batch/"
    assert data_attribute(page, "keys-url") == "/api/v1/network/keys/"
    assert data_attribute(page, "revocations-url") == "/api/v1/network/revocations/"


def test_the_scanner_page_gives_the_reasons_in_words_in_french(client):
    page = client.get(SCANNER).content.decode()

    labels = json_block(page, "scanner-reasons")
    assert set(labels) == set(Scan.Reason.values)
    assert labels["host_full"] == "Le lieu a atteint sa capacité de visiteurs pour aujourd'hui."
    assert labels["stale_code"] == "Code périmé ou déjà utilisé ailleurs (capture d'écran ?)."
    words = json_block(page, "scanner-text")
    assert words["accepted"] == "Accepté"
    assert words["refused"] == "Refusé"
    assert words["already_checked_in"] == "Déjà enregistré aujourd'hui"
    assert words["banner_offline_other"] == "Hors ligne — %(count)s passages en attente"
    assert '<html lang="fr"' in page


def test_the_scanner_page_gives_the_reasons_in_english_with_accept_language_en(client):
    page = client.get(SCANNER, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    labels = json_block(page, "scanner-reasons")
    assert labels["host_full"] == "The space has reached its visitor capacity for today."
    assert labels["stale_code"] == "Outdated code, or already used elsewhere (screenshot?)."
    words = json_block(page, "scanner-text")
    assert words["accepted"] == "Accepted"
    assert words["refused"] == "Refused"
    assert words["id_check"] == "Check an ID document"
    assert '<html lang="en"' in page


def test_the_scanner_page_has_no_inline_script(client):
    page = client.get(SCANNER).content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    for attributes, body in scripts:  # data blocks, or files: a CSP without 'unsafe-inline'
        assert 'type="application/json"' in attributes or ("src=" in attributes and not body)
    assert not re.search(r"\son[a-z]+=", page)  # no onclick= and the like either


@pytest.mark.parametrize("path", [SCANNER, PAIR, PAIRED])
def test_the_pages_reach_no_other_host(client, dominique, path):
    client.force_login(dominique)

    page = client.get(path).content.decode()

    others = [url for url in re.findall(r"https?://[^\s\"'<>]+", page) if "testserver" not in url]
    assert others == []


def test_the_static_files_and_their_licenses_are_there():
    for path in [
        "web/scanner.js",
        "web/scanner-verify.js",
        "web/scanner.css",
        "web/scanner-sw.js",
        "web/vendor/jsQR.js",
        "web/vendor/jsQR.LICENSE.txt",
        "web/vendor/noble-ed25519.js",
        "web/vendor/noble-ed25519.LICENSE.txt",
        *OFFLINE_ASSETS,
    ]:
        assert finders.find(path), path
    assert "function jsQR" in (STATIC_DIR / "vendor" / "jsQR.js").read_text() or (
        'root["jsQR"]' in (STATIC_DIR / "vendor" / "jsQR.js").read_text()
    )
    assert "verifyAsync" in (STATIC_DIR / "vendor" / "noble-ed25519.js").read_text()


def test_the_service_worker_is_served_under_the_scanner_scope(client):
    response = client.get("/lecteur/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    source = response.content.decode()
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", source).group(1))
    assert precache[0] == SCANNER
    assert f"{settings.STATIC_URL}web/scanner.js" in " ".join(precache)
    assert 'addEventListener("fetch"' in source


# --- Pairing ---------------------------------------------------------------------------------


def test_pairing_asks_an_anonymous_visitor_to_log_in(client, mutualab):
    response = client.get(PAIR)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    assert client.post(PAIR, {"space": mutualab.pk}).status_code == 302
    assert not PartnerKey.objects.exists()


def test_a_plain_member_cannot_pair_a_scanner(client, alice, mutualab):
    client.force_login(alice)

    assert client.get(PAIR).status_code == 403
    assert client.post(PAIR, {"space": mutualab.pk}).status_code == 403
    assert not PartnerKey.objects.exists()


def test_the_pairing_page_lists_only_the_co_managers_spaces(client, camille, mutualab, filature):
    client.force_login(camille)

    response = client.get(PAIR)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'name="space" value="{mutualab.pk}"' in page
    assert "Mutualab" in page
    assert f'value="{filature.pk}"' not in page
    assert "La Filature" not in page


def test_pairing_creates_a_key_for_the_chosen_space(client, camille, mutualab):
    client.force_login(camille)

    pair(client, mutualab)

    partner_key = PartnerKey.objects.get()
    assert partner_key.space == mutualab
    assert partner_key.name.startswith("Navigateur – ")
    assert partner_key.created_by == camille
    assert not partner_key.revoked


def test_a_co_manager_cannot_pair_for_another_space(client, camille, mutualab, filature):
    client.force_login(camille)

    response = client.post(PAIR, {"space": filature.pk})

    assert response.status_code == 404
    assert PAIRING_COOKIE not in response.cookies
    assert not PartnerKey.objects.exists()
    assert client.post(PAIR, {}).status_code == 404
    assert client.post(PAIR, {"space": "mutualab"}).status_code == 404


def test_the_new_key_reaches_the_page_once(client, camille, mutualab):
    client.force_login(camille)

    first = pair(client, mutualab)

    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    page = first.content.decode()
    key = data_attribute(page, "partner-key")
    assert key
    assert data_attribute(page, "space-name") == "Mutualab"
    assert data_attribute(page, "scanner-url") == SCANNER
    assert PartnerKey.objects.get_from_key(key).space == mutualab
    assert first.cookies[PAIRING_COOKIE].value == ""  # the page deletes what carried it

    again = client.get(PAIRED).content.decode()

    assert key not in again
    assert data_attribute(again, "partner-key") is None


def test_the_new_key_is_stored_hashed_only(client, camille, mutualab):
    client.force_login(camille)
    key = data_attribute(pair(client, mutualab).content.decode(), "partner-key")
    secret = key.split(".", 1)[1]

    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # names from introspection
            found += [table for row in cursor.fetchall() for cell in row if secret in str(cell)]

    assert found == []
    assert PartnerKey.objects.get_from_key(key).space == mutualab


def test_a_forged_pairing_cookie_hands_over_nothing(client, camille):
    client.force_login(camille)
    client.cookies[PAIRING_COOKIE] = json.dumps({"key": "forged.key", "space_name": "X"})

    page = client.get(PAIRED).content.decode()

    assert "forged.key" not in page
    assert data_attribute(page, "partner-key") is None


def test_the_paired_key_speaks_for_its_space(client, camille, mutualab, network, signing):
    client.force_login(camille)
    key = data_attribute(pair(client, mutualab).content.decode(), "partner-key")
    device = partner_client(key)

    info = device.get("/lecteur/appareil/")

    assert info.status_code == 200
    assert info.json() == {
        "space": {"slug": "mutualab", "name": "Mutualab"},
        "key": {"prefix": PartnerKey.objects.get().prefix, "name": PartnerKey.objects.get().name},
    }
    assert device.get("/api/v1/network/keys/").status_code == 200
    assert device.get("/api/v1/network/revocations/").status_code == 200


def test_the_device_view_needs_a_valid_partner_key(client):
    assert client.get("/lecteur/appareil/").status_code == 401
    assert partner_client("nope.nope").get("/lecteur/appareil/").status_code == 401


# --- The JavaScript offline verifier ---------------------------------------------------------
# scanner-verify.js ports passes/offline.py; a browser test runs it on real credentials. Without
# a browser, at least its constants and the order of its reasons must follow the Python ones.


def _verifier_source() -> str:
    return (STATIC_DIR / "scanner-verify.js").read_text(encoding="utf-8")


def _function(source: str, name: str) -> str:
    start = source.index(f"function {name}(")
    end = source.index("\n}\n", start)
    return source[start:end]


def test_the_javascript_verifier_keeps_the_codec_constants():
    source = _verifier_source()

    def constant(name: str) -> str:
        return re.search(rf"export const {name} = ([^;]+);", source).group(1).strip()

    assert constant("PREFIX") == f'"{codec.PREFIX}"'
    assert int(constant("BODY_SIZE")) == codec.BODY.size
    assert int(constant("SIGNATURE_SIZE")) == codec.SIGNATURE_SIZE
    assert int(constant("WINDOW_SECONDS")) == codec.WINDOW_SECONDS
    assert int(constant("CLOCK_SKEW_SECONDS")) == codec.CLOCK_SKEW_SECONDS
    assert int(constant("STATIC_COUNTER")) == codec.STATIC_COUNTER
    assert json.loads(constant("COUNTER_WINDOW").split("//")[0]) == list(codec.COUNTER_WINDOW)
    assert 'encoder.encode("CP1-RL")' in source


def test_the_javascript_verifier_gives_the_reasons_in_the_python_order():
    source = _verifier_source()
    verify = _function(source, "verifyOffline")
    validity = _function(source, "validityError")

    order = ["malformed", *re.findall(r'"([a-z_]+)"', validity + verify)]
    order = [code for code in order if code in Scan.Reason.values]

    assert order == [
        "malformed",
        "expired",
        "not_yet_valid",
        "stale_code",
        "unknown_key",
        "bad_signature",
        "online_only",
        "revoked",
        "suspended",
        "account_inactive",
        "not_in_network",
    ]
    # validityError is called after the signature check, as in OfflineVerifier.verify.
    assert (
        verify.index('"bad_signature"')
        < verify.index("validityError(")
        < verify.index('"online_only"')
    )
