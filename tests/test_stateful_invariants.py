"""Random sequences of bookings, cancellations, scans, pass suspensions and revocations, with a
clock that moves on (Hypothesis stateful testing), and what must hold after every step:

- no two confirmed bookings of a resource overlap (SPEC §3, "no double booking, ever");
- a member's allowance counters never exceed the network's limits, network-wide and per host,
  and each one counts exactly the visits that used it;
- a host's daily counter never exceeds its capacity for network visitors;
- at most one visit per member, host and local day, and as many visits as accepted scans that
  were not a second check-in the same day;
- a revoked pass never gets an accepted scan after its revocation.

Each example runs inside a savepoint of the test's transaction, rolled back at its end, over
data built once: Mutualab (two rooms and a desk), La Filature and Le Quai in one network with
small limits, Alice and Bob (Mutualab) and Charlie (La Filature) with a pass each, and their
co-managers Camille and Dominique.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from coworking.models import Member
from passes.models import AllowanceCounter, HostDayCounter, Network, NetworkSpace, Pass, Scan, Visit
from passes.scanning import ScanRequest, scan_record
from passes.services import (
    PassError,
    credential_static,
    pass_reinstate,
    pass_revoke,
    pass_suspend,
)
from spaces.models import Booking, Resource, Space
from spaces.rules import BookingError
from spaces.schedule import desk_periods
from spaces.services import booking_cancel, booking_create

from .conftest import NOW, issue_pass
from .factories import ResourceFactory

# Small limits, so that a few dozen steps reach them.
MONTHLY_VISITS = 2
MONTHLY_VISITS_PER_HOST = 1
DAILY_VISITOR_CAPACITY = 2


@dataclass(frozen=True)
class World:
    members: list[int]
    co_managers: dict[int, int]  # home space id → its co-manager
    rooms: list[int]
    desk: int
    hosts: list[int]
    network: int


@pytest.fixture
def world(
    clock,
    signing,
    network,
    mutualab,
    filature,
    quai,
    alice,
    bob,
    charlie,
    camille,
    dominique,
    room,
    desk,
) -> World:
    Network.objects.filter(pk=network.pk).update(
        monthly_visits=MONTHLY_VISITS, monthly_visits_per_host=MONTHLY_VISITS_PER_HOST
    )
    NetworkSpace.objects.filter(network=network).update(
        daily_visitor_capacity=DAILY_VISITOR_CAPACITY
    )
    second_room = ResourceFactory(space=mutualab, name="Salle Vauban", kind=Resource.Kind.ROOM)
    for member in (alice, bob, charlie):
        issue_pass(member, network)
    return World(
        members=[alice.pk, bob.pk, charlie.pk],
        co_managers={mutualab.pk: camille.pk, filature.pk: dominique.pk},
        rooms=[room.pk, second_room.pk],
        desk=desk.pk,
        hosts=[mutualab.pk, filature.pk, quai.pk],
        network=network.pk,
    )


class BookingsAndScans(RuleBasedStateMachine):
    """Steps go through the services, as every path (API, admin, shell, task) does."""

    world: World  # set by the test
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        # 1. Everything an example writes is undone at its end.
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        # 2. Every example starts on Tuesday 1 December 2026, 09:00 in Paris.
        self._traveller = time_machine.travel(NOW, tick=False)
        self._clock = self._traveller.start()
        # 3. What the database alone cannot tell: the last scan before each revocation.
        self._last_scan_before_revocation: dict[int, int] = {}

    def teardown(self) -> None:
        self._traveller.stop()
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- Steps ------------------------------------------------------------------------------

    @rule(
        target=bookings,
        member=st.integers(0, 2),
        resource=st.integers(0, 2),
        days_ahead=st.integers(0, 3),
        quarter=st.integers(0, 41),
        quarters=st.integers(1, 8),
        period=st.sampled_from(["day", "morning", "afternoon"]),
    )
    def book(self, member, resource, days_ahead, quarter, quarters, period):
        """A room for 15-minute slots, or the desk by day or half-day, a few days ahead."""
        booker = Member.objects.get(pk=self.world.members[member])
        day = timezone.localdate() + dt.timedelta(days=days_ahead)
        if resource < len(self.world.rooms):
            chosen = Resource.objects.select_related("space").get(pk=self.world.rooms[resource])
            start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=chosen.space.tz)
            start += dt.timedelta(minutes=15 * quarter)
            end = start + dt.timedelta(minutes=15 * quarters)
        else:
            chosen = Resource.objects.select_related("space").get(pk=self.world.desk)
            periods = desk_periods(chosen, day)
            if period not in periods:
                return multiple()  # closed that day
            start, end = periods[period]
        try:
            booking = booking_create(member=booker, resource=chosen, start=start, end=end)
        except BookingError as error:
            event(f"book: {error.code}")
            return multiple()
        event("book: confirmed")
        assert booking.status == Booking.Status.CONFIRMED
        return booking.pk

    @rule(booking=bookings, by_co_manager=st.booleans())
    def cancel(self, booking, by_co_manager):
        booking_obj = Booking.objects.select_related("resource").get(pk=booking)
        actor_id = (
            self.world.co_managers[booking_obj.resource.space_id]
            if by_co_manager
            else booking_obj.member_id
        )
        try:
            cancelled = booking_cancel(booking=booking_obj, actor=Member.objects.get(pk=actor_id))
        except BookingError as error:
            event(f"cancel: {error.code}")
            return
        event("cancel: cancelled")
        assert cancelled.status == Booking.Status.CANCELLED

    @rule(member=st.integers(0, 2), host=st.integers(0, 2))
    def scan(self, member, host):
        """The member's printed card (a static credential) at a door of the network."""
        pass_obj = Pass.objects.get(
            member_id=self.world.members[member], network_id=self.world.network
        )
        answer = scan_record(
            ScanRequest(
                host=Space.objects.get(pk=self.world.hosts[host]),
                credential=credential_static(pass_obj),
            )
        )
        again = answer["already_checked_in"]
        event(f"scan: {answer['reason'] or ('accepted again' if again else 'accepted')}")

    @rule(
        shift=st.one_of(
            st.integers(1, 12).map(lambda hours: dt.timedelta(hours=hours)),
            st.integers(1, 3).map(lambda days: dt.timedelta(days=days)),
        )
    )
    def time_passes(self, shift):
        self._clock.shift(shift)

    @rule(
        member=st.integers(0, 2),
        action=st.sampled_from(["suspend", "reinstate", "revoke"]),
        host=st.integers(0, 2),
    )
    def change_pass(self, member, action, host):
        """A co-manager of the home space changes the pass; the member then shows the card at a
        door (Hypothesis often leaves the `scan` rule out of an example: swarm testing)."""
        pass_obj = Pass.objects.select_related("membership").get(
            member_id=self.world.members[member], network_id=self.world.network
        )
        co_manager = Member.objects.get(pk=self.world.co_managers[pass_obj.membership.space_id])
        service = {"suspend": pass_suspend, "reinstate": pass_reinstate, "revoke": pass_revoke}
        last_scan = Scan.objects.order_by("-id").values_list("id", flat=True).first() or 0
        try:
            service[action](pass_obj=pass_obj, actor=co_manager, reason="Contrôle")
        except PassError as error:
            event(f"{action}: {error.code}")
            return
        event(f"{action}: done")
        if action == "revoke":
            self._last_scan_before_revocation[pass_obj.pk] = last_scan
        self.scan(member, host)

    # --- Invariants -------------------------------------------------------------------------

    @invariant()
    def no_two_confirmed_bookings_of_a_resource_overlap(self):
        confirmed = Booking.objects.filter(status=Booking.Status.CONFIRMED)
        overlapping = confirmed.filter(
            Exists(
                confirmed.filter(
                    resource_id=OuterRef("resource_id"),
                    start__lt=OuterRef("end"),
                    end__gt=OuterRef("start"),
                ).exclude(pk=OuterRef("pk"))
            )
        )
        assert not overlapping.exists(), list(overlapping.values("resource", "start", "end"))

    @invariant()
    def allowance_counters_stay_within_the_limits_and_count_the_visits(self):
        for counter in AllowanceCounter.objects.all():
            limit = MONTHLY_VISITS if counter.host_id is None else MONTHLY_VISITS_PER_HOST
            assert counter.used <= limit, counter
            next_month = (counter.month + dt.timedelta(days=32)).replace(day=1)
            visits = Visit.objects.filter(
                member_id=counter.member_id,
                network_id=counter.network_id,
                date__gte=counter.month,
                date__lt=next_month,
                uses_allowance=True,
            )
            if counter.host_id is not None:
                visits = visits.filter(host_id=counter.host_id)
            assert counter.used == visits.count(), counter

    @invariant()
    def host_days_stay_within_capacity(self):
        for counter in HostDayCounter.objects.all():
            assert counter.used <= DAILY_VISITOR_CAPACITY, counter
            visits = Visit.objects.filter(
                network_id=counter.network_id,
                host_id=counter.host_id,
                date=counter.date,
                uses_allowance=True,
            )
            assert counter.used == visits.count(), counter

    @invariant()
    def one_visit_per_member_host_and_day_for_each_first_accepted_scan(self):
        repeated = (
            Visit.objects.values("member", "host", "date").annotate(n=Count("id")).filter(n__gt=1)
        )
        assert not repeated.exists(), list(repeated)
        first_check_ins = Scan.objects.filter(
            decision=Scan.Decision.ACCEPTED, already_checked_in=False
        )
        assert Visit.objects.count() == first_check_ins.count()
        accepted = Scan.objects.filter(decision=Scan.Decision.ACCEPTED)
        assert not accepted.filter(visit=None).exists()
        mismatched = accepted.exclude(visit__host=F("host"), visit__member=F("pass_obj__member"))
        assert not mismatched.exists(), list(mismatched.values("id", "host", "visit"))

    @invariant()
    def a_revoked_pass_is_never_accepted_after_its_revocation(self):
        for pass_id, last_scan in self._last_scan_before_revocation.items():
            accepted_since = Scan.objects.filter(
                pass_obj_id=pass_id, decision=Scan.Decision.ACCEPTED, id__gt=last_scan
            )
            assert not accepted_since.exists(), list(accepted_since.values("id", "host"))
        revoked = Pass.objects.filter(status=Pass.Status.REVOKED)
        assert set(revoked.values_list("id", flat=True)) == set(self._last_scan_before_revocation)
        # The same, as the database alone tells it (scans later than the revocation).
        assert not Scan.objects.filter(
            pass_obj__status=Pass.Status.REVOKED,
            decision=Scan.Decision.ACCEPTED,
            received_at__gt=F("pass_obj__status_changed_at"),
        ).exists()


@pytest.mark.django_db
def test_bookings_and_scans_keep_their_invariants_whatever_the_sequence(world):
    class Machine(BookingsAndScans):
        pass

    Machine.world = world  # the data of this test's database
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
