"""`Authorization: Api-Key <key>`: a partner space's scanner. Keys are stored hashed."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from passes.models import PartnerKey

KEYWORD = "Api-Key"


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """Sets request.auth to the PartnerKey; request.user stays anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("Clé de lecteur absente.")
        try:
            partner_key = PartnerKey.objects.get_from_key(key)
        except PartnerKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Clé de lecteur inconnue ou révoquée.") from None
        now = timezone.now()
        if partner_key.last_used_at is None or (now - partner_key.last_used_at).seconds > 300:
            PartnerKey.objects.filter(pk=partner_key.pk).update(last_used_at=now)
        return AnonymousUser(), partner_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = PartnerKeyAuthentication
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` — a partner space's scanner key.",
        }
