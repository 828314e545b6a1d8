"""Every booking rule of SPEC §3, each with a test that fails if the rule is removed."""

import datetime as dt

import pytest

from spaces.models import Booking, Closure, Membership, Resource
from spaces.rules import BookingError
from spaces.schedule import desk_periods
from spaces.services import booking_cancel, booking_create, guest_policies

from .conftest import paris
from .factories import MembershipFactory, ResourceFactory, TrainingRecordFactory

pytestmark = pytest.mark.django_db


def refused(code, **kwargs):
    with pytest.raises(BookingError) as caught:
        booking_create(**kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def test_a_member_books_a_room_on_15_minute_slots(clock, alice, room):
    booking = booking_create(
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10, 15),
        end=paris(2026, 12, 2, 11, 45),
    )
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.created_by == alice


def test_a_room_slot_off_the_quarter_hour_is_refused(clock, alice, room):
    refused(
        "not_on_slot",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10, 10),
        end=paris(2026, 12, 2, 11, 10),
    )


def test_an_end_before_the_start_is_refused(clock, alice, room):
    refused(
        "invalid_interval",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 11),
        end=paris(2026, 12, 2, 10),
    )


def test_a_booking_outside_opening_hours_is_refused(clock, alice, room):
    refused(
        "outside_opening_hours",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 18, 30),
        end=paris(2026, 12, 2, 19, 30),
    )
    refused(
        "outside_opening_hours",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 8),
        end=paris(2026, 12, 2, 9),
    )


def test_a_resource_may_have_its_own_opening_hours(clock, alice, laser):
    laser.opening_hours = {"wed": [["10:00", "12:00"]]}
    laser.save()
    TrainingRecordFactory(training=laser.training, member=alice)
    booking_create(
        member=alice, resource=laser, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    refused(
        "outside_opening_hours",
        member=alice,
        resource=laser,
        start=paris(2026, 12, 2, 14),
        end=paris(2026, 12, 2, 15),
    )
    refused(
        "closed",
        member=alice,
        resource=laser,
        start=paris(2026, 12, 3, 10),
        end=paris(2026, 12, 3, 11),
    )


def test_a_day_without_opening_hours_is_closed(clock, alice, room):
    refused(
        "closed",
        member=alice,
        resource=room,
        start=paris(2026, 12, 5, 10),
        end=paris(2026, 12, 5, 11),
    )  # a Saturday


def test_a_space_closure_refuses_bookings_on_those_days(clock, alice, room, mutualab):
    Closure.objects.create(
        space=mutualab,
        starts_on=dt.date(2026, 12, 24),
        ends_on=dt.date(2026, 12, 31),
        reason="Noël",
    )
    error = refused(
        "closed",
        member=alice,
        resource=room,
        start=paris(2026, 12, 28, 10),
        end=paris(2026, 12, 28, 11),
    )
    assert error.fields == {"date": "2026-12-28"}
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 23, 10), end=paris(2026, 12, 23, 11)
    )


def test_a_resource_closure_closes_only_that_resource(clock, alice, room, desk, mutualab):
    Closure.objects.create(
        space=mutualab,
        resource=room,
        starts_on=dt.date(2026, 12, 2),
        ends_on=dt.date(2026, 12, 2),
        reason="Peinture",
    )
    refused(
        "closed",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    start, end = desk_periods(desk, dt.date(2026, 12, 2))["day"]
    booking_create(member=alice, resource=desk, start=start, end=end)


def test_a_booking_shorter_than_the_minimum_is_refused(clock, alice, room):
    refused(
        "too_short",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 10, 15),
    )


def test_a_booking_longer_than_the_maximum_is_refused(clock, alice, room):
    room.max_booking_minutes = 120
    room.save()
    refused(
        "too_long",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 12, 15),
    )
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 12)
    )


def test_the_space_default_applies_when_the_resource_has_none(clock, alice, room, mutualab):
    mutualab.min_booking_minutes = 60
    mutualab.save()
    room.refresh_from_db()
    refused(
        "too_short",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 10, 45),
    )


def test_a_booking_in_the_past_is_refused(clock, alice, room):
    refused(
        "in_past",
        member=alice,
        resource=room,
        start=paris(2026, 11, 30, 10),
        end=paris(2026, 11, 30, 11),
    )
    refused(
        "in_past",
        member=alice,
        resource=room,
        start=paris(2026, 12, 1, 8, 30),
        end=paris(2026, 12, 1, 9, 30),
    )


def test_the_current_slot_and_the_rest_of_today_can_be_booked(clock, alice, room, desk):
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 1, 9), end=paris(2026, 12, 1, 10)
    )
    # The day has begun at 08:30, but a member arriving at 09:00 still takes a desk for it.
    start, end = desk_periods(desk, dt.date(2026, 12, 1))["day"]
    booking_create(member=alice, resource=desk, start=start, end=end)


