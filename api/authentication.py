"""Who calls the API: a partner space's scanner (`Authorization: Api-Key <key>`) or a member
(`Authorization: Token <key>`). Both kinds of key are stored hashed."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from coworking.tokens import TokenError, token_authenticate
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
        # `partner_key_for` checks the hash and `revoked`, not the expiry date set in the admin.
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


class MemberTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`: a member's token (coworking/tokens.py), looked up on every
    request so that logout, expiry and revocation hold at once in every process."""

    def authenticate_credentials(self, key):
        try:
            token = token_authenticate(key=key)
        except TokenError as error:
            message = (
                _("Jeton expiré : connectez-vous à nouveau.")
                if error.code == "token_expired"
                else _("Jeton invalide.")
            )
            raise exceptions.AuthenticationFailed(message, code=error.code) from None
        return token.member, token
