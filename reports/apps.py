from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The top floor: usage figures, settlement reports, monthly summaries, exports. It reads
    coworking, spaces and passes; nothing below imports it (README, "Architecture")."""

    name = "reports"
    verbose_name = _("Rapports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from coworking.privacy import RANK_SENT, privacy_register

        from .privacy import summaries_export

        privacy_register("monthly_summaries", export=summaries_export, rank=RANK_SENT)
