"""iCal feed of a member's bookings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from coworking.models import Member
from spaces.models import Booking

FEED_PAST_DAYS = 90


def bookings_calendar(member: Member) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//ch'tipass//bookings//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "ch'tipass")
    since = timezone.now() - dt.timedelta(days=FEED_PAST_DAYS)
    bookings = (
        Booking.objects.filter(member=member, end__gte=since)
        .select_related("resource__space")
        .order_by("start")
    )
    host = settings.SITE_URL.split("://")[-1]
    for booking in bookings:
        event = Event()
        event.add("uid", f"booking-{booking.pk}@{host}")
        event.add("summary", f"{booking.resource.name} — {booking.resource.space.name}")
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("dtstamp", booking.created_at)
        event.add("location", booking.resource.space.address or booking.resource.space.name)
        if booking.is_cancelled:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
