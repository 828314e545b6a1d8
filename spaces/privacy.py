"""The part of a member's data that `spaces` holds, for export and erasure
(coworking/privacy.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from coworking.models import Member
from coworking.privacy import Rows, export_rows

from .models import Booking, BookingSeries, Membership, TrainingRecord


def spaces_export(member: Member) -> dict[str, Rows]:
    return {
        "memberships": export_rows(
            member.memberships.order_by("id"),
            ["id", "space__slug", "plan__name", "status", "role", "starts_on", "ends_on"],
        ),
        "trainings": export_rows(
            TrainingRecord.objects.filter(member=member),
            ["training__name", "training__space__slug", "granted_on", "expires_on"],
        ),
        "bookings": export_rows(
            Booking.objects.filter(member=member).order_by("start"),
            [
                "id",
                "resource__name",
                "resource__space__slug",
                "start",
                "end",
                "status",
                "note",
                "created_at",
                "cancelled_at",
            ],
        ),
        "booking_series": export_rows(
            BookingSeries.objects.filter(member=member),
            ["id", "resource__name", "until", "created_at"],
        ),
    }


def spaces_erase(member: Member, *, actor: Member | None, now: dt.datetime) -> None:
    """Trainings go; memberships end today; future bookings are cancelled and notes cleared.
    Past bookings stay (anonymous): the spaces' figures keep their counts."""
    TrainingRecord.objects.filter(member=member).delete()
    Membership.objects.filter(member=member).exclude(status=Membership.Status.ENDED).update(
        status=Membership.Status.ENDED, ends_on=timezone.localdate(now)
    )
    Booking.objects.filter(member=member, start__gt=now, status=Booking.Status.CONFIRMED).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=actor
    )
    Booking.objects.filter(member=member).exclude(note="").update(note="")
