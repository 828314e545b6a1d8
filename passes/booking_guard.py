"""Booking at a partner space as a network guest: who may, and how many days they may book.

`spaces` knows nothing of passes: this policy is registered at start-up (passes/apps.py) and
asked by the booking service for every booking a member makes at a space where they hold no
membership. A guest booking plans a visit, which the scan will count against the pass's monthly
allowance: one booking too many would be refused at the door, so it is refused here.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from coworking.models import Member
from coworking.months import month_first, month_following
from spaces.models import Booking, Resource, Space
from spaces.rules import BookingError

from .models import NetworkSpace, Pass, Visit
from .selectors import allowance_left

# (host space id, local date): one visit, whatever the number of bookings that day.
VisitDay = tuple[int, dt.date]


def network_guest_policy(
    member: Member, resource: Resource, start: dt.datetime, end: dt.datetime
) -> bool:
    """A member with an active pass may book guest-open resources of the network's spaces, as
    long as the visits they have made and planned this month leave room for that day."""
    host = resource.space
    day = start.astimezone(host.tz).date()
    passes = [
        pass_obj
        for pass_obj in Pass.objects.filter(
            member=member, status=Pass.Status.ACTIVE, network__members__space_id=host.pk
        ).select_related("network", "membership")
        if pass_obj.membership.is_active_on(day)
    ]
    if not passes:
        return False
    refusal = None
    for pass_obj in passes:
        try:
            guest_day_check(pass_obj, host, day)
        except BookingError as error:
            refusal = refusal or error
        else:
            return True
    raise refusal  # type: ignore[misc]


def guest_day_check(
    pass_obj: Pass, host: Space, day: dt.date, *, now: dt.datetime | None = None
) -> None:
    """Refuse (`allowance_exhausted`) a guest booking at `host` on `day` that would plan more
    visits in that month than the pass's allowance has left, network-wide or at `host`.

    The days from today on with a confirmed booking at another host of the network and no
    visit yet are planned visits: with this day, they must fit in what `allowance_left` says
    (which has counted the visits made). A day already visited or planned at `host` costs
    nothing more. The caller holds the member's booking lock (spaces.services).
    """
    today = timezone.localdate(now or timezone.now(), timezone=host.tz)
    left = allowance_left(pass_obj, day)
    visited, planned = _visits_of_the_month(pass_obj, day, today)
    if (host.pk, day) in visited | planned:
        return
    # What the allowance has left must cover the planned days not visited yet, and this one.
    planned.add((host.pk, day))
    at_host = sum(1 for host_id, _day in planned if host_id == host.pk)
    host_left = left.per_host_left.get(host.slug, 0)
    if len(planned) > left.network_left or at_host > host_left:
        raise BookingError(
            "allowance_exhausted", network_left=left.network_left, host_left=host_left
        )


def _visits_of_the_month(
    pass_obj: Pass, day: dt.date, today: dt.date
) -> tuple[set[VisitDay], set[VisitDay]]:
    """In `day`'s month: the visits made (the allowance has counted them), and the visits
    planned by a confirmed booking at another host of the network on a day from today on that
    has no visit yet."""
    first = month_first(day)
    following = month_following(first)
    visited = set(
        Visit.objects.filter(
            member_id=pass_obj.member_id,
            network_id=pass_obj.network_id,
            uses_allowance=True,
            date__gte=first,
            date__lt=following,
        ).values_list("host_id", "date")
    )
    from_day = max(first, today)
    if from_day >= following:
        return visited, set()
    hosts = {
        space.pk: space.tz
        for space in Space.objects.filter(
            pk__in=NetworkSpace.objects.filter(network_id=pass_obj.network_id).values("space_id")
        ).exclude(pk=pass_obj.membership.space_id)
    }
    # A day wider on each side than the local days sought, whatever each host's timezone; the
    # local day of each start then decides.
    starts = Booking.objects.filter(
        member_id=pass_obj.member_id,
        status=Booking.Status.CONFIRMED,
        resource__space_id__in=hosts,
        start__gte=dt.datetime.combine(from_day - dt.timedelta(days=1), dt.time(), dt.UTC),
        start__lt=dt.datetime.combine(following + dt.timedelta(days=1), dt.time(), dt.UTC),
    ).values_list("resource__space_id", "start")
    planned = {(host_id, start.astimezone(hosts[host_id]).date()) for host_id, start in starts}
    return visited, {
        (host_id, local_day)
        for host_id, local_day in planned - visited
        if from_day <= local_day < following
    }
