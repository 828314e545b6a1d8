"""Europe/Paris daylight-saving changes never shift or lose a booking.

Summer time starts on Sunday 28 March 2027 (02:00 → 03:00) and ended on Sunday 25 October 2026
(03:00 → 02:00). A wall-clock time the clocks skip is refused; one they repeat is read as
spaces/wall_clock.py says; what is confirmed is what is stored.
"""

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from coworking import outbox
from coworking.models import OutboxMessage
from spaces.availability import space_availability
from spaces.models import Booking
from spaces.rules import BookingError
from spaces.services import booking_create, booking_series_create

from .conftest import paris

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
ALL_DAY_EVERY_DAY = {
    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


@pytest.fixture
def open_all_week(mutualab, room):
    mutualab.opening_hours = ALL_DAY_EVERY_DAY
    mutualab.max_booking_minutes = 24 * 60
    mutualab.save()
    room.refresh_from_db()
    return room


def test_a_weekly_series_keeps_its_wall_clock_time_across_spring_forward(alice, room):
    with time_machine.travel(paris(2027, 3, 15, 9), tick=False):
        series = booking_series_create(
            member=alice,
            resource=room,
            until=dt.date(2027, 4, 5),
            start=paris(2027, 3, 22, 10),
            end=paris(2027, 3, 22, 11),
        )
    bookings = list(series.bookings.order_by("start"))
    assert [b.start.astimezone(room.space.tz).hour for b in bookings] == [10, 10, 10]
    # 09:00 UTC in winter, 08:00 UTC in summer: the stored instant moves, the local hour not.
    assert [b.start.astimezone(UTC).hour for b in bookings] == [9, 8, 8]
    assert all(b.end - b.start == dt.timedelta(hours=1) for b in bookings)


def test_a_weekly_series_keeps_its_wall_clock_time_across_fall_back(alice, room):
    with time_machine.travel(paris(2026, 10, 12, 9), tick=False):
        series = booking_series_create(
            member=alice,
            resource=room,
            until=dt.date(2026, 11, 2),
            start=paris(2026, 10, 19, 18),
            end=paris(2026, 10, 19, 19),
        )
    local_hours = [
        b.start.astimezone(room.space.tz).hour for b in series.bookings.order_by("start")
    ]
    assert local_hours == [18, 18, 18]


def test_a_booking_across_spring_forward_lasts_its_real_duration(alice, open_all_week):
    with time_machine.travel(paris(2027, 3, 26, 9), tick=False):
        booking = booking_create(
            member=alice,
            resource=open_all_week,
            start=paris(2027, 3, 28, 1),
            end=paris(2027, 3, 28, 4),
        )
    booking.refresh_from_db()
    assert booking.end - booking.start == dt.timedelta(hours=2)  # 02:00–03:00 does not exist
    assert booking.start.astimezone(open_all_week.space.tz).hour == 1
    assert booking.end.astimezone(open_all_week.space.tz).hour == 4


def test_the_repeated_hour_of_fall_back_can_be_booked_twice_without_conflict(
    alice, bob, open_all_week
):
    first = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=0)
    second = first.replace(fold=1)
    with time_machine.travel(paris(2026, 10, 20, 9), tick=False):
        # Aware arithmetic on one tzinfo is wall-clock: go through UTC for a real hour.
        a = booking_create(
            member=alice,
            resource=open_all_week,
            start=first,
            end=first.astimezone(UTC) + dt.timedelta(hours=1),
        )
        b = booking_create(
            member=bob,
            resource=open_all_week,
            start=second.astimezone(UTC),
            end=paris(2026, 10, 25, 4),
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.start.astimezone(UTC) == dt.datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert b.start.astimezone(UTC) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert Booking.objects.count() == 2


def test_desk_half_days_on_the_day_after_a_change_are_at_local_hours(alice, desk):
    with time_machine.travel(paris(2027, 3, 26, 9), tick=False):
        from spaces.schedule import desk_periods

        periods = desk_periods(desk, dt.date(2027, 3, 29))
        booking = booking_create(
            member=alice, resource=desk, start=periods["morning"][0], end=periods["morning"][1]
        )
    booking.refresh_from_db()
    local = booking.start.astimezone(desk.space.tz)
    assert (local.hour, local.minute) == (8, 30)
    assert booking.start.astimezone(UTC).hour == 6  # summer time: UTC+2


def test_availability_on_the_short_day_shows_local_opening_hours(mutualab, open_all_week):
    day = dt.date(2027, 3, 28)
    [entry] = space_availability(mutualab, day)
    assert entry["open"] == [
        {"start": "2027-03-28T00:00:00+01:00", "end": "2027-03-29T00:00:00+02:00"}
    ]


def test_availability_of_the_fall_back_day_keeps_both_passes_of_the_repeated_hour(
    alice, bob, mutualab, open_all_week
):
    # 02:00–02:30 is booked twice: in summer time (00:00 UTC), then in winter time (01:00 UTC).
    summer = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=0)
    winter = summer.replace(fold=1)
    for member, start in ((alice, summer), (bob, winter)):
        start = start.astimezone(UTC)
        Booking.objects.create(
            resource=open_all_week,
            member=member,
            start=start,
            end=start + dt.timedelta(minutes=30),
        )

    [entry] = space_availability(mutualab, dt.date(2026, 10, 25), member=alice)

    assert entry["booked"] == [
        {"start": "2026-10-25T02:00:00+02:00", "end": "2026-10-25T02:30:00+02:00", "mine": True},
        {"start": "2026-10-25T02:00:00+01:00", "end": "2026-10-25T02:30:00+01:00", "mine": False},
    ]
    # Compared as instants, not as wall-clock times: the half hour between them is free.
    assert entry["free"] == [
        {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-25T02:00:00+02:00"},
        {"start": "2026-10-25T02:30:00+02:00", "end": "2026-10-25T02:00:00+01:00"},
        {"start": "2026-10-25T02:30:00+01:00", "end": "2026-10-26T00:00:00+01:00"},
    ]


def test_a_desk_booked_in_the_second_pass_of_the_repeated_hour_is_not_free(alice, mutualab, desk):
    mutualab.opening_hours = ALL_DAY_EVERY_DAY
    mutualab.half_day_split = dt.time(2, 30)
    mutualab.save()
    winter = dt.datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"), fold=1)
    Booking.objects.create(
        resource=desk,
        member=alice,
        start=winter.astimezone(UTC),
        end=winter.astimezone(UTC) + dt.timedelta(minutes=45),
    )

    [entry] = space_availability(mutualab, dt.date(2026, 10, 25))

    # The booking is 01:00–01:45 UTC, after the morning (22:00–00:30 UTC) has ended.
    assert entry["periods"]["morning"]["free"] is True
    assert entry["periods"]["afternoon"]["free"] is False
    assert entry["periods"]["day"]["free"] is False


# --- 2027: a room open around the clock, times given as the wall clock reads them ---------
# Summer time starts on Sunday 28 March 2027 (02:00 → 03:00: 02:00–02:59 do not exist) and ends
# on Sunday 31 October 2027 (03:00 → 02:00: 02:00–02:59 happen twice, first at UTC+2).

SPRING = dt.date(2027, 3, 28)
AUTUMN = dt.date(2027, 10, 31)


def wall(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A naive wall-clock time, as the web form, the admin and the shell give them."""
    return dt.datetime.combine(day, dt.time(hour, minute))


def utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


@pytest.fixture
def before_spring():
    with time_machine.travel(paris(2027, 3, 20, 9), tick=False):
        yield


@pytest.fixture
def before_autumn():
    with time_machine.travel(paris(2027, 10, 20, 9), tick=False):
        yield


@pytest.mark.parametrize(
    ("start", "end"),
    [((2, 0), (3, 0)), ((2, 15), (4, 0)), ((1, 0), (2, 30))],
    ids=["the-skipped-hour", "from-inside-it", "to-inside-it"],
)
def test_a_wall_clock_time_the_clocks_skip_is_refused(
    alice, open_all_week, before_spring, start, end
):
    with pytest.raises(BookingError) as refused:
        booking_create(
            member=alice,
            resource=open_all_week,
            start=wall(SPRING, *start),
            end=wall(SPRING, *end),
        )
    assert refused.value.code == "nonexistent_local_time"
    assert not Booking.objects.exists()


def test_the_api_refuses_a_skipped_time_with_a_400_and_its_code(
    api, alice, open_all_week, before_spring
):
    answer = api.as_(alice).post(
        "/api/v1/bookings/",
        {"resource": open_all_week.pk, "start": "2027-03-28T02:15:00", "end": "2027-03-28T04:00"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "nonexistent_local_time"
    assert answer.json()["fields"] == {"local_time": "2027-03-28T02:15:00"}
    assert not Booking.objects.exists()


def test_the_api_reads_a_time_without_offset_in_the_space_timezone_and_confirms_what_it_stores(
    api, alice, open_all_week, before_spring
):
    answer = api.as_(alice).post(
        "/api/v1/bookings/",
        {"resource": open_all_week.pk, "start": "2027-03-28T01:30", "end": "2027-03-28T03:30"},
    )
    assert answer.status_code == 201
    booking = Booking.objects.get()
    # 01:30 winter time to 03:30 summer time: one real hour, the hour between never was.
    assert (booking.start, booking.end) == (utc(SPRING, 0, 30), utc(SPRING, 1, 30))
    body = answer.json()
    assert (body["start"], body["end"]) == (
        "2027-03-28T01:30:00+01:00",
        "2027-03-28T03:30:00+02:00",
    )


def test_the_member_form_refuses_a_skipped_time_with_the_rule_not_an_error_page(
    client, alice, open_all_week, before_spring
):
    client.force_login(alice)
    answer = client.post(
        "/reserver/nouvelle/",
        {"resource": open_all_week.pk, "date": SPRING, "start": "02:00", "end": "03:00"},
        follow=True,
    )
    assert answer.status_code == 200
    assert str(BookingError("nonexistent_local_time").message) in html.unescape(
        answer.content.decode()
    )
    assert not Booking.objects.exists()


def test_a_weekly_series_with_an_occurrence_in_the_skipped_hour_books_nothing_and_says_which(
    alice, open_all_week, before_spring
):
    with pytest.raises(BookingError) as refused:
        booking_series_create(
            member=alice,
            resource=open_all_week,
            start=paris(2027, 3, 21, 2, 15),
            end=paris(2027, 3, 21, 2, 45),
            until=dt.date(2027, 4, 4),
        )
    assert refused.value.code == "nonexistent_local_time"
    assert refused.value.fields["occurrence"] == "2027-03-28"
    assert not Booking.objects.exists()


def test_the_day_view_offers_no_start_time_the_clocks_skip(
    client, alice, open_all_week, before_spring
):
    client.force_login(alice)
    page = client.get(f"/reserver/?date={SPRING}")
    starts = page.context["view"].rooms[0].starts
    assert "01:45" in starts and "03:00" in starts
    assert not [time for time in starts if time.startswith("02:")]


def test_a_half_hour_in_the_repeated_hour_lasts_half_an_hour(alice, open_all_week, before_autumn):
    booking = booking_create(
        member=alice, resource=open_all_week, start=wall(AUTUMN, 2, 30), end=wall(AUTUMN, 3)
    )
    booking.refresh_from_db()
    # The half hour before 03:00 winter time: after the second 02:30, not an hour and a half.
    assert (booking.start, booking.end) == (utc(AUTUMN, 1, 30), utc(AUTUMN, 2))


def test_inside_the_repeated_hour_the_first_pass_is_the_one_booked(
    alice, open_all_week, before_autumn
):
    booking = booking_create(
        member=alice, resource=open_all_week, start=wall(AUTUMN, 2), end=wall(AUTUMN, 2, 30)
    )
    booking.refresh_from_db()
    assert (booking.start, booking.end) == (utc(AUTUMN, 0), utc(AUTUMN, 0, 30))


def test_a_weekly_series_keeps_the_wall_clock_length_on_the_night_the_clocks_go_back(
    alice, open_all_week, before_autumn
):
    series = booking_series_create(
        member=alice,
        resource=open_all_week,
        start=wall(dt.date(2027, 10, 24), 2, 30),
        end=wall(dt.date(2027, 10, 24), 3),
        until=dt.date(2027, 11, 7),
    )
    bookings = list(series.bookings.order_by("start"))
    assert [b.end - b.start for b in bookings] == [dt.timedelta(minutes=30)] * 3
    assert [b.start.astimezone(open_all_week.space.tz).strftime("%H:%M") for b in bookings] == [
        "02:30"
    ] * 3
    assert bookings[1].start == utc(AUTUMN, 1, 30)


def test_what_the_api_email_and_calendar_confirm_is_what_is_stored(
    api, alice, open_all_week, before_autumn, settings
):
    settings.SITE_URL = "https://chtipass.example"
    answer = api.as_(alice).post(
        "/api/v1/bookings/",
        {"resource": open_all_week.pk, "start": "2027-10-31T02:30", "end": "2027-10-31T03:00"},
    )
    assert answer.status_code == 201
    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (utc(AUTUMN, 1, 30), utc(AUTUMN, 2))
    body = answer.json()
    assert dt.datetime.fromisoformat(body["start"]) == booking.start
    assert dt.datetime.fromisoformat(body["end"]) == booking.end
    assert body["start"] == "2027-10-31T02:30:00+01:00"

    for message in OutboxMessage.objects.filter(done_at__isnull=True):
        assert outbox.outbox_deliver(message.pk)
    [email] = mail.outbox
    # 02:30 happens twice that night: the email says which.
    assert "dimanche 31 octobre 2027, 02:30 (UTC+01:00)–03:00" in email.body
    [event] = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")
    assert event.decoded("dtstart") == booking.start
    assert event.decoded("dtend") == booking.end

    [event] = Calendar.from_ical(api.get(f"/calendar/{alice.calendar_token}.ics").content).walk(
        "VEVENT"
    )
    assert event.decoded("dtstart") == booking.start
    assert event.decoded("dtend") == booking.end


def test_the_member_form_books_the_repeated_hour_and_says_which_pass(
    client, alice, open_all_week, before_autumn
):
    client.force_login(alice)
    answer = client.post(
        "/reserver/nouvelle/",
        {"resource": open_all_week.pk, "date": AUTUMN, "start": "02:30", "end": "03:00"},
        follow=True,
    )
    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (utc(AUTUMN, 1, 30), utc(AUTUMN, 2))
    assert "02:30 (UTC+01:00)–03:00" in html.unescape(answer.content.decode())


def test_the_day_view_offers_both_passes_of_the_repeated_hour(
    client, alice, open_all_week, before_autumn
):
    client.force_login(alice)
    page = client.get(f"/reserver/?date={AUTUMN}")
    starts = page.context["view"].rooms[0].starts
    assert starts.count("02:15") == 2
    assert len(starts) == 25 * 4  # a 25-hour day of quarter hours


def test_a_booking_may_end_at_the_midnight_that_closes_the_day(
    client, alice, open_all_week, before_autumn
):
    client.force_login(alice)
    client.post(
        "/reserver/nouvelle/",
        {"resource": open_all_week.pk, "date": "2027-10-27", "start": "23:00", "end": "00:00"},
    )
    booking = Booking.objects.get()
    assert booking.end == paris(2027, 10, 28, 0)


def admin_booking(resource, member, day: dt.date, start: str, end: str) -> dict[str, str]:
    return {
        "resource": str(resource.pk),
        "member": str(member.pk),
        "start_0": day.isoformat(),
        "start_1": start,
        "end_0": day.isoformat(),
        "end_1": end,
        "note": "",
    }


def test_the_admin_refuses_a_skipped_time_on_its_field(
    client, camille, alice, open_all_week, before_spring
):
    client.force_login(camille)
    answer = client.post(
        "/admin/spaces/booking/add/", admin_booking(open_all_week, alice, SPRING, "02:15", "04:00")
    )
    assert answer.status_code == 200
    form = answer.context["adminform"].form
    assert [error.code for error in form.errors.as_data()["start"]] == ["nonexistent_local_time"]
    assert not Booking.objects.exists()


def test_the_admin_reads_the_repeated_hour_as_the_api_and_the_member_form_do(
    client, camille, alice, open_all_week, before_autumn
):
    client.force_login(camille)
    answer = client.post(
        "/admin/spaces/booking/add/", admin_booking(open_all_week, alice, AUTUMN, "02:30", "03:00")
    )
    assert answer.status_code == 302
    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (utc(AUTUMN, 1, 30), utc(AUTUMN, 2))


def test_a_time_without_offset_is_read_in_the_space_timezone_not_the_server_one(
    api, alice, mutualab, open_all_week, before_autumn
):
    mutualab.timezone = "Europe/London"
    mutualab.save()
    answer = api.as_(alice).post(
        "/api/v1/bookings/",
        {"resource": open_all_week.pk, "start": "2027-10-22T10:00", "end": "2027-10-22T11:00"},
    )
    assert answer.status_code == 201
    booking = Booking.objects.get()
    assert booking.start == utc(dt.date(2027, 10, 22), 9)  # 10:00 in London (UTC+1 then)


def test_my_bookings_page_says_which_pass_of_the_repeated_hour(
    client, alice, open_all_week, before_autumn
):
    booking_create(
        member=alice, resource=open_all_week, start=wall(AUTUMN, 2, 30), end=wall(AUTUMN, 3)
    )
    client.force_login(alice)
    page = html.unescape(client.get("/reservations/").content.decode())
    assert "02:30 (UTC+01:00)–03:00" in page
