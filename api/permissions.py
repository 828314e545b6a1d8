from rest_framework.permissions import BasePermission

from passes.models import PartnerKey
from spaces.selectors import is_co_manager


class IsPartnerKey(BasePermission):
    """The request is made with a valid partner (scanner) key."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PartnerKey)


class IsMember(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


def co_manages(request, space) -> bool:
    return bool(
        request.user and request.user.is_authenticated and is_co_manager(request.user, space.pk)
    )
