"""Browser tests: headless Chromium from Debian, driven by Playwright, against the live server.

- One Chromium for the whole package (launched from /usr/bin/chromium: never `playwright
  install`), a fresh context (cookies, storage, service workers) per test.
- The live server is pytest-django's `live_server` on 127.0.0.1 (a secure context: the camera
  and service workers work there); tests need `django_db(transaction=True)`.
- Chromium's fake camera plays a Y4M file that a test can replace (`fake_camera.show(...)`).
- Every request a page makes goes through `network_guard`: a request to any host but the live
  server is blocked and fails the test.
- `screenshot(page, step)` saves test-artifacts/screenshots/<test>-<step>-<viewport>.png on a
  phone (390×844) and a desktop (1280×900) viewport, and checks that the page fits each width.

In CI (CI=true) a missing Chromium or Playwright fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from ..conftest import in_ci
from ..factories import PASSWORD
from ..processes import wait_until

# pytest-django reads it when the (session) live server starts: only browser tests use it.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "mobile": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
TIMEOUT_MS = 15_000

CAMERA_WIDTH, CAMERA_HEIGHT, CAMERA_FRAMES = 640, 480, 5


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (fails rather than skips in CI)"
    )


def _unavailable(reason: str):
    """Fail in CI, where Chromium must be there (.ci/run installs it); skip elsewhere."""
    if in_ci():
        pytest.fail(f"{reason} (CI must run browser tests: see .ci/run)", pytrace=False)
    pytest.skip(
        f"{reason}: browser tests skipped (install it with "
        "`apt-get install -y chromium chromium-driver`)"
    )


# --- The fake camera -----------------------------------------------------------------------


def y4m_bytes(image, frames: int = CAMERA_FRAMES) -> bytes:
    """A Y4M video (I420) of `image` (any Pillow image), repeated `frames` times."""
    from PIL import Image

    canvas = Image.new("L", (CAMERA_WIDTH, CAMERA_HEIGHT), 255)
    gray = image.convert("L")
    gray.thumbnail((CAMERA_WIDTH, CAMERA_HEIGHT))
    canvas.paste(gray, ((CAMERA_WIDTH - gray.width) // 2, (CAMERA_HEIGHT - gray.height) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * (CAMERA_WIDTH // 2 * CAMERA_HEIGHT // 2)  # no colour
    header = f"YUV4MPEG2 W{CAMERA_WIDTH} H{CAMERA_HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    return header + (b"FRAME\n" + luma + chroma + chroma) * frames


def qr_image(text: str, box_size: int = 8):
    """A big QR code of `text`, level M like the pass page (a CP1 credential is version 6)."""
    import qrcode

    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image()


class FakeCamera:
    """The file Chromium's fake camera plays; it is read again each time a camera starts."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def show(self, image) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(y4m_bytes(image))
        temporary.replace(self.path)

    def show_blank(self) -> None:
        from PIL import Image

        self.show(Image.new("L", (CAMERA_WIDTH, CAMERA_HEIGHT), 255))


@pytest.fixture(scope="package")
def fake_camera(tmp_path_factory) -> FakeCamera:
    camera = FakeCamera(tmp_path_factory.mktemp("fake-camera") / "camera.y4m")
    camera.show_blank()
    return camera


# --- Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser(fake_camera) -> Iterator:
    """One headless Chromium for every browser test (Playwright's sync API)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the `playwright` package is missing (python3 dev.py installs the dev lock)")
    # Playwright's sync API keeps an event loop running in this thread: Django's ORM would
    # refuse to run in the test itself. Only for as long as the browser tests run.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={fake_camera.path}",
                ],
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class NetworkGuard:
    """Sees every request of a context; lets through only those to the live server."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.seen: list[str] = []
        self.foreign: list[str] = []
        self.in_flight: set = set()

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin

    def note(self, url: str) -> bool:
        self.seen.append(url)
        if self.allowed(url):
            return True
        if url not in self.foreign:
            self.foreign.append(url)
        return False

    def route(self, route, request) -> None:
        if self.note(request.url):
            route.fallback()
        else:
            route.abort("blockedbyclient")

    def on_request(self, request) -> None:
        self.in_flight.add(request)
        # Also what no route saw (answered by a service worker, or before routing applied).
        if request.url not in self.seen:
            self.note(request.url)

    def on_done(self, request) -> None:
        self.in_flight.discard(request)

    def assert_only_the_server(self) -> None:
        assert self.seen, "the guard saw no request at all: is it installed?"
        assert not self.foreign, f"requests to other hosts than {self.origin}: {self.foreign}"


