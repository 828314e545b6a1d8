"""Requests that no view can serve are answered here, with a 4xx or a 503, never a traceback.

- `RequestInputMiddleware` refuses, before any view runs, input that no database column can
  hold or that Django would refuse later with a bare HTML page: NUL and lone surrogates in the
  path, query string, cookies or headers (PostgreSQL refuses NUL in text; a surrogate cannot be
  encoded), too many query fields, and a body larger than the server reads.
- `DatabaseUnavailableMiddleware` answers a database outage with 503, a deadlock with 409.

Under /api/ the answer has the API's error shape (SPEC §5); elsewhere it is a page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.core.validators import ProhibitNullCharactersValidator
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import ERROR_PAGE_TEMPLATE, bad_request
from rest_framework.validators import ProhibitSurrogateCharactersValidator

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"


# Deadlock and serialization failures are OperationalErrors too, but the database is up: the
# client should simply try again at once.
RETRYABLE_SQLSTATES = {"40P01", "40001"}

SURROGATE = re.compile("[\ud800-\udfff]")
NUL = "\x00"


def is_api_request(request: HttpRequest) -> bool:
    """Whether an error should be answered in the API's shape rather than as a page."""
    return request.path.startswith(API_PREFIX)


def api_error(code: str, detail: str, status: int, fields: dict | None = None) -> JsonResponse:
    """The API's error shape (SPEC §5), for answers given outside a DRF view."""
    return JsonResponse(
        {"code": code, "detail": detail, "fields": fields or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},  # as DRF writes it
    )


def too_large_detail(limit: int) -> str:
    return _("Requête trop volumineuse : %(limit)s octets au plus.") % {"limit": limit}


def too_many_fields_detail() -> str:
    return _("Trop de paramètres dans la requête.")


def unstorable_text(text: str) -> tuple[str, str] | None:
    """(code, message) when `text` holds a character no text column can store: NUL, which
    PostgreSQL refuses, or a lone surrogate, which has no UTF-8 form. The codes and messages are
    those of the Django and DRF validators that refuse the same characters in a form field."""
    if NUL in text:
        validator = ProhibitNullCharactersValidator()
        return validator.code, str(validator.message)
    surrogate = SURROGATE.search(text)
    if surrogate:
        surrogates = ProhibitSurrogateCharactersValidator()
        return surrogates.code, str(surrogates.message).format(code_point=ord(surrogate.group()))
    return None


def _request_line_texts(request: HttpRequest) -> Iterator[tuple[str | None, str]]:
    """(query parameter name or None, text) for everything a view may read besides the body."""
    yield None, request.path_info
    for name, values in request.GET.lists():
        yield (name if unstorable_text(name) is None else None), name
        for value in values:
            yield name, value
    for name, value in request.COOKIES.items():
        yield None, name
        yield None, value
    for name, value in request.META.items():
        if (name.startswith("HTTP_") or name == "CONTENT_TYPE") and isinstance(value, str):
            yield None, value


def _body_limit(request: HttpRequest) -> int | None:
    """The largest body this request may have: uploads (multipart) have their own limit."""
    if request.content_type == "multipart/form-data":
        return settings.UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _content_length(request: HttpRequest) -> int:
    try:  # as Django reads it: a missing or malformed length is no body
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RequestInputMiddleware:
    """Refuses unreadable input early: 400 with the refusing validator's code, 413 for a body
    too large (checked on its declared length, before a byte of it is read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        limit = _body_limit(request)
        if limit is not None and _content_length(request) > limit:
            return self._answer(request, "payload_too_large", too_large_detail(limit), 413)
        try:
            texts = list(_request_line_texts(request))
        except TooManyFieldsSent:
            return self._answer(request, "too_many_fields", too_many_fields_detail(), 400)
        for name, text in texts:
            problem = unstorable_text(text)
            if problem is not None:
                code, message = problem
                fields = {name: [message]} if name is not None else {}
                return self._answer(request, code, message, 400, fields)
        return None

    @staticmethod
    def _answer(
        request: HttpRequest, code: str, detail: str, status: int, fields: dict | None = None
    ) -> HttpResponse:
        if is_api_request(request):
            return api_error(code, detail, status, fields)
        if status == 400:
            return bad_request(request, None)  # type: ignore[arg-type]  # Django's takes None
        page = ERROR_PAGE_TEMPLATE % {"title": "Content Too Large (413)", "details": ""}
        return HttpResponse(page, status=status)


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _is_outage(error: Exception) -> bool:
    # Connection failures, not application errors (constraint violations are IntegrityError).
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    )


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if _sqlstate(exception) in RETRYABLE_SQLSTATES:
            logger.warning("Transaction to retry: %s", exception)
            response = api_error("retry", _("Conflit momentané : réessayez."), 409)
            response["Retry-After"] = "1"
            return response
        if not _is_outage(exception):
            return None
        logger.error("Database unavailable: %s", exception)
        detail = _("Le service est momentanément indisponible. Réessayez dans un instant.")
        if is_api_request(request):
            response = api_error("service_unavailable", detail, 503)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
