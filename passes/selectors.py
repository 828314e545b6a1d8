"""Reads on passes: the member's pass, allowances left."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from coworking.models import Member
from coworking.months import month_first

from .models import AllowanceCounter, Network, NetworkSpace, Pass


def current_pass(member: Member) -> Pass | None:
    """The member's pass that is not revoked (active or suspended), newest first."""
    return (
        Pass.objects.filter(member=member)
        .exclude(status=Pass.Status.REVOKED)
        .select_related("network", "membership__space")
        .order_by("-issued_at")
        .first()
    )


@dataclass(frozen=True)
class VisitsLeft:
    network_left: int
    host_left: int


def visits_left(network: Network, *, network_used: int, host_used: int) -> VisitsLeft:
    """THE rule for what is left of a month's allowance, given the visits counted so far:
    network-wide, and at one host (never more than network-wide)."""
    network_left = max(network.monthly_visits - network_used, 0)
    host_left = max(network.monthly_visits_per_host - host_used, 0)
    return VisitsLeft(network_left=network_left, host_left=min(network_left, host_left))


@dataclass(frozen=True)
class AllowanceLeft:
    network_left: int
    per_host_left: dict[str, int]


def allowance_left(pass_obj: Pass, day: dt.date | None = None) -> AllowanceLeft:
    """Visits left in the month of `day`: network-wide and at each other space of the network."""
    day = day or timezone.localdate()
    network = pass_obj.network
    used: dict[int | None, int] = dict(
        AllowanceCounter.objects.filter(
            member_id=pass_obj.member_id, network=network, month=month_first(day)
        ).values_list("host_id", "used")
    )
    network_used = used.pop(None, 0)
    hosts = (
        NetworkSpace.objects.filter(network=network)
        .exclude(space_id=pass_obj.membership.space_id)
        .values_list("space_id", "space__slug")
    )
    return AllowanceLeft(
        network_left=visits_left(network, network_used=network_used, host_used=0).network_left,
        per_host_left={
            slug: visits_left(
                network, network_used=network_used, host_used=used.get(space_id, 0)
            ).host_left
            for space_id, slug in hosts
        },
    )
