"""What the reports keep: the record of each monthly summary sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SummaryDispatch(models.Model):
    """One monthly summary email for one recipient: claimed before it is sent, so that it is
    sent at most once per (recipient, month) however often the job runs or a worker dies."""

    class Status(models.TextChoices):
        PENDING = "pending", _("à envoyer")
        BUILDING = "building", _("en préparation")
        SENDING = "sending", _("en cours d'envoi")
        SENT = "sent", _("envoyé")
        UNKNOWN = "unknown", _("interrompu pendant l'envoi")
        FAILED = "failed", _("échec")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="summaries",
        verbose_name=_("destinataire"),
    )
    month = models.DateField(_("mois"))
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it had in `coworking` before the floors were split: no row moved.
        db_table = "coworking_summarydispatch"
        verbose_name = _("récapitulatif mensuel")
        verbose_name_plural = _("récapitulatifs mensuels")
        ordering = ["-month", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "month"], name="summary_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.month:%Y-%m} {self.status}"
