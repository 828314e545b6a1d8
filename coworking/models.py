"""The person: a custom user model that logs in by email."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> Member:
        # Emails are unique case-insensitively; "Alice@…" logs in as "alice@…".
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> Member:
        if not email:
            raise ValueError("An email address is required.")
        member = self.model(email=self.normalize_email(email).lower(), **fields)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, email: str, password: str | None = None, **fields) -> Member:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Member(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom de famille"), max_length=150, blank=True)
    photo = models.ImageField(_("photo"), upload_to="members/", blank=True)
    language = models.CharField(
        _("langue"), max_length=8, default="fr", choices=[("fr", "Français"), ("en", "English")]
    )
    calendar_token = models.CharField(
        _("jeton du calendrier"), max_length=64, unique=True, default=new_calendar_token
    )
    monthly_recap = models.BooleanField(
        _("récapitulatif mensuel"),
        default=False,
        help_text=_("Recevoir chaque mois ses jours réservés, visites et visites restantes."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(
        _("équipe technique"),
        default=False,
        help_text=_("Accès à l'administration de toute la plateforme (pas seulement d'un lieu)."),
    )
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name"]

    class Meta:
        verbose_name = _("membre")
        verbose_name_plural = _("membres")
        ordering = ["first_name", "last_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="member_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def save(self, *args, **kwargs) -> None:
        # Whatever the path (admin, a form, `set_password` in a shell, erasure), a new password
        # or a deactivation revokes every API token: a token taken before a reset or by someone
        # who has since been shown out stops working at once. Sessions need nothing here:
        # Django checks the password's hash and `is_active` on every request.
        update_fields = kwargs.get("update_fields")
        watched = update_fields is None or {"password", "is_active"} & set(update_fields)
        if self._state.adding or not watched:
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=kwargs.get("using")):
            before = Member.objects.filter(pk=self.pk).values_list("password", "is_active").first()
            super().save(*args, **kwargs)
            if before is not None and (
                before[0] != self.password or (before[1] and not self.is_active)
            ):
                MemberToken.objects.filter(member=self).delete()

    def rotate_calendar_token(self) -> None:
        """Invalidate the old iCal URL (e.g. after it leaked)."""
        self.calendar_token = new_calendar_token()
        self.save(update_fields=["calendar_token"])


class AuditEntry(models.Model):
    """Who did what, when, to which object: every write that matters leaves one."""

    at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("type d'objet"), max_length=64)
    target_id = models.CharField(_("identifiant de l'objet"), max_length=64)
    space_id = models.BigIntegerField(_("lieu"), null=True, blank=True, db_index=True)
    detail = models.JSONField(_("détail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journal")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"


class OutboxMessage(models.Model):
    """Work to do after a request (e.g. an email), written in the request's transaction.

    It is queued to Celery after commit; if the broker is down, the beat sweep queues it later,
    so a Redis outage never turns the request into an error and loses nothing.
    """

    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("tâche en attente")
        verbose_name_plural = _("tâches en attente")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class MemberToken(models.Model):
    """An API token (`Authorization: Token <key>`), one per login. Only its SHA-256 is stored:
    the key is shown once, to whoever logged in. It works until `expires_at` (fixed, not
    sliding), logout, or its member's next password change or deactivation."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("membre")
    )
    digest = models.CharField(max_length=64, unique=True)
    # The first characters of the key, to tell a member's tokens apart without revealing them.
    prefix = models.CharField(_("début du jeton"), max_length=8)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"), db_index=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.member_id})"

    @classmethod
    def build(cls, member: Member, *, now: dt.datetime) -> tuple[MemberToken, str]:
        """A new token for `member`, not saved yet, and its key (which only the caller sees)."""
        key = secrets.token_urlsafe(32)
        token = cls(
            member=member,
            digest=token_digest(key),
            prefix=key[:8],
            created_at=now,
            expires_at=now + settings.TOKEN_TTL,
        )
        return token, key

    def has_expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at
