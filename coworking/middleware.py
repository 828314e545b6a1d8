"""A database outage answers 503 with a clear error, not a traceback."""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


# Deadlock and serialization failures are OperationalErrors too, but the database is up: the
# client should simply try again at once.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


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
            response = JsonResponse(
                {"code": "retry", "detail": _("Conflit momentané : réessayez."), "fields": {}},
                status=409,
            )
            response["Retry-After"] = "1"
            return response
        if not _is_outage(exception):
            return None
        logger.error("Database unavailable: %s", exception)
        detail = _("Le service est momentanément indisponible. Réessayez dans un instant.")
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"code": "service_unavailable", "detail": detail, "fields": {}}, status=503
            )
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
