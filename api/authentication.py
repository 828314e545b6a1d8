"""`Authorization: Api-Key <key>`: a partner space's scanner. Keys are stored hashed."""

from __future__ import annotations

import copy

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from coworking.memo import SecretMemo
from passes.models import PartnerKey
from passes.partner_keys import partner_key_for

KEYWORD = "Api-Key"
# `last_used_at` is written at most this often (seconds), not on every scan.
LAST_USED_PRECISION = 300


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """Sets request.auth to the PartnerKey; request.user stays anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _separator, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(_("Clé de lecteur absente."))
        try:
            partner_key = partner_key_for(key)
        except PartnerKey.DoesNotExist:
            raise exceptions.AuthenticationFailed(
                _("Clé de lecteur inconnue ou révoquée.")
            ) from None
        # `get_from_key` checks the hash and `revoked`, not the expiry date set in the admin.
        if partner_key.has_expired:
            raise exceptions.AuthenticationFailed(_("Clé de lecteur expirée."))
        now = timezone.now()
        last_used = partner_key.last_used_at
        if last_used is None or (now - last_used).total_seconds() > LAST_USED_PRECISION:
            PartnerKey.objects.filter(pk=partner_key.pk).update(last_used_at=now)
            partner_key.last_used_at = now
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


# --- Member tokens ---------------------------------------------------------------------------

# Each API request of a member names a token: each process keeps the tokens it has checked for
# this long (seconds), so that a request costs no token query. Deleting a token (logout, erasure)
# or saving a member (deactivated, erased) forgets them all at once in the process that does it,
# by signal (wired in apps.py); another worker follows within this delay.
TOKEN_CACHE_SECONDS = 5.0
_tokens: SecretMemo[tuple] = SecretMemo(TOKEN_CACHE_SECONDS, size=4096)
forget_tokens = _tokens.forget


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token …`, with the token and its member kept in memory briefly."""

    def authenticate_credentials(self, key):
        member, token = _tokens.get(key, super().authenticate_credentials)
        # A copy per request: a view may set attributes on request.user.
        return copy.copy(member), token
