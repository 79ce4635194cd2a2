from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatesConfig(AppConfig):
    name = "plates"
    verbose_name = _("Plates")

    def ready(self) -> None:
        from . import auth  # noqa: F401 - connects the digest-credential signal
        from .api import schema  # noqa: F401 - registers the OpenAPI extension
