from django.apps import AppConfig


class CoworkingConfig(AppConfig):
    name = "coworking"
    verbose_name = "ch'tipass"
    default = True
    default_auto_field = "django.db.models.BigAutoField"
