"""A database outage answers 503 with a clear error, not a traceback."""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


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
