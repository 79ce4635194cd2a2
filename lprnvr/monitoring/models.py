"""One row per long-running part of the system and the host it runs on: when it last said it was alive."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceHeartbeat(models.Model):
    """The last beat of one service (`media`, `events`, `beat`, `worker.<queue>`) on one host.

    Several hosts share the database (a worker on another machine, a second media supervisor for
    other cameras), so the row is keyed by both. Written by `monitoring.heartbeats.beat`; read by
    `service_states()`, /health, /stats and /metrics.
    """

    service = models.CharField(_("service"), max_length=64)
    host = models.CharField(_("host"), max_length=200, help_text=_("The machine it runs on."))
    beat_at = models.DateTimeField(_("last beat"))
    started_at = models.DateTimeField(_("process started"), null=True, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("service heartbeat")
        verbose_name_plural = _("service heartbeats")
        ordering = ["service", "host"]
        constraints = [models.UniqueConstraint(fields=["service", "host"], name="service_heartbeat_unique")]

    def __str__(self) -> str:
        return f"{self.service}@{self.host}"


class Liveness(models.TextChoices):
    """What `service_states()` says of a service on a host."""

    OK = "ok", _("Alive")
    STALE = "stale", _("No heartbeat lately")
    MISSING = "missing", _("Never seen")
