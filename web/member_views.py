"""Member pages: book by day, my bookings and my calendar link.

Thin: the booking services decide and word every refusal (BookingError); these views parse the
request, call them, and show the outcome as a message on the page the member came from.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coworking.http import AuthenticatedHttpRequest
from spaces.availability import space_availability
from spaces.models import Booking, Membership, Resource, Space
from spaces.notifications import booking_times, booking_when
from spaces.rules import BookingError, BookingRules
from spaces.services import booking_cancel, booking_create

from .member_day import DayView, day_view

PAST_BOOKINGS_PER_PAGE = 20
# The date picker accepts any day in this range around today (the service has the final word).
DAY_RANGE = dt.timedelta(days=366)


def member_spaces(member) -> list[Space]:
    """Spaces where `member` holds a membership that has not ended, their home space first."""
    memberships = (
        Membership.objects.filter(member=member)
        .exclude(status=Membership.Status.ENDED)
        .select_related("space")
        .order_by("starts_on", "id")
    )
    # A co-manager's membership counts too, but a plain membership is "home" when there is one.
    ordered = sorted(memberships, key=lambda m: m.role != Membership.Role.MEMBER)
    spaces: list[Space] = []
    for membership in ordered:
        if membership.space not in spaces:
            spaces.append(membership.space)
    return spaces


def _day(value: str | None, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return today
    return day if abs(day - today) <= DAY_RANGE else today


def _book_url(day: dt.date, space: Space | None = None) -> str:
    query = {"date": day.isoformat()}
    if space is not None:
        query["space"] = space.slug
    return f"{reverse('web:book')}?{urlencode(query)}"


@login_required
def book(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A day of one space: free desks (by period), rooms and machines (by 15-minute slots)."""
    spaces = member_spaces(request.user)
    if not spaces:
        return render(request, "web/member/book.html", {"spaces": []})
    space = next((s for s in spaces if s.slug == request.GET.get("space")), spaces[0])
    today = timezone.localtime(timezone.now(), space.tz).date()
    day = _day(request.GET.get("date"), today)
    view: DayView = day_view(
        space,
        day,
        space_availability(space, day, member=request.user),
        now=timezone.now(),
    )
    return render(
        request,
        "web/member/book.html",
        {
            "spaces": spaces,
            "space": space,
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "view": view,
        },
    )


class BookingRequestForm(forms.Form):
    """What one tap on the day view sends: a desk and a period, or a room/machine and times."""

    resource = forms.ModelChoiceField(queryset=Resource.objects.select_related("space"))
    date = forms.DateField()
    period = forms.ChoiceField(
        choices=[(name, name) for name in ("day", "morning", "afternoon")], required=False
    )
    start = forms.TimeField(required=False)
    end = forms.TimeField(required=False)


def _requested(data: dict) -> dict:
    """What the form asks for, in the booking service's terms: a desk period of the day, or
    wall-clock times of that day, which the service reads in the space's timezone."""
    resource, day = data["resource"], data["date"]
    if resource.kind == Resource.Kind.DESK:
        return {"day": day, "period": data["period"]}
    if data["start"] is None or data["end"] is None:
        raise BookingError("invalid_interval")
    # The day view offers an end at midnight as 00:00: the midnight that closes the day.
    try:
        end_day = day + dt.timedelta(days=1) if data["end"] == dt.time(0) else day
    except OverflowError:  # the last day `date` knows
        raise BookingError("too_far_ahead") from None
    return {
        "start": dt.datetime.combine(day, data["start"]),
        "end": dt.datetime.combine(end_day, data["end"]),
    }


@login_required
@require_POST
def booking_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Book what the day view's button or form asked for; back to the same day either way."""
    form = BookingRequestForm(request.POST)
    if not form.is_valid():
        if "resource" in form.errors:
            messages.error(request, BookingError("resource_unavailable").message)
        else:
            messages.error(request, _("Choisissez un jour et un créneau."))
        today = timezone.localdate()
        day = _day(request.POST.get("date"), today)
        space = next(
            (s for s in member_spaces(request.user) if s.slug == request.POST.get("space")), None
        )
        return redirect(_book_url(day, space))
    resource: Resource = form.cleaned_data["resource"]
    back = _book_url(form.cleaned_data["date"], resource.space)
    try:
        booking = booking_create(
            member=request.user, resource=resource, **_requested(form.cleaned_data)
        )
    except BookingError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(
        request,
        _("Réservé : %(resource)s, %(when)s.")
        % {"resource": resource.name, "when": booking_when(booking)},
    )
    return redirect(back)


@login_required
def bookings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My upcoming bookings, the past and cancelled ones page by page, and my calendar link."""
    now = timezone.now()
    mine = Booking.objects.filter(member=request.user).select_related("resource__space")
    upcoming = list(
        mine.filter(status=Booking.Status.CONFIRMED, end__gt=now).order_by("start", "id")
    )
    for booking in upcoming:
        # Shown as information only: booking_cancel decides when the button is pressed.
        cutoff = BookingRules.for_resource(booking.resource).cancellation_cutoff_minutes
        # Attributes for the template only.
        booking.cancel_until = booking.start - dt.timedelta(minutes=cutoff)  # type: ignore[attr-defined]
    past = mine.filter(Q(end__lte=now) | Q(status=Booking.Status.CANCELLED)).order_by(
        "-start", "-id"
    )
    page = Paginator(past, PAST_BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    for booking in [*upcoming, *page]:
        booking.times = booking_times(booking)  # type: ignore[attr-defined]
    feed_url = request.build_absolute_uri(
        reverse("calendar-feed", kwargs={"token": request.user.calendar_token})
    )
    return render(
        request,
        "web/member/bookings.html",
        {
            "upcoming": upcoming,
            "past_page": page,
            "now": now,
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        },
    )


@login_required
@require_POST
def booking_cancel_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Cancel one of my bookings (someone else's is a 404, as in the API)."""
    booking = get_object_or_404(
        Booking.objects.select_related("resource__space"), pk=pk, member=request.user
    )
    try:
        booking_cancel(booking=booking, actor=request.user)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Réservation annulée : %(resource)s, %(when)s.")
            % {
                "resource": booking.resource.name,
                "when": booking_when(booking),
            },
        )
    return redirect("web:bookings")


@login_required
@require_POST
def calendar_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new secret iCal URL; the old one stops working at once."""
    request.user.rotate_calendar_token()
    messages.success(
        request,
        _("Nouveau lien d'agenda créé : l'ancien ne fonctionne plus. Mettez à jour votre agenda."),
    )
    return redirect(reverse("web:bookings") + "#agenda")