def test_a_booking_beyond_the_horizon_is_refused(clock, alice, room):
    room.booking_horizon_days = 14
    room.save()
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 15, 10), end=paris(2026, 12, 15, 11)
    )
    error = refused(
        "too_far_ahead",
        member=alice,
        resource=room,
        start=paris(2026, 12, 16, 10),
        end=paris(2026, 12, 16, 11),
    )
    assert error.fields == {"horizon_days": 14}


def test_desks_are_booked_by_the_day_or_the_half_day(clock, alice, desk):
    periods = desk_periods(desk, dt.date(2026, 12, 2))
    assert periods["day"] == (paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 19))
    assert periods["morning"] == (paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 13))
    booking_create(
        member=alice, resource=desk, start=periods["morning"][0], end=periods["morning"][1]
    )
    refused(
        "desk_period",
        member=alice,
        resource=desk,
        start=paris(2026, 12, 3, 10),
        end=paris(2026, 12, 3, 12),
    )


def test_a_morning_and_an_afternoon_on_one_desk_do_not_conflict(clock, alice, bob, desk):
    periods = desk_periods(desk, dt.date(2026, 12, 2))
    booking_create(
        member=alice, resource=desk, start=periods["morning"][0], end=periods["morning"][1]
    )
    booking_create(
        member=bob, resource=desk, start=periods["afternoon"][0], end=periods["afternoon"][1]
    )
    refused(
        "booking_conflict",
        member=bob,
        resource=desk,
        start=periods["day"][0],
        end=periods["day"][1],
    )


def test_adjacent_bookings_both_succeed(clock, alice, bob, room):
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 9), end=paris(2026, 12, 2, 10)
    )
    booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )


def test_an_overlapping_booking_is_a_conflict(clock, alice, bob, room):
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 9), end=paris(2026, 12, 2, 10, 30)
    )
    refused(
        "booking_conflict",
        member=bob,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    assert Booking.objects.count() == 1


def test_a_cancelled_booking_frees_its_slot(clock, alice, bob, room):
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking_cancel(booking=booking, actor=alice)
    booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )


