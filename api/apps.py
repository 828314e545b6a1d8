from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from .authentication import forget_tokens

        # A token deleted, a member changed: the tokens kept in memory are forgotten.
        for model in (Token, get_user_model()):
            post_save.connect(forget_tokens, sender=model, dispatch_uid=f"tokens-{model.__name__}")
            post_delete.connect(
                forget_tokens, sender=model, dispatch_uid=f"tokens-{model.__name__}"
            )
