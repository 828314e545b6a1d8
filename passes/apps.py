from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassesConfig(AppConfig):
    name = "passes"
    verbose_name = _("ch'tipass")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from coworking.models import Member
        from coworking.privacy import RANK_PASSES, privacy_register
        from spaces.services import guest_policies

        from .booking_guard import network_guest_policy
        from .privacy import passes_erase, passes_export
        from .signals import member_saved

        guest_policies.append(network_guest_policy)
        privacy_register("passes", export=passes_export, erase=passes_erase, rank=RANK_PASSES)
        post_save.connect(member_saved, sender=Member, dispatch_uid="passes-member-saved")
