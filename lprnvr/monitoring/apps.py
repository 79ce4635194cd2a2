from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    """The system watching itself: service heartbeats and the Prometheus `/metrics` endpoint."""

    name = "lprnvr.monitoring"
    label = "monitoring"
    verbose_name = _("monitoring")

    def ready(self) -> None:
        from . import checks, families, signals  # noqa: F401  (system checks, /metrics families, Celery heartbeats)
        from .metrics import multiprocess_dir

        if multiprocess_dir():  # set outside gunicorn too (.env): a missing folder would fail every request
            Path(multiprocess_dir()).mkdir(parents=True, exist_ok=True)
