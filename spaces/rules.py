"""Booking rules of a resource (with the space's defaults) and the domain error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import Resource

SLOT_MINUTES = 15


class BookingError(Exception):
    """A booking rule refused the request; `code` is stable and machine-readable."""

    # code -> default message; the API turns `booking_conflict` into 409, the rest into 400.
    MESSAGES = {
        "booking_conflict": _("Ce créneau est déjà réservé."),
        "forbidden": _("Vous n'avez pas le droit de faire cela."),
        "resource_unavailable": _("Cette ressource n'est pas réservable."),
        "invalid_interval": _("La fin doit être après le début."),
        "nonexistent_local_time": _(
            "Cette heure n'existe pas ce jour-là : les horloges avancent d'une heure."
        ),
        "not_on_slot": _("Les salles et machines se réservent par créneaux de 15 minutes."),
        "desk_period": _("Un poste se réserve à la journée ou à la demi-journée."),
        "in_past": _("Ce créneau est déjà passé."),
        "too_far_ahead": _("Ce créneau est trop loin dans le temps pour être réservé."),
        "closed": _("Le lieu ou la ressource est fermé ce jour-là."),
        "outside_opening_hours": _("Ce créneau sort des horaires d'ouverture."),
        "too_short": _("Cette réservation est plus courte que la durée minimale."),
        "too_long": _("Cette réservation dépasse la durée maximale."),
        "members_only": _("Cette ressource est réservée aux membres du lieu."),
        "membership_inactive": _("Votre adhésion à ce lieu n'est pas active."),
        "outside_membership": _("Ce créneau sort des dates de votre adhésion."),
        "training_required": _("Cette machine demande une formation que vous n'avez pas."),
        "desk_assigned": _("Ce poste fixe est attribué à un autre membre."),
        "max_active_bookings": _("Vous avez atteint le nombre maximal de réservations à venir."),
        "plan_days_exhausted": _("Votre formule ne vous donne plus de jours ce mois-ci."),
        "allowance_exhausted": _(
            "Votre ch'tipass ne vous donne plus assez de jours dans ce lieu ce mois-ci."
        ),
        "too_many_occurrences": _("Une série récurrente compte au plus 52 occurrences."),
        "already_cancelled": _("Cette réservation est déjà annulée."),
        "booking_started": _("Une réservation commencée ou passée ne s'annule plus."),
        "cancellation_cutoff_passed": _("Il est trop tard pour annuler cette réservation."),
    }

    def __init__(self, code: str, message: str | None = None, **fields: Any) -> None:
        self.code = code
        self.message = str(message or self.MESSAGES.get(code, code))
        self.fields = fields
        super().__init__(f"{code}: {self.message}")


@dataclass(frozen=True)
class BookingRules:
    min_minutes: int
    max_minutes: int
    horizon_days: int
    cancellation_cutoff_minutes: int
    max_active_bookings: int
    members_only: bool
    training_id: int | None
    by_period: bool  # desks: whole or half day; others: 15-minute slots

    @classmethod
    def for_resource(cls, resource: Resource) -> BookingRules:
        space = resource.space

        def pick(name: str) -> int:
            own = getattr(resource, name)
            return own if own is not None else getattr(space, name)

        return cls(
            min_minutes=pick("min_booking_minutes"),
            max_minutes=pick("max_booking_minutes"),
            horizon_days=pick("booking_horizon_days"),
            cancellation_cutoff_minutes=pick("cancellation_cutoff_minutes"),
            max_active_bookings=pick("max_active_bookings"),
            members_only=resource.members_only,
            training_id=resource.training_id,
            by_period=resource.kind == Resource.Kind.DESK,
        )
