"""Cameras as ANPR devices: firmware family, sync state, credentials, and their lists' backups."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField
from lprnvr.visibility import CameraScopedQuerySet

from ..clients.isapi import FAMILY_A, FAMILY_B, BadCredentials
from .jobs import Source


class AnprCamera(models.Model):
    """What we know about a camera as an ANPR device: its firmware family, sync state, auth trouble."""

    class Family(models.TextChoices):
        UNKNOWN = "", _("Not detected yet")
        A = FAMILY_A, _("A: classic ANPR (numeric ids)")
        B = FAMILY_B, _("B: TCG entrance/exit (id = plate)")

    camera = models.OneToOneField(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, primary_key=True, related_name="anpr"
    )
    family = models.CharField(_("firmware family"), max_length=1, choices=Family.choices, blank=True, default="")
    family_detected_at = models.DateTimeField(_("family detected"), null=True, blank=True)
    remove_unexpected = models.BooleanField(
        _("remove unexpected plates"),
        default=False,
        help_text=_("Periodic sync also deletes plates on the camera that are not in its list here."),
    )
    # Credentials the camera refused: never retried until they change (fingerprint) or the lock ends.
    auth_failed_at = models.DateTimeField(_("credentials refused"), null=True, blank=True)
    auth_fingerprint = models.CharField(max_length=32, blank=True, default="")
    auth_error = models.TextField(_("credentials error"), blank=True, default="")
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True, default="")
    drift = models.JSONField(_("drift"), default=dict, blank=True)
    plate_count = models.PositiveIntegerField(_("plates on the camera"), null=True, blank=True)
    # Read once from the camera (`plateListNum`); None: unknown (not read yet, or the firmware does not say).
    list_capacity = models.PositiveIntegerField(_("list capacity"), null=True, blank=True)
    capacity_read_at = models.DateTimeField(_("capacity read"), null=True, blank=True)
    # The gate's overview camera(s): their footage is offered beside a read's (see PlateRead clips).
    overview_cameras = models.ManyToManyField(
        "cameras.Camera", verbose_name=_("overview cameras"), blank=True, related_name="overview_of"
    )
    # A lease so one job at a time talks to a camera (claimed with a conditional UPDATE).
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ANPR camera")
        verbose_name_plural = _("ANPR cameras")

    def __str__(self) -> str:
        return str(self.camera)

    @property
    def has_drift(self) -> bool:
        return bool(self.drift.get("missing") or self.drift.get("unexpected") or self.drift.get("duplicates"))

    # --- Refused credentials and locks ---------------------------------------------------------

    def auth_block(self, fingerprint: str) -> str | None:
        """Why we must not talk to this camera now (its credentials were refused), or None.

        `fingerprint` is that of the credentials we would use now. A refused password is not tried
        again until it changes (the lockout counts every try); a lock is waited out.
        """
        if self.auth_failed_at is None:
            return None
        if self.locked_until and self.locked_until > timezone.now():
            # The lock is on our address, not on the credentials: new ones would fail too (and count).
            return f"{self.auth_error} (locked for {self.unlock_left()} s more; not retried until then)"
        if fingerprint != self.auth_fingerprint:
            return None  # credentials changed since: try them
        if self.locked_until:
            return None  # the lock is over: one more try
        return f"{self.auth_error} (not retried until the camera's credentials are changed)"

    def unlock_left(self) -> int | None:
        """Seconds until the camera's lock on us ends, or None when it is not locked."""
        if self.locked_until and self.locked_until > timezone.now():
            return int((self.locked_until - timezone.now()).total_seconds()) + 1
        return None

    def record_auth_failure(self, exc: BadCredentials, fingerprint: str) -> None:
        """Remember that these credentials were refused (and for how long the camera locks us out)."""
        now = timezone.now()
        self.auth_failed_at = now
        self.auth_fingerprint = fingerprint
        self.auth_error = str(exc)
        self.locked_until = None
        if exc.locked:
            self.locked_until = now + timedelta(seconds=exc.unlock_time or 1800)
        self.save(update_fields=["auth_failed_at", "auth_fingerprint", "auth_error", "locked_until"])

    def clear_auth_failure(self) -> None:
        """The camera took our credentials (or they were changed): whatever it refused is history."""
        self.auth_failed_at, self.auth_fingerprint, self.auth_error, self.locked_until = None, "", "", None
        AnprCamera.objects.filter(pk=self.pk).exclude(auth_failed_at=None, locked_until=None).update(
            auth_failed_at=None, auth_fingerprint="", auth_error="", locked_until=None
        )

    # --- The lease: one job at a time talks to a camera -----------------------------------------

    @classmethod
    def claim_lease(cls, camera_id: int) -> str | None:
        """Take the camera's lease with a conditional UPDATE; the token, or None if another holds it."""
        cls.objects.get_or_create(camera_id=camera_id)
        token = secrets.token_hex(8)
        now = timezone.now()
        got = (
            cls.objects.filter(pk=camera_id)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_owner=token, lease_until=now + timedelta(seconds=settings.PLATES_CAMERA_LEASE))
        )
        return token if got else None

    @classmethod
    def renew_lease(cls, camera_id: int, token: str) -> bool:
        """Extend a lease we hold; False when it passed to another holder."""
        until = timezone.now() + timedelta(seconds=settings.PLATES_CAMERA_LEASE)
        return bool(cls.objects.filter(pk=camera_id, lease_owner=token).update(lease_until=until))

    @classmethod
    def release_lease(cls, camera_id: int, token: str) -> None:
        cls.objects.filter(pk=camera_id, lease_owner=token).update(lease_owner="", lease_until=None)


class DefaultCameraCredentials(models.Model):
    """Camera credentials for cameras registered without their own (`manage.py lpr_server -u -c`)."""

    username = EncryptedTextField(blank=True, default="")
    password = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("default camera credentials")
        verbose_name_plural = _("default camera credentials")

    def __str__(self) -> str:
        return str(_("default camera credentials"))


class PlateBackup(models.Model):
    """A camera's list as the camera exported it (byte for byte), plus our normalised copy."""

    camera = models.ForeignKey(
        "cameras.Camera",
        verbose_name=_("camera"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plate_backups",
    )
    camera_address = models.CharField(_("camera address"), max_length=300)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.SCHEDULE)
    raw_path = models.CharField(_("device file"), max_length=500)
    normalized_path = models.CharField(_("normalised file"), max_length=500)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    plate_count = models.PositiveIntegerField(_("plates"), default=0)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate backup")
        verbose_name_plural = _("plate backups")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.camera_address} {self.created_at:%Y-%m-%d %H:%M:%S}"
