"""A booking as an iCal event: the one shape the member's feed and the booking emails share.

The UID is the booking's, so a calendar app that subscribed to the feed or opened a
confirmation matches the cancellation of that booking (or of one occurrence of a series) later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from coworking.models import Member

from .models import Booking

PRODID = "-//ch'tipass//bookings//FR"
# The feed shows bookings that ended up to this long ago, and every later one.
FEED_PAST_DAYS = 90


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.pk}@{settings.SITE_URL.split('://')[-1]}"


def booking_event(booking: Booking, *, cancelled: bool) -> Event:
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("summary", f"{booking.resource.name} — {booking.resource.space.name}")
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("dtstamp", booking.created_at)
    event.add("location", booking.resource.space.address or booking.resource.space.name)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def bookings_ical(
    bookings: Iterable[Booking],
    *,
    cancelled: bool | None = None,
    method: str | None = None,
    name: str | None = None,
) -> bytes:
    """One event per booking. `cancelled` says what an email announces for all of them; left
    None, each event carries its booking's own state (the feed)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for booking in bookings:
        state = booking.is_cancelled if cancelled is None else cancelled
        calendar.add_component(booking_event(booking, cancelled=state))
    return calendar.to_ical()


def member_calendar(member: Member, *, now: dt.datetime | None = None) -> bytes:
    """The member's feed: bookings that ended in the last FEED_PAST_DAYS days and later ones,
    cancelled ones included (so that calendar apps drop them)."""
    since = (now or timezone.now()) - dt.timedelta(days=FEED_PAST_DAYS)
    bookings = (
        Booking.objects.filter(member=member, end__gte=since)
        .select_related("resource__space")
        .order_by("start")
    )
    return bookings_ical(bookings, name="ch'tipass")
