from django.contrib.admin import apps as admin_apps


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the site that lets co-managers in (config/admin_site.py)."""

    default = False
    default_site = "config.admin_site.ChtipassAdminSite"
