"""Types of the requests that views receive, for the type checker (README "Tests")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from coworking.models import Member


class AuthenticatedHttpRequest(HttpRequest):
    """A request that passed `login_required` (or a DRF permission that asks for a signed-in
    user): its user is a member, never the anonymous user. Only an annotation: Django still
    hands the view its own HttpRequest."""

    user: Member
