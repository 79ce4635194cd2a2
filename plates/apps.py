from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatesConfig(AppConfig):
    name = "plates"
    verbose_name = _("Plates")

    def ready(self) -> None:
        # auth connects the digest-credential signal; checks registers the system checks.
        from . import auth, checks  # noqa: F401
        from .api import schema  # noqa: F401 - registers the OpenAPI extension
