"""Members' API tokens: issued at each login, checked on each request, revoked on logout.

A token lives `TOKEN_TTL` from its issue (fixed: using it does not extend it), then the member
logs in again and gets a new one. Each login gets its own token, so logging out on one device
leaves the others logged in. A password change or a deactivation revokes them all
(`Member.save`). Tokens are looked up in the database on every request: a revocation holds
at once in every process.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Member, MemberToken, token_digest


class TokenError(Exception):
    """A token that does not authenticate; `code` is the API's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def token_issue(*, member: Member, now: dt.datetime | None = None) -> tuple[MemberToken, str]:
    """A new token for `member` (who has just proved who they are) and its key, shown once."""
    now = now or timezone.now()
    # Their tokens that have run out are of no use to anyone: dropped here rather than by a job.
    MemberToken.objects.filter(member=member, expires_at__lte=now).delete()
    token, key = MemberToken.build(member, now=now)
    token.save()
    return token, key


def token_authenticate(*, key: str, now: dt.datetime | None = None) -> MemberToken:
    """The token of `key`, with its member loaded; TokenError if it does not authenticate."""
    try:
        token = MemberToken.objects.select_related("member").get(digest=token_digest(key))
    except MemberToken.DoesNotExist:
        raise TokenError("authentication_failed") from None
    if token.has_expired(now or timezone.now()):
        raise TokenError("token_expired")
    # Deactivation deletes the tokens; this covers an update that bypassed `Member.save`.
    if not token.member.is_active:
        raise TokenError("authentication_failed")
    return token


def token_revoke(token: MemberToken) -> None:
    """Logout: this token stops working; the member's other tokens go on."""
    MemberToken.objects.filter(pk=token.pk).delete()
