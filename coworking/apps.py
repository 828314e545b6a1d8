from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoworkingConfig(AppConfig):
    name = "coworking"
    verbose_name = "ch'tipass"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class AdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "coworking.admin_site.ChtipassAdminSite"
