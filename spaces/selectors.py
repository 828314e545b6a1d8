"""Reads: who co-manages what, who may book for whom, which bookings someone may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from coworking.models import Member

from .models import Booking, Membership, Space


def co_manager_memberships(*, first: dt.date, last: dt.date) -> QuerySet[Membership]:
    """Active co-manager memberships that cover at least one day of `first`..`last`: the one
    definition of "co-manages the space" (on a day, first == last; over a month, its ends)."""
    return Membership.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=first),
        role=Membership.Role.CO_MANAGER,
        status=Membership.Status.ACTIVE,
        starts_on__lte=last,
    )


def co_managed_space_ids(member: Member, *, today: dt.date | None = None) -> set[int]:
    """Spaces where `member` is an active co-manager today (everything for superusers)."""
    if not member.is_authenticated or not member.is_active:
        return set()
    if member.is_superuser:
        return set(Space.objects.values_list("id", flat=True))
    today = today or timezone.localdate()
    return set(
        co_manager_memberships(first=today, last=today)
        .filter(member=member)
        .values_list("space_id", flat=True)
    )


def co_managed_spaces(member: Member, *, today: dt.date | None = None) -> QuerySet[Space]:
    """The spaces of `co_managed_space_ids`, by name: what a co-manager's pages offer."""
    return Space.objects.filter(pk__in=co_managed_space_ids(member, today=today)).order_by(
        "name", "id"
    )


def is_co_manager(member: Member, space_id: int) -> bool:
    return space_id in co_managed_space_ids(member)


def may_book_for(actor: Member, member: Member, space_id: int) -> bool:
    """Anyone books for themselves; a co-manager of the space also books for the people who
    hold a membership there (even ended: the rules then say why not), and for nobody else."""
    if actor.pk == member.pk:
        return True
    return (
        is_co_manager(actor, space_id)
        and Membership.objects.filter(member_id=member.pk, space_id=space_id).exists()
    )


def bookings_visible_to(member: Member) -> QuerySet[Booking]:
    """A member sees their own bookings; a co-manager also sees every booking of their spaces."""
    spaces = co_managed_space_ids(member)
    return Booking.objects.filter(Q(member=member) | Q(resource__space_id__in=spaces))


def current_membership(member: Member, space: Space) -> Membership | None:
    """The member's membership at `space`: the current one, else the latest ended one."""
    memberships = sorted(
        Membership.objects.filter(member=member, space=space),
        key=lambda m: (m.status != Membership.Status.ENDED, m.starts_on),
    )
    return memberships[-1] if memberships else None