@pytest.fixture
def network_guard(live_server) -> NetworkGuard:
    return NetworkGuard(live_server.url)


@pytest.fixture
def context(browser, live_server, network_guard) -> Iterator:
    """A fresh browser profile in French, in Paris, on a desktop viewport."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS["desktop"],
        locale="fr-FR",
        timezone_id="Europe/Paris",
        service_workers="allow",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route("**/*", network_guard.route)
    context.on("request", network_guard.on_request)
    context.on("requestfinished", network_guard.on_done)
    context.on("requestfailed", network_guard.on_done)
    yield context
    _quiesce(context, network_guard)
    context.close()
    # A safety net for a test that forgot to check: no request may have left the server.
    assert not network_guard.foreign, f"requests to other hosts: {network_guard.foreign}"


def _quiesce(context, guard: NetworkGuard, timeout: float = 5) -> None:
    """Stop the pages' scripts and let their last requests end before the database is flushed:
    the live server would otherwise answer them from a database that is being torn down."""
    pages = context.pages
    for page in pages:
        with contextlib.suppress(Exception):  # a page that cannot navigate is stopped too
            page.goto("about:blank")
    deadline = time.monotonic() + timeout
    while guard.in_flight and pages and time.monotonic() < deadline:
        pages[0].wait_for_timeout(50)  # lets Playwright deliver the requests' last events


@pytest.fixture
def page(context):
    """A tab; `page.javascript_errors` lists its uncaught errors and console errors (a refused
    Content-Security-Policy shows there), but not failed loads, which going offline causes."""
    page = context.new_page()
    errors: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", console)
    page.javascript_errors = errors
    return page


# --- Helpers -------------------------------------------------------------------------------


def wait_for_async(page, script: str, arg=None, *, timeout: float = 15.0) -> None:
    """Poll an async JavaScript predicate until it resolves truthy.

    `page.wait_for_function` takes the Promise an async function returns for a truthy value and
    stops at once: the condition was never awaited (the offline pass test reloaded before the
    page was in the cache, one run in six). `page.evaluate` awaits it.
    """
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Still false after {timeout}s: {script}")
        page.wait_for_timeout(200)


def login(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the /connexion/ form, as a person would."""
    page.goto("/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


@pytest.fixture
def screenshot(request):
    """screenshot(page, step, viewports=("mobile", "desktop")) -> the PNG paths written."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, step: str, viewports=("mobile", "desktop"), full_page: bool = True):
        """Each viewport in turn: the page must fit its width (no sideways scrolling)."""
        before = page.viewport_size
        paths = []
        for name in viewports:
            page.set_viewport_size(VIEWPORTS[name])
            page.wait_for_timeout(150)  # let the layout settle
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{page.url} is {overflow}px too wide for {name}"
            path = SCREENSHOTS / f"{test}-{step}-{name}.png"
            page.screenshot(path=str(path), full_page=full_page, animations="disabled")
            print(f"screenshot: {path.relative_to(ROOT)}")
            paths.append(path)
        if before:
            page.set_viewport_size(before)
        return paths

    return take


def decode_qr(png: bytes) -> list[str]:
    """The texts of the QR codes in a PNG (zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def wait_for(predicate, *, timeout: float = 10, what: str = "condition"):
    """Poll `predicate` (a database check, typically) until it is true."""
    return wait_until(predicate, timeout=timeout, interval=0.1, what=what)


# --- Data ----------------------------------------------------------------------------------


@pytest.fixture
def signing(db):
    """A signing key valid now (the browser runs on the real clock, not the frozen one)."""
    from passes.keys import signing_key_create

    return signing_key_create(not_before=timezone.now() - dt.timedelta(days=1))
