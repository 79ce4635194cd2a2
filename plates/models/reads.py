"""Plate reads: what the ANPR cameras read and decided, stored once, with our verdict at that moment."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import CameraScopedQuerySet

from ..clients.isapi import normalise_plate
from .lists import Plate

#: OCR confusions folded for the fuzzy search: a read of "8O1" finds "BO1", "B01" and "801".
FUZZY_FOLD = str.maketrans({"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2"})


def plate_key(number: str) -> str:
    """A normalised plate with the usual OCR confusions folded (0/O, 1/I, 8/B, 5/S, 2/Z)."""
    return normalise_plate(number).translate(FUZZY_FOLD)


class CameraVerdict(models.TextChoices):
    ALLOW = "allow", _("Allow list")
    BLOCK = "block", _("Block list")
    OTHER = "other", _("Other")
    NONE = "none", _("None")

    @classmethod
    def from_list_type(cls, raw: str) -> CameraVerdict:
        """The camera's listType as sent (`allowList`, `blockList`/`blackList`, `otherList`, ...)."""
        key = (raw or "").strip().lower()
        if not key:
            return cls.NONE
        if key in ("allowlist", "whitelist", "allow", "white"):
            return cls.ALLOW
        if key in ("blocklist", "blacklist", "block", "black"):
            return cls.BLOCK
        return cls.OTHER


class OurVerdict(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    BLOCKED = "blocked", _("Blocked")
    EXPIRED = "expired", _("Outside its validity")
    UNLISTED = "unlisted", _("Not on the camera's list")


class ReadSource(models.TextChoices):
    STREAM = "stream", _("Alert stream")
    PUSH = "push", _("Camera push")
    BACKFILL = "backfill", _("Backfill")


def is_flagged(camera: str, ours: str) -> bool:
    """Whether the camera's verdict and ours disagree: the list drift a read shows in real life."""
    if camera == CameraVerdict.ALLOW:
        return ours != OurVerdict.ALLOWED
    if camera == CameraVerdict.BLOCK:
        return ours != OurVerdict.BLOCKED
    return ours in (OurVerdict.ALLOWED, OurVerdict.BLOCKED)


class PlateRead(models.Model):
    """One plate read by an ANPR camera, stored once, with its pictures and both verdicts."""

    PICTURE_KINDS = ("plate", "scene", "vehicle")

    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, related_name="plate_reads"
    )
    camera_time = models.DateTimeField(_("camera time"), null=True, blank=True)
    camera_utc_offset = models.SmallIntegerField(
        _("camera UTC offset (minutes)"), null=True, blank=True, help_text=_("As the camera sent its time.")
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    plate_as_read = models.CharField(_("plate as read"), max_length=64, blank=True, default="")
    number = models.CharField(_("plate"), max_length=64, blank=True, default="", db_index=True)
    plate_key = models.CharField(_("fuzzy key"), max_length=64, blank=True, default="", db_index=True)
    original_plate = models.CharField(_("original plate"), max_length=64, blank=True, default="")
    confidence = models.PositiveSmallIntegerField(_("confidence"), null=True, blank=True)
    direction = models.CharField(_("direction"), max_length=16, blank=True, default="")
    lane = models.PositiveSmallIntegerField(_("lane"), null=True, blank=True)
    camera_list_type = models.CharField(_("camera list (as sent)"), max_length=32, blank=True, default="")
    camera_verdict = models.CharField(
        _("camera verdict"), max_length=5, choices=CameraVerdict.choices, default=CameraVerdict.NONE
    )
    vehicle = models.JSONField(_("vehicle"), default=dict, blank=True)
    # Paths relative to READS_DIR, "" when the camera sent none (or it was refused: too big).
    plate_picture = models.CharField(_("plate picture"), max_length=300, blank=True, default="")
    scene_picture = models.CharField(_("scene picture"), max_length=300, blank=True, default="")
    vehicle_picture = models.CharField(_("vehicle picture"), max_length=300, blank=True, default="")
    picture_bytes = models.PositiveBigIntegerField(_("picture bytes"), default=0)
    plate = models.ForeignKey(
        Plate, verbose_name=_("list plate"), on_delete=models.SET_NULL, null=True, blank=True, related_name="reads"
    )
    our_verdict = models.CharField(
        _("our verdict"), max_length=8, choices=OurVerdict.choices, default=OurVerdict.UNLISTED
    )
    flagged = models.BooleanField(_("verdicts differ"), default=False, db_index=True)
    source = models.CharField(_("source"), max_length=8, choices=ReadSource.choices, default=ReadSource.STREAM)
    uuid = models.CharField(_("camera UUID"), max_length=64, blank=True, default="")

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate read")
        verbose_name_plural = _("plate reads")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["camera", "uuid"], condition=~Q(uuid=""), name="plate_read_camera_uuid_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["camera", "number", "camera_time"], name="plate_read_dedup"),
            models.Index(fields=["received_at", "id"], name="plate_read_cursor"),
        ]

    def __str__(self) -> str:
        return f"{self.number or '?'} @ {self.camera_id} {self.received_at:%Y-%m-%d %H:%M:%S}"

    @property
    def read_at(self):
        """When the read happened: the camera's time when it sent one, else when we received it."""
        return self.camera_time or self.received_at

    def picture_path(self, kind: str) -> str:
        return getattr(self, f"{kind}_picture") if kind in self.PICTURE_KINDS else ""
