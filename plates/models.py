"""Plates, the list each camera should hold, the jobs that make cameras hold it, and backups.

Desired state lives here: `CameraPlate` rows say which plates each camera must hold (and, with
`desired=False`, which it must not). Jobs (`PlateJob` > `PlateJobCamera` > `PlateJobItem`) record
every attempt to make a camera match, with who asked, when, and what each camera answered: the audit
trail. A camera that misses a job (off line) is brought in line by the periodic convergence.
"""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField
from lprnvr.visibility import CameraScopedQuerySet, cameras_manageable_by, cameras_visible_to, can_operate

from .clients.isapi import FAMILY_A, FAMILY_B, PlateSpec, normalise_plate

PLATE_RE = re.compile(r"^[^\W_]{2,16}$")


def clean_plate(value: str) -> str:
    """The normalised plate number, or ValueError saying why it is not one."""
    if not isinstance(value, str):
        raise ValueError(_("A plate must be a string."))
    number = normalise_plate(value)
    if not PLATE_RE.match(number):
        raise ValueError(_("A plate is 2 to 16 letters or digits."))
    return number


class ListType(models.TextChoices):
    ALLOW = "allow", _("Allow list")
    BLOCK = "block", _("Block list")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIAL = "partial", _("Partly failed")  # jobs only: some cameras failed


FINAL = (Status.SUCCEEDED, Status.FAILED, Status.PARTIAL)


class PlateQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlateQuerySet:
        """Plates on (or to be taken off) the lists of cameras the user sees, and plates they created."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        on_theirs = CameraPlate.objects.filter(camera__in=cameras_visible_to(user)).values("plate_id")
        return self.filter(Q(pk__in=on_theirs) | Q(created_by=user))

    def manageable_by(self, user) -> PlateQuerySet:
        """Plates whose row the user may change or delete: visible, and on no camera they may not
        manage (the row's list type and validity go to every camera that holds the plate)."""
        if not can_operate(user):
            return self.none()
        if user.is_admin:
            return self.all()
        elsewhere = CameraPlate.objects.exclude(camera__in=cameras_manageable_by(user)).values("plate_id")
        return self.visible_to(user).exclude(pk__in=elsewhere)


class Plate(models.Model):
    number = models.CharField(_("plate"), max_length=16, unique=True, help_text=_("Normalised: A-Z and 0-9."))
    list_type = models.CharField(_("list"), max_length=5, choices=ListType.choices, default=ListType.ALLOW)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=200, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    # Deleted, still on (or still to be taken off) some camera: the row goes once none holds it.
    delete_requested = models.BooleanField(
        _("being deleted"), default=False, help_text=_("Removed from every camera; the row goes once they confirm.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    cameras = models.ManyToManyField("cameras.Camera", through="CameraPlate", related_name="plates", blank=True)

    objects = PlateQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate")
        verbose_name_plural = _("plates")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        try:
            self.number = clean_plate(self.number)
        except ValueError as exc:
            raise ValidationError({"number": str(exc)}) from exc
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})

    def spec(self) -> PlateSpec:
        return PlateSpec(self.number, self.list_type, self.valid_from, self.valid_until)

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class CameraPlate(models.Model):
    """One line of a camera's desired list: the plate must be there (`desired`) or must not."""

    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, related_name="plate_assignments"
    )
    plate = models.ForeignKey(Plate, verbose_name=_("plate"), on_delete=models.CASCADE, related_name="assignments")
    desired = models.BooleanField(
        _("desired"), default=True, help_text=_("Off: the plate must be removed (kept until the camera confirms).")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera plate")
        verbose_name_plural = _("camera plates")
        constraints = [models.UniqueConstraint(fields=["camera", "plate"], name="camera_plate_unique")]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.camera_id}{'' if self.desired else ' (remove)'}"


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


class Operation(models.TextChoices):
    ADD = "add", _("Add")
    DELETE = "delete", _("Delete")
    RENAME = "rename", _("Rename")
    SYNC = "sync", _("Sync (report drift)")
    CONVERGE = "converge", _("Converge")
    RESTORE = "restore", _("Restore backup")


class Source(models.TextChoices):
    LEGACY = "legacy", _("Legacy API")
    API = "api", _("REST API")
    ADMIN = "admin", _("Admin")
    SCHEDULE = "schedule", _("Schedule")
    COMMAND = "command", _("Command line")


class PlateJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlateJobQuerySet:
        """Jobs the user asked for, and jobs that touched a camera they see."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        touched = PlateJobCamera.objects.filter(camera__in=cameras_visible_to(user)).values("job_id")
        return self.filter(Q(requested_by=user) | Q(pk__in=touched))

    def manageable_by(self, user) -> PlateJobQuerySet:
        """Jobs are never changed by hand; acting on one (none today) is the operators' on their jobs."""
        if not can_operate(user):
            return self.none()
        return self.visible_to(user)


class PlateJob(models.Model):
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.API)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plate_jobs",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = PlateJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate job")
        verbose_name_plural = _("plate jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.operation} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL


class PlateJobCamera(models.Model):
    job = models.ForeignKey(PlateJob, verbose_name=_("job"), on_delete=models.CASCADE, related_name="cameras")
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.SET_NULL, null=True, related_name="plate_jobs"
    )
    camera_address = models.CharField(_("camera address"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    error_kind = models.CharField(_("error kind"), max_length=40, blank=True, default="")
    unlock_time = models.PositiveIntegerField(null=True, blank=True, help_text=_("Seconds until the camera unlocks."))
    result = models.JSONField(_("result"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("job camera")
        verbose_name_plural = _("job cameras")
        ordering = ["job", "id"]

    def __str__(self) -> str:
        return f"{self.camera_address}: {self.status}"


class PlateJobItemQuerySet(CameraScopedQuerySet):
    camera_field = "job_camera__camera"


class PlateJobItem(models.Model):
    job_camera = models.ForeignKey(
        PlateJobCamera, verbose_name=_("job camera"), on_delete=models.CASCADE, related_name="items"
    )
    action = models.CharField(_("action"), max_length=10, choices=Operation.choices)
    plate = models.CharField(_("plate"), max_length=16)
    new_plate = models.CharField(_("new plate"), max_length=16, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    detail = models.CharField(_("detail"), max_length=200, blank=True, default="")
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = PlateJobItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("job plate")
        verbose_name_plural = _("job plates")
        ordering = ["job_camera", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.plate}: {self.status}"


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


class DigestCredential(models.Model):
    """HA1 = MD5(user:realm:password) for the legacy endpoints' HTTP Digest (as `curl --digest`).

    Digest needs a password-equivalent on the server; it is kept encrypted and is valid only while
    the account's password hash is the one it was made with (a password change voids it).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_credential")
    realm = models.CharField(max_length=100)
    ha1 = EncryptedTextField()
    password_hash = models.CharField(max_length=256)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("digest credential")
        verbose_name_plural = _("digest credentials")

    def __str__(self) -> str:
        return f"digest credential of user {self.user_id}"


class DigestNonce(models.Model):
    """A Digest nonce in use, with the highest `nc` a client has sent with it: a request whose nc is
    not above it (a replayed Authorization header) is refused. Rows appear only once a request
    authenticated (anonymous challenges store nothing) and go when the nonce expires."""

    nonce = models.CharField(max_length=128, unique=True)
    highest_nc = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("digest nonce")
        verbose_name_plural = _("digest nonces")

    def __str__(self) -> str:
        return f"{self.nonce[:12]}… nc={self.highest_nc}"


# --- Plate reads (the camera's own ANPR events) -----------------------------------------------------

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
