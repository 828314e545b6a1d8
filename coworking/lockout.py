"""What a locked-out login gets (django-axes calls this)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _


def lockout_seconds() -> int:
    return int(float(settings.AXES_COOLOFF_TIME) * 3600)


def lockout_response(request, credentials=None, *args, **kwargs):
    detail = _("Trop de tentatives de connexion : réessayez dans %(minutes)d minutes.") % {
        "minutes": max(lockout_seconds() // 60, 1)
    }
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "login_locked", "detail": detail, "fields": {}}, status=429
        )
    else:
        response = HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(lockout_seconds())
    return response
