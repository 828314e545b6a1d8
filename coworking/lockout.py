"""Guessing passwords: at most AXES_FAILURE_LIMIT wrong ones per account, and few attempts per
client address, on every path that checks a password (web, admin, API, a confirmation).

Both guards sit in `authenticate()` (AUTHENTICATION_BACKENDS), which every login path calls:
django-axes counts the failures of an account and refuses a locked one; `LoginAttemptsBackend`
counts the attempts of a client address, so that spraying a few passwords over many accounts
is slowed too, and lets one attempt at a time check an account's password: axes reads the
failures before the check and records one after it, so attempts in flight together would each
see room left. Every refusal is answered by `lockout_response` (through axes' middleware).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from .client_address import client_address
from .models import Member

# Set on a request refused by `LoginAttemptsBackend`: the seconds until the next attempt.
THROTTLED_FOR = "chtipass_login_throttled_for"
# The accounts whose password a request is checking (cache keys it holds until it ends).
CHECKING = "chtipass_login_checking"
# A request that died while checking a password frees its account after this long at worst.
CHECK_SECONDS = 30


def lockout_seconds() -> int:
    return int(float(settings.AXES_COOLOFF_TIME) * 3600)


def login_account(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt is about, as django-axes counts it (AXES_USERNAME_CALLABLE).

    Login finds the member case-insensitively (`MemberManager.get_by_natural_key`), so every
    spelling that logs in as someone is counted as that one account: the same lookup is asked
    here. An email that is nobody's is counted under its case-folded form.
    """
    typed = None
    if credentials:
        typed = credentials.get("username") or credentials.get(Member.USERNAME_FIELD)
    elif request is not None:
        typed = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(typed, str):
        return None
    # One attempt asks several times (check, record, reset): one query per attempt.
    memo = request.__dict__.setdefault("_chtipass_login_accounts", {}) if request else {}
    if typed not in memo:
        try:
            memo[typed] = Member._default_manager.get_by_natural_key(typed).email
        except (Member.DoesNotExist, Member.MultipleObjectsReturned, ValueError):
            memo[typed] = unicodedata.normalize("NFKC", typed).strip().casefold()
    return memo[typed]


class LoginAttemptsThrottle(SimpleRateThrottle):
    """Login attempts per client address, at the `token` rate (THROTTLE_TOKEN)."""

    scope = "token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": "login", "ident": client_address(request)}


def _check_begin(request: HttpRequest, account: str) -> bool:
    """Whether this request may check `account`'s password now (no other request is)."""
    # Hashed: the account is an email as typed when it is nobody's, of any length.
    key = f"login-checking:{hashlib.sha256(account.encode()).hexdigest()}"
    held = request.__dict__.setdefault(CHECKING, set())
    if key in held:
        return True
    # False: another request holds it. None: the cache is down, and logins go on (unguarded
    # against parallel attempts, as throttles are then).
    if cache.add(key, 1, CHECK_SECONDS) is False:
        return False
    held.add(key)
    return True


def _check_end(request: HttpRequest) -> None:
    for key in request.__dict__.pop(CHECKING, ()):
        cache.delete(key)


class LoginAttemptsBackend:
    """Before any password is checked: refuses an attempt from a client address over its rate,
    or on an account whose password another request is checking at this moment.

    A refused attempt is a failed login for Django, so the account typed counts it too: one
    client cannot try more passwords by being slowed down or by sending them all at once.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is None:  # not a request: a shell, a management command
            return None
        throttle = LoginAttemptsThrottle()
        # DRF's throttle reads only the request's client address here: a Django request does.
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            self._refuse(request, max(int(throttle.wait() or 1), 1))
        account = login_account(request, credentials)
        if account is not None and not _check_begin(request, account):
            self._refuse(request, 1)
        return None

    def _refuse(self, request: HttpRequest, seconds: int) -> None:
        setattr(request, THROTTLED_FOR, seconds)
        # Axes' middleware answers a request so marked with `lockout_response`.
        request.axes_locked_out = True  # type: ignore[attr-defined]  # read by django-axes
        raise PermissionDenied

    # No `get_user`: this backend logs nobody in, and `Client.force_login` would pick it.


class LoginCheckMiddleware:
    """Frees the accounts whose password the request checked, once the view is done (and the
    failure recorded), whatever happened."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            _check_end(request)


def password_confirm(request: HttpRequest, member: Member, password: str) -> bool:
    """Whether `password` is `member`'s, counted like a login (a wrong one is a failure)."""
    found = authenticate(request, username=member.get_username(), password=password)
    return found is not None and found.pk == member.pk


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    throttled_for = getattr(request, THROTTLED_FOR, None)
    if throttled_for is not None:
        code, seconds = "throttled", throttled_for
        detail = _("Trop de tentatives depuis cette adresse : réessayez dans %(seconds)d s.") % {
            "seconds": seconds
        }
    else:
        code, seconds = "login_locked", lockout_seconds()
        detail = _("Trop de tentatives de connexion : réessayez dans %(minutes)d minutes.") % {
            "minutes": max(seconds // 60, 1)
        }
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": code, "detail": detail, "fields": {}}, status=429)
    else:
        response = HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response
