"""Booking emails, sent through the outbox so that a broker outage never fails a booking."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coworking.outbox import outbox_add, outbox_handler

from .calendar import bookings_ical
from .models import Booking
from .wall_clock import time_text


def booking_notify(booking: Booking, event: str) -> None:
    """Queue the member's email about `booking` ("confirmed" or "cancelled")."""
    outbox_add(f"booking.{event}", {"booking_id": booking.pk})


def series_notify(bookings: list[Booking], event: str) -> None:
    """Queue one email about several occurrences of a series ("confirmed" or "cancelled")."""
    if bookings:
        outbox_add(f"bookings.{event}", {"booking_ids": [booking.pk for booking in bookings]})


def _email_ics(bookings: list[Booking], cancelled: bool) -> bytes:
    return bookings_ical(bookings, cancelled=cancelled, method="CANCEL" if cancelled else "PUBLISH")


def booking_times(booking: Booking) -> str:
    """The booking's times in its space ("09:00–10:30"); a time the clocks read twice that
    night carries its UTC offset, so that the words name the stored instants."""
    tz = booking.resource.space.tz
    return f"{time_text(booking.start, tz)}–{time_text(booking.end, tz)}"


def booking_when(booking: Booking) -> str:
    """The booking's day and times in its space, as every message and email words them."""
    tz = booking.resource.space.tz
    return _("%(day)s, %(start)s–%(end)s") % {
        "day": formats.date_format(booking.start.astimezone(tz), "l j F Y"),
        "start": time_text(booking.start, tz),
        "end": time_text(booking.end, tz),
    }


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
        values = {
            "resource": booking.resource.name,
            "space": space.name,
            "when": booking_when(booking),
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
    message.attach("reservation.ics", _email_ics([booking], cancelled), "text/calendar")
    message.send()


def _send_several(payload: dict[str, Any], cancelled: bool) -> None:
    bookings = list(
        Booking.objects.select_related("resource__space", "member")
        .filter(pk__in=payload["booking_ids"])
        .order_by("start")
    )
    if not bookings:
        return
    first = bookings[0]
    member, resource = first.member, first.resource
    with translation.override(member.language or settings.LANGUAGE_CODE):
        values: dict[str, Any] = {
            "resource": resource.name,
            "space": resource.space.name,
            "count": len(bookings),
            "name": member.first_name,
            "list": "\n".join(f"- {booking_when(booking)}" for booking in bookings),
        }
        if cancelled:
            subject = (
                ngettext(
                    "Réservation annulée : %(resource)s, %(count)d créneau",
                    "Réservations annulées : %(resource)s, %(count)d créneaux",
                    len(bookings),
                )
                % values
            )
            intro = ngettext(
                "Bonjour %(name)s,\n\nCe créneau de %(resource)s à %(space)s est annulé :",
                "Bonjour %(name)s,\n\nCes créneaux de %(resource)s à %(space)s sont annulés :",
                len(bookings),
            )
        else:
            subject = (
                ngettext(
                    "Réservation confirmée : %(resource)s, %(count)d créneau",
                    "Réservations confirmées : %(resource)s, %(count)d créneaux",
                    len(bookings),
                )
                % values
            )
            intro = ngettext(
                "Bonjour %(name)s,\n\nCe créneau de %(resource)s à %(space)s est confirmé :",
                "Bonjour %(name)s,\n\nCes créneaux de %(resource)s à %(space)s sont confirmés :",
                len(bookings),
            )
        body = (intro % values) + "\n" + values["list"] + "\n\n"
        if not cancelled:
            body += _("Les événements sont joints pour votre agenda.") + "\n\n"
        body += "ch'tipass"
    message = EmailMessage(subject, body, to=[member.email])
    message.attach("reservations.ics", _email_ics(bookings, cancelled), "text/calendar")
    message.send()


@outbox_handler("booking.confirmed")
def _booking_confirmed(payload: dict[str, Any]) -> None:
    _send(payload, cancelled=False)


@outbox_handler("booking.cancelled")
def _booking_cancelled(payload: dict[str, Any]) -> None:
    _send(payload, cancelled=True)


@outbox_handler("bookings.confirmed")
def _bookings_confirmed(payload: dict[str, Any]) -> None:
    _send_several(payload, cancelled=False)


@outbox_handler("bookings.cancelled")
def _bookings_cancelled(payload: dict[str, Any]) -> None:
    _send_several(payload, cancelled=True)
