"""Spaces, plans, memberships, resources, trainings and bookings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .opening_hours import default_opening_hours, validate_opening_hours

TIMEZONE_CHOICES = [(name, name) for name in sorted(available_timezones())]


class Space(models.Model):
    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=120)
    address = models.TextField(_("adresse"), blank=True)
    email = models.EmailField(_("e-mail de contact"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    timezone = models.CharField(
        _("fuseau horaire"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Paris"
    )
    opening_hours = models.JSONField(
        _("horaires d'ouverture"),
        default=default_opening_hours,
        validators=[validate_opening_hours],
        help_text=_('Par jour, des intervalles : {"mon": [["08:30", "19:00"]], …, "sun": []}'),
    )
    half_day_split = models.TimeField(
        _("séparation des demi-journées"),
        default=dt.time(13, 0),
        help_text=_(
            "Un poste se réserve le matin (ouverture → cette heure), "
            "l'après-midi (cette heure → fermeture) ou la journée."
        ),
    )
    # Booking rule defaults; each resource may override them.
    min_booking_minutes = models.PositiveIntegerField(_("durée minimale (min)"), default=30)
    max_booking_minutes = models.PositiveIntegerField(_("durée maximale (min)"), default=600)
    booking_horizon_days = models.PositiveIntegerField(
        _("réservable jusqu'à (jours à l'avance)"), default=60
    )
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        _("annulation possible jusqu'à (min avant)"), default=60
    )
    max_active_bookings = models.PositiveIntegerField(
        _("réservations à venir par membre et par type"), default=10
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Plan(models.Model):
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="plans", verbose_name=_("lieu")
    )
    name = models.CharField(_("nom"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    desk_days_per_month = models.PositiveIntegerField(
        _("jours de poste par mois"),
        null=True,
        blank=True,
        help_text=_("Vide : tous les jours (résident)."),
    )
    price_per_month = models.DecimalField(
        _("prix mensuel (EUR)"), max_digits=8, decimal_places=2, default=0
    )
    is_active = models.BooleanField(_("proposé"), default=True)

    class Meta:
        verbose_name = _("formule")
        verbose_name_plural = _("formules")
        ordering = ["space", "price_per_month", "name"]
        constraints = [
            models.UniqueConstraint(fields=["space", "name"], name="plan_unique_name_per_space"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.space})"


class Membership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspendue")
        ENDED = "ended", _("terminée")

    class Role(models.TextChoices):
        MEMBER = "member", _("membre")
        CO_MANAGER = "co_manager", _("co-gérant·e")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("membre"),
    )
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("lieu")
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("formule"),
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    role = models.CharField(_("rôle"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        ordering = ["space", "member"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "space"],
                condition=~Q(status="ended"),
                name="membership_one_current_per_space",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.space}"

    def clean(self) -> None:
        super().clean()
        if self.plan is not None and self.space_id and self.plan.space_id != self.space_id:
            raise ValidationError(
                _("Cette formule est celle d'un autre lieu que celui de l'adhésion."),
                code="plan_of_another_space",
            )

    def is_active_on(self, day: dt.date) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


class Training(models.Model):
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="trainings", verbose_name=_("lieu")
    )
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("formation")
        verbose_name_plural = _("formations")
        ordering = ["space", "name"]

    def __str__(self) -> str:
        return self.name


class TrainingRecord(models.Model):
    """A member holds a training (e.g. laser cutter safety) until `expires_on`."""

    training = models.ForeignKey(
        Training, on_delete=models.CASCADE, related_name="records", verbose_name=_("formation")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_records",
        verbose_name=_("membre"),
    )
    granted_on = models.DateField(_("obtenue le"))
    expires_on = models.DateField(_("expire le"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("validée par"),
    )

    class Meta:
        verbose_name = _("formation suivie")
        verbose_name_plural = _("formations suivies")
        constraints = [
            models.UniqueConstraint(fields=["training", "member"], name="training_record_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.training}"


class Resource(models.Model):
    class Kind(models.TextChoices):
        DESK = "desk", _("poste de travail")
        ROOM = "room", _("salle")
        MACHINE = "machine", _("machine")

    class DeskType(models.TextChoices):
        HOT = "hot", _("poste nomade")
        FIXED = "fixed", _("poste fixe")

    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="resources", verbose_name=_("lieu")
    )
    name = models.CharField(_("nom"), max_length=120)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    desk_type = models.CharField(
        _("type de poste"), max_length=8, choices=DeskType.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fixed_desks",
        verbose_name=_("attribué à"),
        help_text=_("Pour un poste fixe : seule cette personne peut le réserver."),
    )
    capacity = models.PositiveSmallIntegerField(_("capacité (personnes)"), default=1)
    description = models.TextField(_("description"), blank=True)
    training = models.ForeignKey(
        Training,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resources",
        verbose_name=_("formation requise"),
    )
    members_only = models.BooleanField(
        _("réservé aux membres"),
        default=True,
        help_text=_("Décoché : réservable aussi par les membres des lieux partenaires."),
    )
    is_active = models.BooleanField(_("réservable"), default=True)
    opening_hours = models.JSONField(
        _("horaires propres"),
        null=True,
        blank=True,
        validators=[validate_opening_hours],
        help_text=_("Vide : les horaires du lieu."),
    )
    min_booking_minutes = models.PositiveIntegerField(
        _("durée minimale (min)"), null=True, blank=True
    )
    max_booking_minutes = models.PositiveIntegerField(
        _("durée maximale (min)"), null=True, blank=True
    )
    booking_horizon_days = models.PositiveIntegerField(
        _("réservable jusqu'à (jours)"), null=True, blank=True
    )
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        _("annulation jusqu'à (min avant)"), null=True, blank=True
    )
    max_active_bookings = models.PositiveIntegerField(
        _("réservations à venir par membre"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("ressource")
        verbose_name_plural = _("ressources")
        ordering = ["space", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["space", "name"], name="resource_unique_name"),
            models.CheckConstraint(
                condition=Q(kind="desk") | Q(desk_type=""), name="resource_desk_type_only_desks"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.space})"

    def clean(self) -> None:
        super().clean()
        if self.training is not None and self.space_id and self.training.space_id != self.space_id:
            raise ValidationError(
                _("Cette formation est celle d'un autre lieu que celui de la ressource."),
                code="training_of_another_space",
            )
        if (
            self.assigned_to_id
            and self.space_id
            and not Membership.objects.filter(member_id=self.assigned_to_id, space_id=self.space_id)
            .exclude(status=Membership.Status.ENDED)
            .exists()
        ):
            raise ValidationError(
                _("Un poste ne s'attribue qu'à un·e membre du lieu."),
                code="assignee_not_a_member",
            )


class Closure(models.Model):
    """Whole days when a space (or only one of its resources) is closed: holidays, maintenance."""

    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="closures", verbose_name=_("lieu")
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("ressource"),
        help_text=_("Vide : tout le lieu est fermé."),
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au (inclus)"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["space", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="closure_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason or _('fermeture')} {self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y}"

    def clean(self) -> None:
        super().clean()
        if self.resource is not None and self.space_id and self.resource.space_id != self.space_id:
            raise ValidationError(
                _("Cette ressource est celle d'un autre lieu que celui de la fermeture."),
                code="resource_of_another_space",
            )


class BookingSeries(models.Model):
    """A weekly recurring booking; its occurrences are ordinary Booking rows."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="booking_series",
        verbose_name=_("membre"),
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="series", verbose_name=_("ressource")
    )
    until = models.DateField(_("jusqu'au"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("réservation récurrente")
        verbose_name_plural = _("réservations récurrentes")

    def __str__(self) -> str:
        return f"{self.resource} / {self.member} → {self.until:%d/%m/%Y}"


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmée")
        CANCELLED = "cancelled", _("annulée")

    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("ressource")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("membre"),
    )
    series = models.ForeignKey(
        BookingSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("série"),
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.CONFIRMED
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("créée par"),
    )
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("annulée par"),
    )

    class Meta:
        verbose_name = _("réservation")
        verbose_name_plural = _("réservations")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["resource", "start"], name="booking_resource_start"),
            models.Index(fields=["member", "start"], name="booking_member_start"),
        ]
        # The no-overlap rule itself is enforced by the database: an exclusion constraint on
        # PostgreSQL and triggers on SQLite (migration 0002), so that every path is covered.
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource.name} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED
