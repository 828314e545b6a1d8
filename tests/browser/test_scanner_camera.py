"""The partner scanner: paired by a co-manager, it reads a ch'tipass through the camera.

Chromium's fake camera plays a Y4M file showing alice's QR code; the page decodes it with the
vendored jsQR and asks the server. A refused credential typed into the USB field shows why.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import expect

from passes.models import Scan, Visit

from ..conftest import rotating_credential
from .conftest import login, qr_image, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def reason_in_words(code: str) -> str:
    with translation.override("fr"):
        return str(Scan.Reason(code).label)


def tampered(credential: str) -> str:
    """The same credential with one character of the signature changed (still canonical)."""
    position = 100  # well inside the signature: the body ends at character 4 + 39
    replacement = "A" if credential[position] != "A" else "B"
    return credential[:position] + replacement + credential[position + 1 :]


def pair_as_co_manager(page, co_manager) -> None:
    """The co-manager pairs this browser from /lecteur/appairer/ and lands on the scanner."""
    login(page, co_manager.email)
    page.goto("/lecteur/appairer/")
    page.get_by_role("button", name="Créer la clé et ouvrir le lecteur").click()
    page.wait_for_url("**/lecteur/")
    expect(page.locator("#scanner-paired")).to_be_visible()


def test_the_scanner_reads_a_pass_through_the_camera_and_accepts_it(
    page, network_guard, screenshot, fake_camera, dominique, filature, alice, alice_pass
):
    pair_as_co_manager(page, dominique)
    expect(page.locator("#scanner-space")).to_have_text("La Filature")
    expect(page.locator("#scanner-sync-status")).to_contain_text("Clés et liste de révocation")
    assert page.evaluate("localStorage.getItem('chtipass.scanner.key')")

    fake_camera.show(qr_image(rotating_credential(alice_pass)))
    page.get_by_role("button", name="Activer la caméra").click()

    expect(page.locator("#scanner-video")).to_be_visible()
    expect(page.locator("#scanner-result-title")).to_have_text("Accepté")
    expect(page.locator("#scanner-result")).to_have_class("scanner-result is-accepted")
    expect(page.locator("#scanner-result-name")).to_have_text("Alice")
    expect(page.locator("#scanner-result-offline")).to_be_hidden()
    visit = wait_for(
        lambda: Visit.objects.filter(member=alice, host=filature).first(), what="the visit"
    )
    assert visit.home.slug == "mutualab"
    assert visit.uses_allowance
    screenshot(page, "accepted")

    page.get_by_role("button", name="Arrêter la caméra").click()
    expect(page.locator("#scanner-video")).to_be_hidden()
    assert Visit.objects.count() == 1  # the code stayed in front of the camera: read once
    assert page.javascript_errors == []
    network_guard.assert_only_the_server()


def test_a_refused_credential_shows_its_reason_in_words(
    page, network_guard, screenshot, dominique, filature, alice, alice_pass
):
    pair_as_co_manager(page, dominique)
    wedge = page.locator("#scanner-wedge")
    title = page.locator("#scanner-result-title")
    reason = page.locator("#scanner-result-reason")

    wedge.fill(tampered(rotating_credential(alice_pass)))
    wedge.press("Enter")

    expect(title).to_have_text("Refusé")
    expect(page.locator("#scanner-result")).to_have_class("scanner-result is-refused")
    expect(reason).to_have_text(reason_in_words("bad_signature"))
    screenshot(page, "bad-signature")

    wedge.fill("HELLO-NOT-A-PASS")
    wedge.press("Enter")

    expect(reason).to_have_text(reason_in_words("malformed"))
    expect(title).to_have_text("Refusé")
    history = page.locator("#scanner-history li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text(reason_in_words("malformed"))
    expect(history.nth(1)).to_contain_text(reason_in_words("bad_signature"))
    screenshot(page, "malformed")

    assert not Visit.objects.exists()
    assert page.javascript_errors == []
    network_guard.assert_only_the_server()
