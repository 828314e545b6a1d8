"""The ch'tipass network: passes, signing keys, partner keys, scans, visits and allowances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from spaces.models import Membership, Space

U32_MAX = 0xFFFF_FFFF


class Network(models.Model):
    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=120)
    spaces = models.ManyToManyField(
        Space, through="NetworkSpace", related_name="networks", verbose_name=_("lieux")
    )
    monthly_visits = models.PositiveIntegerField(
        _("visites par membre et par mois (tout le réseau)"), default=8
    )
    monthly_visits_per_host = models.PositiveIntegerField(
        _("visites par membre et par mois dans un même lieu"), default=4
    )
    day_rate = models.DecimalField(
        _("valeur d'une journée (EUR)"), max_digits=7, decimal_places=2, default=Decimal("15.00")
    )

    class Meta:
        verbose_name = _("réseau")
        verbose_name_plural = _("réseaux")

    def __str__(self) -> str:
        return self.name


class NetworkSpace(models.Model):
    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="members", verbose_name=_("réseau")
    )
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="network_links", verbose_name=_("lieu")
    )
    daily_visitor_capacity = models.PositiveIntegerField(
        _("visiteurs du réseau par jour"), default=10
    )
    joined_on = models.DateField(_("membre depuis"), default=dt.date.today)

    class Meta:
        verbose_name = _("lieu du réseau")
        verbose_name_plural = _("lieux du réseau")
        constraints = [
            models.UniqueConstraint(fields=["network", "space"], name="network_space_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.space} ∈ {self.network}"


class Pass(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("actif")
        SUSPENDED = "suspended", _("suspendu")
        REVOKED = "revoked", _("révoqué")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="passes", verbose_name=_("réseau")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="passes", verbose_name=_("adhésion")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="passes",
        verbose_name=_("membre"),
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    issued_at = models.DateTimeField(_("émis le"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("statut changé le"), null=True, blank=True)
    status_reason = models.CharField(_("motif"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ch'tipass")
        verbose_name_plural = _("ch'tipass")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "network"],
                condition=~Q(status="revoked"),
                name="pass_one_current_per_network",
            ),
            models.CheckConstraint(condition=Q(id__lte=U32_MAX), name="pass_id_fits_u32"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.member} ({self.get_status_display()})"


class SigningKey(models.Model):
    """An Ed25519 key of the registry; its private half is stored encrypted, never served."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retirée")
        COMPROMISED = "compromised", _("compromise")

    kid = models.PositiveSmallIntegerField(_("identifiant (kid)"), unique=True)
    public_key = models.CharField(_("clé publique (base64)"), max_length=64)
    encrypted_private_key = models.BinaryField(editable=False)
    not_before = models.DateTimeField(_("valide à partir du"))
    sign_until = models.DateTimeField(_("signe jusqu'au"))
    verify_until = models.DateTimeField(_("vérifiable jusqu'au"))
    status = models.CharField(
        _("statut"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("clé de signature")
        verbose_name_plural = _("clés de signature")
        ordering = ["-not_before"]
        constraints = [
            models.CheckConstraint(condition=Q(kid__gte=1, kid__lte=255), name="signing_kid_u8"),
        ]

    def __str__(self) -> str:
        return f"kid {self.kid} ({self.get_status_display()})"

    def can_verify_at(self, moment: dt.datetime) -> bool:
        return (
            self.status != self.Status.COMPROMISED
            and self.not_before <= moment <= self.verify_until
        )

    def can_sign_at(self, moment: dt.datetime) -> bool:
        return self.status == self.Status.ACTIVE and self.not_before <= moment < self.sign_until


class PartnerKeyManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet:
        # Every scan reads the key's space: fetch it with the key.
        return super().get_usable_keys().select_related("space")


class PartnerKey(AbstractAPIKey):
    """A scanner's API key: it acts for its own space only. Stored hashed by the library."""

    objects: ClassVar[PartnerKeyManager] = PartnerKeyManager()

    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="partner_keys", verbose_name=_("lieu")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        # The library's Meta declares plain strings; Django takes lazy ones.
        verbose_name = _("clé de lecteur partenaire")  # type: ignore[assignment]
        verbose_name_plural = _("clés de lecteur partenaire")  # type: ignore[assignment]


class Visit(models.Model):
    """An accepted day of work at a host: one per member, host and local date."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("membre"),
        db_index=False,  # led by visit_one_per_day
    )
    pass_obj = models.ForeignKey(
        Pass,
        on_delete=models.PROTECT,
        related_name="visits",
        db_column="pass_id",
        verbose_name=_("ch'tipass"),
    )
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="visits")
    host = models.ForeignKey(
        Space,
        on_delete=models.PROTECT,
        related_name="visits_hosted",
        verbose_name=_("lieu d'accueil"),
        db_index=False,  # led by visit_host_date
    )
    home = models.ForeignKey(
        Space,
        on_delete=models.PROTECT,
        related_name="visits_made",
        verbose_name=_("lieu d'origine"),
        db_index=False,  # led by visit_home_date
    )
    date = models.DateField(_("jour"))
    uses_allowance = models.BooleanField(
        _("compte dans le quota"),
        default=True,
        help_text=_("Faux pour un passage dans son propre lieu."),
    )
    flagged = models.BooleanField(
        _("à vérifier"),
        default=False,
        help_text=_("Accepté hors ligne alors qu'une règle l'aurait refusé en ligne."),
    )
    flag_reason = models.CharField(_("règle enfreinte"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("visite")
        verbose_name_plural = _("visites")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "host", "date"], name="visit_one_per_day"),
        ]
        indexes = [
            models.Index(fields=["host", "date"], name="visit_host_date"),
            models.Index(fields=["home", "date"], name="visit_home_date"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.host} {self.date}"


class Scan(models.Model):
    """Every validation attempt, accepted or refused, with its reason."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("accepté")
        REFUSED = "refused", _("refusé")

    class Reason(models.TextChoices):
        NONCE_REUSED = (
            "nonce_reused",
            _("Identifiant de lecture déjà utilisé pour un autre code : lecture refusée."),
        )
        MALFORMED = "malformed", _("Ce n'est pas un ch'tipass.")
        UNKNOWN_KEY = "unknown_key", _("Clé de signature inconnue ou plus valable.")
        BAD_SIGNATURE = "bad_signature", _("Signature invalide : code falsifié.")
        EXPIRED = "expired", _("Code expiré.")
        NOT_YET_VALID = "not_yet_valid", _("Code pas encore valable.")
        STALE_CODE = "stale_code", _("Code périmé ou déjà utilisé ailleurs (capture d'écran ?).")
        ONLINE_ONLY = "online_only", _("Carte imprimée : vérification en ligne obligatoire.")
        REVOKED = "revoked", _("Ch'tipass révoqué.")
        SUSPENDED = "suspended", _("Ch'tipass suspendu.")
        ACCOUNT_INACTIVE = "account_inactive", _("Compte du membre désactivé.")
        MEMBERSHIP_INACTIVE = "membership_inactive", _("Adhésion inactive dans le lieu d'origine.")
        NOT_IN_NETWORK = "not_in_network", _("Ce lieu ne fait pas partie du réseau du pass.")
        HOST_FULL = "host_full", _("Le lieu a atteint sa capacité de visiteurs pour aujourd'hui.")
        ALLOWANCE_EXHAUSTED = "allowance_exhausted", _("Plus de visites disponibles ce mois-ci.")

    host = models.ForeignKey(
        Space, on_delete=models.PROTECT, related_name="scans", verbose_name=_("lieu")
    )
    # Indexed in Meta: a plain index, without the `LIKE` one Django adds to text keys.
    partner_key = models.ForeignKey(
        PartnerKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scans",
        db_index=False,
    )
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    credential = models.CharField(_("code lu"), max_length=200)
    kid = models.PositiveSmallIntegerField(null=True, blank=True)
    counter = models.BigIntegerField(null=True, blank=True)
    pass_obj = models.ForeignKey(
        Pass,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="pass_id",
        related_name="scans",
        verbose_name=_("ch'tipass"),
    )
    scanned_at = models.DateTimeField(_("heure de l'appareil"))
    received_at = models.DateTimeField(_("reçu le"), db_index=True)
    decision = models.CharField(_("décision"), max_length=10, choices=Decision.choices)
    reason = models.CharField(_("motif"), max_length=24, choices=Reason.choices, blank=True)
    already_checked_in = models.BooleanField(default=False)
    offline = models.BooleanField(_("hors ligne"), default=False)
    flagged = models.BooleanField(_("à vérifier"), default=False)
    # NULL, not "": scans without a nonce must not collide in the unique constraints below.
    nonce = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    response = models.JSONField(default=dict, editable=False)

    class Meta:
        verbose_name = _("passage au lecteur")
        verbose_name_plural = _("passages au lecteur")
        ordering = ["-received_at", "-id"]
        constraints = [
            # A nonce is the first scan's at its host; a later scan that reuses it with another
            # credential is refused and stored with it (`nonce_reused`), once per credential.
            models.UniqueConstraint(
                fields=["host", "nonce"],
                condition=Q(nonce__isnull=False) & ~Q(reason="nonce_reused"),
                name="scan_nonce_unique_per_host",
            ),
            models.UniqueConstraint(
                fields=["host", "nonce", "credential"],
                condition=Q(reason="nonce_reused"),
                name="scan_nonce_reuse_once_per_credential",
            ),
        ]
        indexes = [models.Index(fields=["partner_key"], name="scan_partner_key")]

    def __str__(self) -> str:
        return f"{self.host} {self.received_at:%Y-%m-%d %H:%M} {self.decision} {self.reason}"


class CounterUse(models.Model):
    """The first host where a rotating (pass, counter) was shown, and what it answered."""

    pass_obj = models.ForeignKey(
        Pass,
        on_delete=models.CASCADE,
        db_column="pass_id",
        related_name="+",
        db_index=False,  # led by counter_used_once
    )
    counter = models.BigIntegerField()
    host = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    first_scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pass_obj", "counter"], name="counter_used_once"),
        ]

    def __str__(self) -> str:
        return f"pass {self.pass_obj_id} counter {self.counter} @ {self.host_id}"


class AllowanceCounter(models.Model):
    """Visits used in a month, network-wide (host empty) or at one host: the database keeps
    `used` under the limit with a conditional UPDATE."""

    # Led by the unique constraints below: no index of its own.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    host = models.ForeignKey(
        Space, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "network", "month"],
                condition=Q(host__isnull=True),
                name="allowance_network_unique",
            ),
            models.UniqueConstraint(
                fields=["member", "network", "month", "host"],
                condition=Q(host__isnull=False),
                name="allowance_host_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.month:%Y-%m} host={self.host_id}: {self.used}"


class HostDayCounter(models.Model):
    """Network visitors a host received on a local day, kept under its daily capacity."""

    # Led by host_day_unique: no index of its own.
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    host = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "host", "date"], name="host_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.host_id} {self.date}: {self.used}"


class RevocationEvent(models.Model):
    """Append-only log behind the revocation list: its id is the list version."""

    class Action(models.TextChoices):
        REVOKE = "revoke", _("révocation")
        SUSPEND = "suspend", _("suspension")
        REINSTATE = "reinstate", _("rétablissement")
        DEACTIVATE = "deactivate", _("compte désactivé")
        REACTIVATE = "reactivate", _("compte réactivé")

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    pass_obj = models.ForeignKey(
        Pass, on_delete=models.CASCADE, db_column="pass_id", related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"v{self.pk} {self.action} pass {self.pass_obj_id}"
