"""Plate-read sources: how `run_events` gets each camera's reads (arming/listening) and how it goes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import AdminOnlyQuerySet, CameraScopedQuerySet


class EventMode(models.TextChoices):
    ARMING = "arming", _("Arming: we hold the camera's alert stream")
    LISTENING = "listening", _("Listening: the camera posts to us")


class EventState(models.TextChoices):
    IDLE = "idle", _("Idle")
    CONNECTING = "connecting", _("Connecting")
    CONNECTED = "connected", _("Connected")
    BACKOFF = "backoff", _("Waiting to reconnect")
    AUTH_FAILED = "auth_failed", _("Credentials refused")
    LISTENING = "listening", _("Listening")


class AnprEventSource(models.Model):
    """How `manage.py run_events` gets a camera's plate reads, and how that is going.

    The row is the desired state (enabled, mode) the listener converges to, and the state it reports
    back (connection, last heartbeat, last error, rejected parts counted by reason).
    """

    camera = models.OneToOneField(
        "cameras.Camera",
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="event_source",
    )
    enabled = models.BooleanField(_("receive plate reads"), default=True)
    mode = models.CharField(_("mode"), max_length=10, choices=EventMode.choices, default=EventMode.ARMING)
    state = models.CharField(_("state"), max_length=12, choices=EventState.choices, default=EventState.IDLE)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    last_read_at = models.DateTimeField(_("last read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    reads_received = models.PositiveIntegerField(_("reads received"), default=0)
    reconnects = models.PositiveIntegerField(_("reconnections"), default=0)
    rejected = models.JSONField(_("rejected parts by reason"), default=dict, blank=True)
    # Listening mode: the secret in the push URL, stored hashed (SHA-256); shown once when set.
    secret_hash = models.CharField(max_length=64, blank=True, default="")
    secret_set_at = models.DateTimeField(_("push secret set"), null=True, blank=True)
    # Backfill (vehicleDetect/plates): None until tried; the cursor is the camera time asked from.
    backfill_supported = models.BooleanField(_("camera offers backfill"), null=True, blank=True)
    backfill_cursor = models.DateTimeField(_("backfilled from"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate-read source")
        verbose_name_plural = _("plate-read sources")

    def __str__(self) -> str:
        return str(self.camera)


class RefusedPush(models.Model):
    """Pushes refused before any camera could be named (an unknown camera id in the URL): counted by
    reason, one row each, so a flood of made-up ids costs a counter, not a row per id."""

    reason = models.CharField(_("reason"), max_length=32, unique=True)
    count = models.PositiveBigIntegerField(_("count"), default=0)
    last_at = models.DateTimeField(_("last"), null=True, blank=True)
    last_camera_id = models.BigIntegerField(_("last camera id asked for"), null=True, blank=True)
    last_address = models.GenericIPAddressField(_("last from"), null=True, blank=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("refused camera push")
        verbose_name_plural = _("refused camera pushes")

    def __str__(self) -> str:
        return f"{self.reason}: {self.count}"
