"""Booking figures of a space for a month (SPEC §3 "Usage and settlement"), computed by hand.

March 2027 in Europe/Paris: Monday 1 → Wednesday 31, 23 weekdays (Mon, Tue, Wed: 5 each;
Thu, Fri: 4 each), and summer time starts on Sunday 28 March (02:00 → 03:00), a 23-hour day.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.booking_usage import booking_usage
from spaces.models import Booking, Closure, Resource

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

MARCH = dt.date(2027, 3, 1)
EVERY_HOUR = {
    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
MON, TUE, WED, THU, FRI, SAT, SUN = range(1, 8)


def book(resource, member, start, end, status=Booking.Status.CONFIRMED):
    return Booking.objects.create(
        resource=resource, member=member, start=start, end=end, status=status
    )


@pytest.fixture
def vauban(mutualab):
    """A room open around the clock, every day."""
    return ResourceFactory(
        space=mutualab, name="Salle Vauban", kind=Resource.Kind.ROOM, opening_hours=EVERY_HOUR
    )


@pytest.fixture
def march(mutualab, room, vauban, desk, filature, filature_room, alice, bob, charlie, camille):
    """Mutualab (Mon–Fri 08:30–19:00) with Salle Jean Bart, Salle Vauban (24/7) and Poste 01."""
    # Closed Friday 19 → Sunday 21 March: only the Friday was open for Jean Bart and the desk.
    Closure.objects.create(
        space=mutualab, starts_on=dt.date(2027, 3, 19), ends_on=dt.date(2027, 3, 21)
    )
    # Vauban under maintenance Wednesday 10 and Thursday 11.
    Closure.objects.create(
        space=mutualab,
        resource=vauban,
        starts_on=dt.date(2027, 3, 10),
        ends_on=dt.date(2027, 3, 11),
    )
    # The desk, from Thursday 25 February to Monday 1 March: only the Monday is in March.
    Closure.objects.create(
        space=mutualab, resource=desk, starts_on=dt.date(2027, 2, 25), ends_on=dt.date(2027, 3, 1)
    )
    # Another space's closure and booking change nothing.
    Closure.objects.create(space=filature, starts_on=MARCH, ends_on=dt.date(2027, 3, 31))
    book(filature_room, charlie, paris(2027, 3, 2, 9), paris(2027, 3, 2, 12))

    dominique = MemberFactory(first_name="Dominique")
    return {
        # Jean Bart: 1.5 + 2.25 + 1 = 4.75 h in 3 bookings.
        "b1": book(room, alice, paris(2027, 3, 2, 9, 30), paris(2027, 3, 2, 11)),  # Tue
        "b2": book(room, bob, paris(2027, 3, 4, 14), paris(2027, 3, 4, 16, 15)),  # Thu
        "b3": book(  # cancelled: counts nowhere, and Camille is not an active member
            room,
            camille,
            paris(2027, 3, 8, 10),
            paris(2027, 3, 8, 12),
            status=Booking.Status.CANCELLED,
        ),
        "b4": book(room, charlie, paris(2027, 3, 29, 9), paris(2027, 3, 29, 10)),  # Mon, CEST
        # Vauban: 2 + 2 + 2 = 6 h in 3 bookings.
        # 01:00 CET (00:00 UTC) → 04:00 CEST (02:00 UTC): 2 real hours across spring forward.
        "b5": book(vauban, alice, paris(2027, 3, 28, 1), paris(2027, 3, 28, 4)),
        # Wednesday 31 March 22:00 → Thursday 1 April 02:00: counts in March, cut at midnight.
        "b6": book(vauban, bob, paris(2027, 3, 31, 22), paris(2027, 4, 1, 2)),
        # Starts in February: counts in February only.
        "b7": book(vauban, dominique, paris(2027, 2, 28, 23), paris(2027, 3, 1, 1)),
        "b8": book(vauban, bob, paris(2027, 3, 9, 10), paris(2027, 3, 9, 12)),  # Tue
        # Poste 01: 10.5 + 4.5 = 15 h in 2 bookings.
        "b9": book(desk, alice, paris(2027, 3, 3, 8, 30), paris(2027, 3, 3, 19)),  # Wed, a day
        "b10": book(desk, bob, paris(2027, 3, 26, 8, 30), paris(2027, 3, 26, 13)),  # Fri morning
    }


@pytest.fixture
def usage(mutualab, march):
    return booking_usage(mutualab, MARCH)


def test_it_counts_bookings_and_hours_by_resource(usage):
    # Open hours:
    #   Jean Bart: 23 weekdays × 10.5 h = 241.5, minus Friday 19 (10.5)               = 231.0
    #   Poste 01:  241.5 − Friday 19 (10.5) − Monday 1 (10.5)                          = 220.5
    #   Vauban:    31 × 24 = 744, − 1 (28 March lasts 23 h) = 743,
    #              − 19, 20, 21 March (72) − 10, 11 March (48)                         = 623.0
    # Occupancy: 4.75 / 231 = 0.02056…, 6 / 623 = 0.00963…, 15 / 220.5 = 0.06802…
    assert usage["resources"] == [
        {
            "id": usage["resources"][0]["id"],
            "name": "Poste 01",
            "kind": "desk",
            "bookings": 2,
            "booked_hours": 15.0,
            "open_hours": 220.5,
            "occupancy": 0.068,
        },
        {
            "id": usage["resources"][1]["id"],
            "name": "Salle Jean Bart",
            "kind": "room",
            "bookings": 3,
            "booked_hours": 4.75,
            "open_hours": 231.0,
            "occupancy": 0.0206,
        },
        {
            "id": usage["resources"][2]["id"],
            "name": "Salle Vauban",
            "kind": "room",
            "bookings": 3,
            "booked_hours": 6.0,
            "open_hours": 623.0,
            "occupancy": 0.0096,
        },
    ]


def test_it_totals_by_kind_and_for_the_space(usage):
    # Rooms: 3 + 3 bookings, 4.75 + 6 = 10.75 h over 231 + 623 = 854 h → 0.01259 → 0.0126.
    # Space: 8 bookings, 25.75 h over 220.5 + 854 = 1074.5 h → 0.02396 → 0.024.
    assert usage["kinds"] == {
        "desk": {"bookings": 2, "booked_hours": 15.0, "open_hours": 220.5, "occupancy": 0.068},
        "room": {"bookings": 6, "booked_hours": 10.75, "open_hours": 854.0, "occupancy": 0.0126},
        "machine": {"bookings": 0, "booked_hours": 0.0, "open_hours": 0.0, "occupancy": None},
    }
    assert usage["totals"] == {
        "bookings": 8,
        "booked_hours": 25.75,
        "open_hours": 1074.5,
        "occupancy": 0.024,
    }


def test_the_month_is_the_local_month(usage):
    assert usage["month"] == "2027-03"
    assert usage["period"] == {
        "start": "2027-03-01T00:00:00+01:00",
        "end": "2027-04-01T00:00:00+02:00",
    }


def test_the_heatmap_files_hours_under_their_wall_clock_hour(usage):
    expected = [[0.0] * 24 for _ in range(7)]

    def cell(weekday: int, hour: int) -> float:
        return expected[weekday - 1][hour]

    def add(weekday: int, hour: int, booked: float) -> None:
        expected[weekday - 1][hour] += booked

    add(TUE, 9, 0.5)  # b1 09:30–11:00
    add(TUE, 10, 1.0)
    add(THU, 14, 1.0)  # b2 14:00–16:15
    add(THU, 15, 1.0)
    add(THU, 16, 0.25)
    add(MON, 9, 1.0)  # b4 09:00–10:00, summer time: still the 9 o'clock cell
    add(SUN, 1, 1.0)  # b5 01:00–04:00 on 28 March: 02:00 never happens
    add(SUN, 3, 1.0)
    add(WED, 22, 1.0)  # b6 22:00–24:00 on 31 March
    add(WED, 23, 1.0)
    add(TUE, 10, 1.0)  # b8 10:00–12:00
    add(TUE, 11, 1.0)
    add(WED, 8, 0.5)  # b9 08:30–19:00
    for hour in range(9, 19):
        add(WED, hour, 1.0)
    add(FRI, 8, 0.5)  # b10 08:30–13:00
    for hour in range(9, 13):
        add(FRI, hour, 1.0)

    assert usage["heatmap"] == expected
    assert len(usage["heatmap"]) == 7 and {len(row) for row in usage["heatmap"]} == {24}
    assert cell(TUE, 10) == 2.0 and cell(SUN, 2) == 0.0
    assert sum(map(sum, usage["heatmap"])) == usage["totals"]["booked_hours"] == 25.75


def test_it_ranks_the_busiest_weekdays_and_hours(usage):
    # Wed 10.5 + 2 = 12.5; Fri 4.5; Tue 0.5 + 1 + 2 = 3.5; Thu 2.25; Sun 2; Mon 1; Sat nothing.
    assert usage["busiest_weekdays"] == [
        {"weekday": WED, "booked_hours": 12.5},
        {"weekday": FRI, "booked_hours": 4.5},
        {"weekday": TUE, "booked_hours": 3.5},
        {"weekday": THU, "booked_hours": 2.25},
        {"weekday": SUN, "booked_hours": 2.0},
        {"weekday": MON, "booked_hours": 1.0},
    ]
    # 10: Tue 2 + Wed 1 + Fri 1 = 4; 9: Mon 1 + Tue 0.5 + Wed 1 + Fri 1 = 3.5;
    # 11: Tue 1 + Wed 1 + Fri 1 = 3; 12, 14, 15: 2 each; 16: Wed 1 + Thu 0.25 = 1.25;
    # then 1 h each, by hour: 1 and 3 (Sun), 8 (Wed 0.5 + Fri 0.5), 13, 17, 18, 22, 23 (Wed).
    assert usage["busiest_hours"] == [
        {"hour": 10, "booked_hours": 4.0},
        {"hour": 9, "booked_hours": 3.5},
        {"hour": 11, "booked_hours": 3.0},
        {"hour": 12, "booked_hours": 2.0},
        {"hour": 14, "booked_hours": 2.0},
        {"hour": 15, "booked_hours": 2.0},
        {"hour": 16, "booked_hours": 1.25},
        {"hour": 1, "booked_hours": 1.0},
        {"hour": 3, "booked_hours": 1.0},
        {"hour": 8, "booked_hours": 1.0},
        {"hour": 13, "booked_hours": 1.0},
        {"hour": 17, "booked_hours": 1.0},
        {"hour": 18, "booked_hours": 1.0},
        {"hour": 22, "booked_hours": 1.0},
        {"hour": 23, "booked_hours": 1.0},
    ]


def test_it_counts_the_members_with_a_confirmed_booking(usage):
    # Alice, Bob and Charlie; not Camille (cancelled) nor Dominique (February).
    assert usage["distinct_members"] == 3


def test_the_booking_across_the_month_end_counts_in_april_for_nothing(mutualab, march):
    april = booking_usage(mutualab, dt.date(2027, 4, 1))

    assert april["totals"]["bookings"] == 0
    assert april["totals"]["booked_hours"] == 0.0


def test_february_keeps_the_booking_that_started_there_cut_at_midnight(mutualab, march):
    february = booking_usage(mutualab, dt.date(2027, 2, 1))

    vauban = next(r for r in february["resources"] if r["name"] == "Salle Vauban")
    assert (vauban["bookings"], vauban["booked_hours"]) == (1, 1.0)  # 23:00 → 24:00
    assert february["heatmap"][SUN - 1][23] == 1.0


def test_an_hour_repeated_when_clocks_go_back_is_filed_twice(mutualab, vauban, alice):
    # Sunday 25 October 2026: 01:00 CEST (23:00 UTC) → 04:00 CET (03:00 UTC) lasts 4 hours,
    # and 02:00–03:00 happens twice.
    book(vauban, alice, paris(2026, 10, 25, 1), paris(2026, 10, 25, 4))

    october = booking_usage(mutualab, dt.date(2026, 10, 1))

    assert october["totals"]["booked_hours"] == 4.0
    assert october["heatmap"][SUN - 1][:5] == [0.0, 1.0, 2.0, 1.0, 0.0]
    vauban_figures = next(r for r in october["resources"] if r["name"] == "Salle Vauban")
    assert vauban_figures["open_hours"] == 31 * 24 + 1  # the 25-hour day


def test_a_month_without_open_hours_has_no_occupancy(mutualab, room):
    Closure.objects.create(space=mutualab, starts_on=MARCH, ends_on=dt.date(2027, 3, 31))

    usage = booking_usage(mutualab, MARCH)

    assert usage["resources"][0]["open_hours"] == 0.0
    assert usage["resources"][0]["occupancy"] is None


def test_an_inactive_resource_appears_only_when_it_was_booked(mutualab, room, vauban, alice):
    Resource.objects.filter(pk__in=[room.pk, vauban.pk]).update(is_active=False)
    book(vauban, alice, paris(2027, 3, 2, 9), paris(2027, 3, 2, 10))

    usage = booking_usage(mutualab, MARCH)

    assert [r["name"] for r in usage["resources"]] == ["Salle Vauban"]


def test_the_number_of_queries_does_not_grow_with_the_data(mutualab, march, alice):
    with CaptureQueriesContext(connection) as few:
        booking_usage(mutualab, MARCH)

    # Ten times more: resources (with their own hours and closures), members and bookings.
    for n in range(30):
        resource = ResourceFactory(
            space=mutualab,
            name=f"Salle {n:02}",
            opening_hours=EVERY_HOUR if n % 2 else None,
        )
        Closure.objects.create(
            space=mutualab, resource=resource, starts_on=MARCH, ends_on=dt.date(2027, 3, 2)
        )
        member = MemberFactory()
        MembershipFactory(member=member, space=mutualab)
        for day in (3, 4, 5):
            book(resource, member, paris(2027, 3, day, 9), paris(2027, 3, day, 10, 30))
    with CaptureQueriesContext(connection) as many:
        usage = booking_usage(mutualab, MARCH)

    assert usage["totals"]["bookings"] == 8 + 90
    assert usage["distinct_members"] == 3 + 30
    # Wednesday 3: b9 (1 h at 9, 1 h at 10) plus 30 × 09:00–10:30.
    assert usage["heatmap"][WED - 1][9:11] == [1.0 + 30, 1.0 + 30 * 0.5]
    assert len(many) == len(few) == 4
