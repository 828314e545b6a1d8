"""A member opens her ch'tipass: a QR code of a valid credential of her pass, offline too."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from passes import codec
from passes.keys import verifying_key

from ..processes import wait_until
from .conftest import decode_qr, login, wait_for_async

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASS_CACHE = "chtipass-pass-v1"


def shown_credential(page) -> str:
    """The credential the QR code on the page encodes, read back from a screenshot of it.

    The code changes every 30 seconds: the text beside it is read before and after, and the
    reading is kept only when all three agree.
    """
    qr = page.locator("#pass-qr")
    text = page.locator("#pass-credential")

    def agreeing_reading() -> str | None:
        before = text.text_content()
        decoded = decode_qr(qr.screenshot())
        after = text.text_content()
        return before if before == after and decoded == [before] else None

    return wait_until(
        agreeing_reading, timeout=10, interval=0.5, what="the QR code to match the code shown"
    )


def assert_valid_credential_of(credential: str, pass_obj, *, later: float = 0) -> None:
    """`credential` is one of `pass_obj`'s rotating codes, valid now (or `later` seconds on)."""
    claims = codec.verify(credential, lambda kid: verifying_key(kid, timezone.now()))
    codec.check_validity(claims, time.time() + later)  # raises CredentialError (stale_code…)
    assert claims.pass_id == pass_obj.pk
    assert claims.member_id == pass_obj.member_id
    assert claims.home_space_id == pass_obj.membership.space_id
    assert not claims.is_static  # a rotating code, never the printed card's


def open_pass_and_wait_for_the_days_codes(page) -> None:
    """Open /pass/ and wait until pass.js has stored the rest of the day's codes."""
    with page.expect_response(lambda response: "/api/v1/me/pass/?windows=" in response.url) as api:
        page.goto("/pass/")
    assert api.value.status == 200
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('chtipass.pass')) || {}).credentials?.length > 2"
    )


def seconds_to_midnight() -> float:
    now = timezone.localtime()
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def cached_urls(page) -> list[str]:
    return page.evaluate(
        """async (name) => {
            const cache = await caches.open(name);
            return (await cache.keys()).map((request) => new URL(request.url).pathname);
        }""",
        PASS_CACHE,
    )


def test_a_member_opens_her_pass_and_the_qr_code_is_a_valid_credential_of_it(
    page, network_guard, screenshot, alice, alice_pass
):
    login(page, alice.email)
    open_pass_and_wait_for_the_days_codes(page)

    expect(page.locator("#pass-qr svg")).to_be_visible()
    expect(page.locator(".pass-name")).to_have_text("Alice")
    expect(page.locator("#pass-status")).to_contain_text("Prêt hors ligne jusqu'à")
    expect(page.locator("#pass-countdown")).to_contain_text("Nouveau code dans")
    assert_valid_credential_of(shown_credential(page), alice_pass)
    stored = page.evaluate("JSON.parse(localStorage.getItem('chtipass.pass'))")
    assert stored["passId"] == alice_pass.pk
    assert len(stored["credentials"]) > 2
    screenshot(page, "pass")

    assert page.javascript_errors == []
    network_guard.assert_only_the_server()


def test_the_pass_reopens_offline_and_still_shows_a_valid_code(
    page, context, network_guard, screenshot, alice, alice_pass
):
    context.clock.install()  # the page's clock, moved on below
    login(page, alice.email)
    open_pass_and_wait_for_the_days_codes(page)
    # The service worker has kept the page and everything it loaded.
    wait_for_async(
        page,
        """async (name) => {
            const cache = await caches.open(name);
            const paths = (await cache.keys()).map((request) => new URL(request.url).pathname);
            return ["/pass/", "pass.js", "qrcode.js", "app.css"].every(
                (end) => paths.some((path) => path.endsWith(end)));
        }""",
        PASS_CACHE,
    )

    context.set_offline(True)
    page.reload()

    expect(page.locator("#pass-offline")).to_be_visible()
    expect(page.locator("#pass-qr svg")).to_be_visible()
    expect(page.locator("#pass-status")).to_contain_text("Prêt hors ligne jusqu'à")
    first = shown_credential(page)
    assert_valid_credential_of(first, alice_pass)
    screenshot(page, "offline")

    # Minutes later, still offline: the page shows the code of that moment from the day's codes
    # it stored (the one the cached page carries is long out of date by then).
    later = min(600, seconds_to_midnight() - 90)
    if later >= 120:
        page.clock.fast_forward(int(later * 1000))
        expect(page.locator("#pass-qr svg")).to_be_visible()
        moved_on = shown_credential(page)
        assert moved_on != first
        assert_valid_credential_of(moved_on, alice_pass, later=later)

    context.set_offline(False)
    assert page.javascript_errors == []
    network_guard.assert_only_the_server()
    assert "/pass/" in cached_urls(page)
