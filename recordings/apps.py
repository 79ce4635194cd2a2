from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordingsConfig(AppConfig):
    name = "recordings"
    verbose_name = _("Recordings")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
