from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassesConfig(AppConfig):
    name = "passes"
    verbose_name = _("ch'tipass")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from spaces.services import guest_policies

        from .models import PartnerKey
        from .partner_keys import forget_partner_keys
        from .selectors import network_guest_policy

        guest_policies.append(network_guest_policy)
        # Any change to a scanner key (revoked, expiry moved) empties the keys kept in memory.
        post_save.connect(forget_partner_keys, sender=PartnerKey, dispatch_uid="partner-keys")
        post_delete.connect(forget_partner_keys, sender=PartnerKey, dispatch_uid="partner-keys")
