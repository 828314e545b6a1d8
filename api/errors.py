"""One place that turns every error into the shape of SPEC §5: {"code", "detail", "fields"}."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as page_bad_request
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coworking.middleware import (
    api_error,
    is_api_request,
    too_large_detail,
    too_many_fields_detail,
)
from passes.keys import KeyRegistryError
from passes.services import PassError
from spaces.rules import BookingError

DOMAIN_STATUS = {
    "booking_conflict": status.HTTP_409_CONFLICT,
    "already_cancelled": status.HTTP_409_CONFLICT,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "pass_exists": status.HTTP_409_CONFLICT,
    "invalid_transition": status.HTTP_409_CONFLICT,
}


def error_response(
    code: str,
    detail: str,
    http_status: int,
    fields: dict | None = None,
    headers: dict | None = None,
) -> Response:
    return Response(
        {"code": code, "detail": detail, "fields": fields or {}},
        status=http_status,
        headers=headers,
    )


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _suspicious(exc: SuspiciousOperation) -> tuple[str, str, int]:
    """Django's refusals of a request it will not read, which it answers with an HTML 400."""
    # Logged where Django logs them when it answers itself (django.core.handlers.exception).
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
    if isinstance(exc, RequestDataTooBig):  # raised for what Django reads in memory
        return "payload_too_large", too_large_detail(settings.DATA_UPLOAD_MAX_MEMORY_SIZE), 413
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return "too_many_fields", too_many_fields_detail(), 400
    return "bad_request", _("Requête invalide."), 400


def _in_json_when_unnegotiated(request: Any) -> None:
    """An unknown `?format=` fails content negotiation (404), and DRF then writes the error
    with the view's first renderer (the schema's YAML, the docs' HTML): write it in JSON."""
    if request is not None and getattr(request, "accepted_renderer", None) is None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc: Exception, context: dict) -> Response | None:
    _in_json_when_unnegotiated(context.get("request"))
    if isinstance(exc, SuspiciousOperation):
        return error_response(*_suspicious(exc))
    if isinstance(exc, BookingError):
        http_status = DOMAIN_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST)
        fields = {key: value for key, value in exc.fields.items()}
        return error_response(exc.code, exc.message, http_status, fields)
    if isinstance(exc, PassError):
        http_status = DOMAIN_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST)
        return error_response(exc.code, exc.message, http_status)
    if isinstance(exc, KeyRegistryError):
        return error_response("signing_unavailable", str(exc), status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        codes = exc.get_codes()
        first = next(iter(codes.values()), "invalid") if isinstance(codes, dict) else codes
        while isinstance(first, list | dict):
            first = (
                next(iter(first.values()), "invalid")
                if isinstance(first, dict)
                else (first[0] if first else "invalid")
            )
        code = str(first) if first not in {"invalid", "required", "null", "blank"} else "invalid"
        return error_response(
            code,
            _("Données invalides."),
            response.status_code,
            _flatten(fields),
            dict(response.headers),
        )
    # A plain str: an ErrorDetail is a str subclass that non-JSON renderers (the schema's YAML)
    # would write out as an object.
    detail = str(exc.detail)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else str(exc.default_code)
    headers = {
        k: v
        for k, v in response.headers.items()
        if k in {"Retry-After", "WWW-Authenticate", "Allow"}
    }
    return error_response(code, detail, response.status_code, headers=headers)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 for a URL that no route matches (a slug with a space in it, say): under
    /api/, the error shape too, rather than an HTML page that API clients cannot read."""
    if is_api_request(request):
        return api_error("not_found", str(exceptions.NotFound.default_detail), 404)
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 for a request refused outside a DRF view (a SuspiciousOperation raised by a
    middleware, say): under /api/, the error shape."""
    if is_api_request(request):
        if isinstance(exception, SuspiciousOperation):
            code, detail, status = _suspicious(exception)
            return api_error(code, detail, status)
        return api_error("bad_request", _("Requête invalide."), 400)
    return page_bad_request(request, exception)  # type: ignore[arg-type]  # Django's takes None
