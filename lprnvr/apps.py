from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LprnvrConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "lprnvr"
    verbose_name = "lprnvr"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)


class LprnvrAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: the dashboard as its index (see lprnvr.admin.AdminSite)."""

    default = False
    default_site = "lprnvr.admin.AdminSite"
