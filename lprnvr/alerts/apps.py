from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "lprnvr.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from . import metrics, services  # noqa: F401  (/metrics families; a saved rule resets the watched kinds' cache)
