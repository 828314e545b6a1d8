from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpacesConfig(AppConfig):
    name = "spaces"
    verbose_name = _("Lieux et réservations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from coworking.privacy import RANK_SPACES, privacy_register

        from . import notifications  # noqa: F401 - registers the outbox handlers
        from .privacy import spaces_erase, spaces_export

        privacy_register("spaces", export=spaces_export, erase=spaces_erase, rank=RANK_SPACES)
