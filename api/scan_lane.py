"""The scanner's fast lane: `POST /api/v1/scans/` answered without Django's full request cycle
when the answer is an acceptance.

A front desk in the morning rush, or a network of them, sends scans that are nearly all accepted
first check-ins. For those, the full stack (a dozen middlewares, DRF's negotiation, parsers,
serializer, renderer and a connection health check) costs more CPU than the scan itself. This
WSGI wrapper takes only the plain case: a valid host, a known and fresh partner key within its
throttle, a JSON body with a `credential` (and maybe a `nonce`), and an acceptance from
`passes.scanning._accept_fast` (one statement on PostgreSQL). Anything else — a missing key, a
bad body, a refusal, an offline upload, SQLite, a database error before the answer — goes to the
full stack untouched, which answers as it always did. The lane never writes an error itself, so
every error shape and every refusal reason stays in one place.

Headers: the lane runs the response hooks of the middlewares that add headers to an API answer
(locale, common, clickjacking, CSP, security) and adds DRF's `Allow` and `Vary: Accept`; a test
compares its answers with the full stack's, header for header and byte for byte.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from passes.models import PartnerKey
from passes.partner_keys import partner_key_for
from passes.scanning import ScanRequest, accept_fast

from .authentication import KEYWORD, LAST_USED_PRECISION
from .passes_serializers import ScanRequestSerializer
from .passes_views import LANE_COUNTED, PartnerThrottle, ScanView

logger = logging.getLogger(__name__)

PATH = "/api/v1/scans/"
MAX_BODY = 2048


def _unused(request):  # middlewares want a next step; the lane never calls it
    raise AssertionError("the scan lane has no next step")


class ScanFastLane:
    def __init__(self, application) -> None:
        self.application = application
        view = ScanView()
        view.setup(None)  # as as_view() does: a view with GET answers HEAD too
        self._allow = ", ".join(view.allowed_methods)
        self._header_sets: dict[tuple, list[tuple[str, str]]] = {}
        self._request_hooks = [LocaleMiddleware(_unused), CSPMiddleware(_unused)]
        # In the order Django runs response hooks: the reverse of settings.MIDDLEWARE.
        self._response_hooks = [
            CSPMiddleware(_unused),
            XFrameOptionsMiddleware(_unused),
            CommonMiddleware(_unused),
            LocaleMiddleware(_unused),
            SecurityMiddleware(_unused),
        ]

    def __call__(self, environ: dict[str, Any], start_response):
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") == "POST"
            and settings.SCAN_FAST_PATH
        ):
            answered = self._answer(environ)
            if answered is not None:
                headers, body = answered
                start_response("200 OK", headers)
                return [body]
        return self.application(environ, start_response)

    def _answer(self, environ: dict[str, Any]) -> tuple[list[tuple[str, str]], bytes] | None:
        # A broken connection fails a statement below, and the full stack then reconnects:
        # no `SELECT 1` health check before each scan.
        connection.health_check_done = True
        try:
            accepted = self._accept(environ)
        except DatabaseError:
            logger.warning("Scan lane: the database said no; the full stack takes the scan.")
            connection.close()
            return None
        finally:
            if not connection.in_atomic_block:  # as Django does at the end of a request
                connection.close_if_unusable_or_obsolete()
        if accepted is None:
            return None
        request, answer = accepted
        # As DRF's JSONRenderer writes it (compact, UTF-8, U+2028/2029 escaped).
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        body = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        return [*self._headers(request), ("Content-Length", str(len(body)))], body

    def _accept(self, environ: dict[str, Any]) -> tuple[WSGIRequest, dict] | None:
        """The acceptance, recorded, if this is the plain case; else None, having changed
        nothing but the throttle count (which the full stack then does not count again)."""
        plain = self._plain_request(environ)
        if plain is None:
            return None
        request, partner_key, data = plain
        if not PartnerThrottle().allow_request(_ThrottleRequest(partner_key), ScanView):
            return None
        environ[LANE_COUNTED] = True
        scan = ScanRequest(
            host=partner_key.space,
            credential=data["credential"],
            nonce=data.get("nonce"),
            partner_key=partner_key,
        )
        answer = accept_fast(scan)
        return None if answer is None else (request, answer)

    def _plain_request(
        self, environ: dict[str, Any]
    ) -> tuple[WSGIRequest, PartnerKey, dict] | None:
        """The request, its partner key and its body, if this is the plain case; else None."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        request = WSGIRequest(environ)
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        if request.content_type != "application/json":
            return None
        keyword, _separator, key = request.headers.get("Authorization", "").partition(" ")
        if keyword != KEYWORD or not key.strip():
            return None
        body = request.body
        environ["wsgi.input"] = io.BytesIO(body)  # the full stack reads it again if need be
        try:
            partner_key = partner_key_for(key.strip())
        except PartnerKey.DoesNotExist:
            return None
        last_used = partner_key.last_used_at
        if partner_key.has_expired or last_used is None:
            return None
        if (timezone.now() - last_used).total_seconds() > LAST_USED_PRECISION:
            return None  # the full stack writes `last_used_at`
        data = _scan_body(body)
        return None if data is None else (request, partner_key, data)

    def _headers(self, request: WSGIRequest) -> list[tuple[str, str]]:
        """The headers the full stack would send with this answer, but Content-Length.

        They depend on the request only through its language and whether it came over HTTPS:
        computed once through the middlewares' own hooks for each such pair, then reused (unless
        the security policy carries a per-request nonce)."""
        cookie = None
        if "HTTP_COOKIE" in request.META:
            cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        key = (request.META.get("HTTP_ACCEPT_LANGUAGE"), cookie, request.is_secure())
        headers = self._header_sets.get(key)
        if headers is not None:
            return headers
        for hook in self._request_hooks:
            hook.process_request(request)
        response = HttpResponse(b"", content_type="application/json")
        patch_vary_headers(response, ["Accept"])
        response["Allow"] = self._allow
        for hook in self._response_hooks:
            response = hook.process_response(request, response)
        headers = [(name, value) for name, value in response.items() if name != "Content-Length"]
        if not any("'nonce-" in value for _name, value in headers):
            if len(self._header_sets) > 256:
                self._header_sets.clear()
            self._header_sets[key] = headers
        return headers


class _ThrottleRequest:
    """What PartnerThrottle reads of a request."""

    def __init__(self, partner_key: PartnerKey) -> None:
        self.auth = partner_key
        self.META: dict[str, Any] = {}


# The serializer's own limits: the lane takes no body the full stack would refuse.
_TEXT_LIMITS = tuple(
    (name, ScanRequestSerializer().fields[name].max_length) for name in ("credential", "nonce")
)


def _scan_body(body: bytes) -> dict[str, str] | None:
    """`{"credential": …, "nonce"?: …}` as ScanRequestSerializer would accept it, else None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.keys() <= {"credential", "nonce"}:
        return None
    clean = {}
    for name, limit in _TEXT_LIMITS:
        if name not in data:
            continue
        value = data[name]
        if not isinstance(value, str) or "\x00" in value:
            return None
        value = value.strip()
        if not value or len(value) > limit:
            return None
        clean[name] = value
    return clean if "credential" in clean else None
