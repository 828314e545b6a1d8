"""Booking emails, sent through the outbox so that a broker outage never fails a booking."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import formats, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from coworking.outbox import outbox_add, outbox_handler

from .models import Booking


def booking_notify(booking: Booking, event: str) -> None:
    """Queue the member's email about `booking` ("confirmed" or "cancelled")."""
    outbox_add(f"booking.{event}", {"booking_id": booking.pk})


def _ics(booking: Booking, cancelled: bool) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//ch'tipass//bookings//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@{settings.SITE_URL.split('://')[-1]}")
    event.add("summary", f"{booking.resource.name} — {booking.resource.space.name}")
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("dtstamp", booking.created_at)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def _send(payload: dict[str, Any], cancelled: bool) -> None:
    booking = (
        Booking.objects.select_related("resource__space", "member")
        .filter(pk=payload["booking_id"])
        .first()
    )
    if booking is None:
        return
    member, space = booking.member, booking.resource.space
    with translation.override(member.language or settings.LANGUAGE_CODE):
        start = booking.start.astimezone(space.tz)
        end = booking.end.astimezone(space.tz)
        when = _("%(day)s, %(start)s–%(end)s") % {
            "day": formats.date_format(start, "l j F Y"),
            "start": formats.time_format(start, "H:i"),
            "end": formats.time_format(end, "H:i"),
        }
        values = {
            "resource": booking.resource.name,
            "space": space.name,
            "when": when,
            "name": member.first_name,
        }
        if cancelled:
            subject = _("Réservation annulée : %(resource)s, %(when)s") % values
            body = (
                _(
                    "Bonjour %(name)s,\n\nVotre réservation de %(resource)s à %(space)s "
                    "(%(when)s) est annulée.\n\nch'tipass"
                )
                % values
            )
        else:
            subject = _("Réservation confirmée : %(resource)s, %(when)s") % values
            body = (
                _(
                    "Bonjour %(name)s,\n\nVotre réservation de %(resource)s à %(space)s est "
                    "confirmée : %(when)s.\nL'événement est joint pour votre agenda.\n\n"
                    "ch'tipass"
                )
                % values
            )
    message = EmailMessage(subject, body, to=[member.email])
    message.attach("reservation.ics", _ics(booking, cancelled), "text/calendar")
    message.send()


@outbox_handler("booking.confirmed")
def _booking_confirmed(payload: dict[str, Any]) -> None:
    _send(payload, cancelled=False)


@outbox_handler("booking.cancelled")
def _booking_cancelled(payload: dict[str, Any]) -> None:
    _send(payload, cancelled=True)