def test_an_inactive_resource_cannot_be_booked(clock, alice, room):
    room.is_active = False
    room.save()
    refused(
        "resource_unavailable",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_a_member_of_another_space_cannot_book_a_members_only_resource(clock, charlie, room):
    refused(
        "members_only",
        member=charlie,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_a_resource_open_to_guests_asks_the_registered_guest_policies(clock, charlie, room):
    room.members_only = False
    room.save()
    refused(
        "members_only",
        member=charlie,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    guest_policies.append(lambda member, resource, start, end: member == charlie)
    try:
        booking_create(
            member=charlie, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        )
    finally:
        guest_policies.pop()


def test_a_suspended_membership_cannot_book(clock, alice, room):
    alice.memberships.update(status=Membership.Status.SUSPENDED)
    refused(
        "membership_inactive",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_an_ended_membership_cannot_book(clock, alice, room):
    alice.memberships.update(status=Membership.Status.ENDED)
    refused(
        "membership_inactive",
        member=alice,
        resource=room,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_a_booking_must_fall_inside_the_membership_dates(clock, alice, room):
    alice.memberships.update(ends_on=dt.date(2026, 12, 10))
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 10, 10), end=paris(2026, 12, 10, 11)
    )
    refused(
        "outside_membership",
        member=alice,
        resource=room,
        start=paris(2026, 12, 11, 10),
        end=paris(2026, 12, 11, 11),
    )


def test_a_membership_that_starts_later_cannot_book_before(clock, mutualab, room):
    future = MembershipFactory(space=mutualab, starts_on=dt.date(2026, 12, 7)).member
    refused(
        "outside_membership",
        member=future,
        resource=room,
        start=paris(2026, 12, 4, 10),
        end=paris(2026, 12, 4, 11),
    )
    booking_create(
        member=future, resource=room, start=paris(2026, 12, 7, 10), end=paris(2026, 12, 7, 11)
    )


def test_a_machine_needs_its_training(clock, alice, laser):
    kwargs = dict(
        member=alice, resource=laser, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    refused("training_required", **kwargs)
    TrainingRecordFactory(training=laser.training, member=alice)
    booking_create(**kwargs)


def test_an_expired_training_no_longer_counts(clock, alice, laser):
    TrainingRecordFactory(training=laser.training, member=alice, expires_on=dt.date(2026, 11, 30))
    refused(
        "training_required",
        member=alice,
        resource=laser,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_a_fixed_desk_is_only_for_its_holder(clock, alice, bob, mutualab):
    fixed = ResourceFactory(
        space=mutualab, kind=Resource.Kind.DESK, desk_type=Resource.DeskType.FIXED, assigned_to=bob
    )
    start, end = desk_periods(fixed, dt.date(2026, 12, 2))["day"]
    refused("desk_assigned", member=alice, resource=fixed, start=start, end=end)
    booking_create(member=bob, resource=fixed, start=start, end=end)


def test_a_member_has_a_maximum_of_active_bookings_per_kind(clock, alice, room, mutualab):
    room.max_active_bookings = 2
    room.save()
    other_room = ResourceFactory(space=mutualab, kind=Resource.Kind.ROOM, max_active_bookings=2)
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking_create(
        member=alice, resource=other_room, start=paris(2026, 12, 3, 10), end=paris(2026, 12, 3, 11)
    )
    error = refused(
        "max_active_bookings",
        member=alice,
        resource=room,
        start=paris(2026, 12, 4, 10),
        end=paris(2026, 12, 4, 11),
    )
    assert error.fields == {"limit": 2}


def test_past_and_cancelled_bookings_do_not_count_as_active(clock, alice, room):
    room.max_active_bookings = 1
    room.save()
    first = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking_cancel(booking=first, actor=alice)
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    clock.move_to(paris(2026, 12, 2, 12))
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 3, 10), end=paris(2026, 12, 3, 11)
    )


def test_a_nomade_plan_limits_desk_days_per_month(clock, bob, mutualab):
    bob.memberships.update()
    plan = bob.memberships.get().plan
    plan.desk_days_per_month = 2
    plan.save()
    desks = [
        ResourceFactory(space=mutualab, kind=Resource.Kind.DESK, desk_type="hot") for _ in range(2)
    ]

    def book(desk, day, period="day"):
        start, end = desk_periods(desk, day)[period]
        return booking_create(member=bob, resource=desk, start=start, end=end)

    book(desks[0], dt.date(2026, 12, 2))
    book(desks[0], dt.date(2026, 12, 3), "morning")
    book(desks[1], dt.date(2026, 12, 3), "afternoon")  # the same day costs nothing more
    with pytest.raises(BookingError) as caught:
        book(desks[0], dt.date(2026, 12, 4))
    assert caught.value.code == "plan_days_exhausted"
    book(desks[0], dt.date(2027, 1, 4))  # a new month


def test_a_member_cannot_book_for_someone_else(clock, alice, bob, room):
    refused(
        "forbidden",
        member=bob,
        resource=room,
        actor=alice,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_a_co_manager_books_for_a_member_and_it_is_audited(clock, alice, camille, room):
    from coworking.models import AuditEntry

    booking = booking_create(
        member=alice,
        resource=room,
        actor=camille,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )
    assert booking.member == alice and booking.created_by == camille
    entry = AuditEntry.objects.get(action="booking.create_for_member")
    assert entry.actor == camille and entry.target_id == str(booking.pk)


def test_a_co_manager_of_another_space_cannot_book_for_a_member(clock, alice, dominique, room):
    refused(
        "forbidden",
        member=alice,
        resource=room,
        actor=dominique,
        start=paris(2026, 12, 2, 10),
        end=paris(2026, 12, 2, 11),
    )


def test_naive_times_from_the_shell_are_read_in_the_space_timezone(clock, alice, room):
    booking = booking_create(
        member=alice,
        resource=room,
        start=dt.datetime(2026, 12, 2, 10),
        end=dt.datetime(2026, 12, 2, 11),
    )
    booking.refresh_from_db()
    assert booking.start == paris(2026, 12, 2, 10)


class TestCancellation:
    def test_a_member_cancels_before_the_cutoff(self, clock, alice, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 1, 11), end=paris(2026, 12, 1, 12)
        )
        booking_cancel(booking=booking, actor=alice)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancelled_by == alice and booking.cancelled_at is not None

    def test_a_member_cannot_cancel_after_the_cutoff(self, clock, alice, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 1, 9, 45), end=paris(2026, 12, 1, 11)
        )
        with pytest.raises(BookingError) as caught:
            booking_cancel(booking=booking, actor=alice)
        assert caught.value.code == "cancellation_cutoff_passed"
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED

    def test_a_co_manager_cancels_after_the_cutoff(self, clock, alice, camille, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 1, 9, 45), end=paris(2026, 12, 1, 11)
        )
        booking_cancel(booking=booking, actor=camille)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED

    def test_a_started_booking_cannot_be_cancelled_by_its_member(self, clock, alice, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 1, 9), end=paris(2026, 12, 1, 11)
        )
        clock.move_to(paris(2026, 12, 1, 9, 30))
        with pytest.raises(BookingError) as caught:
            booking_cancel(booking=booking, actor=alice)
        assert caught.value.code == "booking_started"

    def test_someone_else_cannot_cancel_a_booking(self, clock, alice, bob, dominique, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        )
        for intruder in (bob, dominique):
            with pytest.raises(BookingError) as caught:
                booking_cancel(booking=booking, actor=intruder)
            assert caught.value.code == "forbidden"

    def test_a_cancelled_booking_cannot_be_cancelled_again(self, clock, alice, room):
        booking = booking_create(
            member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
        )
        booking_cancel(booking=booking, actor=alice)
        with pytest.raises(BookingError) as caught:
            booking_cancel(booking=booking, actor=alice)
        assert caught.value.code == "already_cancelled"
