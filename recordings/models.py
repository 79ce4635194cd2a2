"""Desired media state (viewers, recordings, continuous cameras) and what the supervisor reports back.

The API writes desired state here; `manage.py run_media` converges processes to it and writes
`MediaChannel` (process state) and `Segment` (the index of recorded video) back.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import AdminOnlyQuerySet, CameraScopedQuerySet


class ProcessState(models.TextChoices):
    IDLE = "idle", _("Idle")
    STARTING = "starting", _("Starting")
    RUNNING = "running", _("Running")
    BACKOFF = "backoff", _("Retrying")
    DOWN = "down", _("Down")


class MediaChannel(models.Model):
    """Per-camera media settings (continuous recording, retention) and the state of its ffmpeg process."""

    camera = models.OneToOneField(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, related_name="media"
    )
    continuous = models.BooleanField(_("continuous recording"), default=False)
    retention_days = models.PositiveIntegerField(_("retention (days)"), default=7)
    state = models.CharField(_("state"), max_length=10, choices=ProcessState.choices, default=ProcessState.IDLE)
    last_error = models.TextField(_("last error"), blank=True, default="")
    failures = models.PositiveIntegerField(_("failures"), default=0, help_text=_("Consecutive failed starts."))
    starts = models.PositiveBigIntegerField(
        _("starts"), default=0, help_text=_("Times the supervisor started the camera's process, ever.")
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    stream_info = models.JSONField(
        _("stream info"), default=dict, blank=True, help_text=_("Last probe: codecs, size, B-frames.")
    )
    pinned_node = models.ForeignKey(
        "recordings.MediaNode",
        verbose_name=_("pinned to node"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pinned_channels",
        help_text=_("Only this media node records the camera while it is alive (empty: any node)."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("media channel")
        verbose_name_plural = _("media channels")

    def __str__(self) -> str:
        return f"{self.camera_id}: {self.state}"


class LiveViewerQuerySet(CameraScopedQuerySet):
    def active(self) -> LiveViewerQuerySet:
        return self.filter(last_seen__gte=timezone.now() - timedelta(seconds=settings.STREAM_TIMEOUT))


class LiveViewer(models.Model):
    """A user's lease on a camera's live stream, renewed while the player fetches the playlist.

    The stream runs while any lease is younger than STREAM_TIMEOUT.
    """

    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, related_name="live_viewers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="live_viewers"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)

    objects = LiveViewerQuerySet.as_manager()

    class Meta:
        verbose_name = _("live viewer")
        verbose_name_plural = _("live viewers")
        constraints = [models.UniqueConstraint(fields=["camera", "user"], name="live_viewer_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.camera_id}"


class RecordingStatus(models.TextChoices):
    RECORDING = "recording", _("Recording")
    COMPLETED = "completed", _("Completed")
    STOPPED_DISK_FULL = "disk_full", _("Stopped: disk full")


class RecordingQuerySet(CameraScopedQuerySet):
    def active(self, at=None) -> RecordingQuerySet:
        at = at or timezone.now()
        return self.filter(status=RecordingStatus.RECORDING, start_time__lte=at).filter(
            Q(end_time__isnull=True) | Q(end_time__gt=at)
        )

    def overlapping(self, camera_id: int, start, end) -> RecordingQuerySet:
        """Recordings of a camera whose span meets [start, end)."""
        return self.filter(camera_id=camera_id, start_time__lt=end).filter(
            Q(end_time__isnull=True) | Q(end_time__gt=start)
        )


class Recording(models.Model):
    """A span of time on a camera that a user asked to keep (seed 002's recording).

    It owns no files: the video is the camera's segments that overlap the span, shared with any other
    recording or continuous retention of that camera. `end_time` is the planned end (start +
    duration) or, for an open-ended recording, set when it is stopped.
    """

    # SET_NULL, not CASCADE: deleting a camera row never takes recordings with it (camera_ip keeps the
    # address); a camera with video is retired or deleted with its footage (cameras.services.removal).
    camera = models.ForeignKey(
        "cameras.Camera",
        verbose_name=_("camera"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recordings",
    )
    camera_ip = models.CharField(
        _("camera reference"), max_length=300, help_text=_("The camera reference, as seed 002 reports it.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recordings",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RecordingStatus.choices, default=RecordingStatus.RECORDING
    )
    start_time = models.DateTimeField(_("start"), default=timezone.now)
    end_time = models.DateTimeField(_("end"), null=True, blank=True)
    # False until the supervisor has seen video at or after start_time; a recording whose camera was
    # not running yet is moved to its first frame, so "10 s" means 10 s of video.
    anchored = models.BooleanField(_("anchored"), default=False)
    stopped_reason = models.CharField(_("stop reason"), max_length=200, blank=True, default="")
    file_path = models.CharField(
        _("exported file"), max_length=500, blank=True, default="", help_text=_("Last exported MP4.")
    )
    duration_sec = models.FloatField(_("duration (s)"), default=0)
    file_size = models.BigIntegerField(_("file size (bytes)"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-start_time"]
        indexes = [
            models.Index(fields=["user", "camera_ip"], name="recording_user_camera"),
            models.Index(fields=["start_time"], name="recording_start"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_ip} {self.start_time:%Y-%m-%d %H:%M:%S}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return (
            self.status == RecordingStatus.RECORDING
            and self.start_time <= now
            and (self.end_time is None or self.end_time > now)
        )


class Segment(models.Model):
    """One complete MP4 segment on disk, as the supervisor indexed it."""

    # PROTECT: a camera row with indexed video cannot be deleted by accident (nor its files "at the next
    # start"); `retention.delete_camera_footage` removes the footage first, when an admin asks for it.
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.PROTECT, related_name="segments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    size = models.BigIntegerField(_("size (bytes)"))
    path = models.CharField(_("path"), max_length=500, unique=True, help_text=_("Relative to RECORDINGS_DIR."))
    # Written while the camera recorded continuously: kept for its retention days even after
    # continuous recording is turned off. Other segments live only as long as a recording covers them.
    # The file name carries the same class (`.c.mp4`), so a re-indexed file keeps it (see recordings.index).
    continuous = models.BooleanField(_("continuous"), default=False)
    # The media node that indexed it (its MEDIA_NODE_NAME): who holds the file on node-local disks.
    node = models.CharField(_("node"), max_length=100, blank=True, default="")

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["start"]
        # Covering: the timeline (recordings.timeline) reads spans from this index alone (index-only scan).
        indexes = [models.Index(fields=["camera", "start"], include=["end", "continuous"], name="segment_camera_cover")]

    def __str__(self) -> str:
        return self.path

    @property
    def duration(self) -> float:
        return (self.end - self.start).total_seconds()


class MediaNodeQuerySet(AdminOnlyQuerySet):
    def alive(self) -> MediaNodeQuerySet:
        """Nodes that renewed their row within MEDIA_LEASE_SECONDS (by the database's clock)."""
        return self.filter(seen_at__gt=Now() - timedelta(seconds=settings.MEDIA_LEASE_SECONDS))


class MediaNode(models.Model):
    """One `manage.py run_media` process (a recording server): its name, capacity and liveness.

    The row is the node's heartbeat for assignment (renewed with its leases, every third of
    MEDIA_LEASE_SECONDS); the monitoring heartbeat (`media` service, host = node name) is written too.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.CharField(_("URL"), max_length=300, blank=True, default="", help_text=_("MEDIA_NODE_URL."))
    max_channels = models.PositiveIntegerField(_("capacity (channels)"), default=128)
    draining = models.BooleanField(
        _("draining"), default=False, help_text=_("Its cameras move to other nodes, and it takes no new ones.")
    )
    host = models.CharField(_("host"), max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    channels = models.PositiveIntegerField(_("running channels"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    objects = MediaNodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("media node")
        verbose_name_plural = _("media nodes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_alive(self) -> bool:
        return self.seen_at is not None and timezone.now() - self.seen_at < timedelta(
            seconds=settings.MEDIA_LEASE_SECONDS
        )


class MediaLease(models.Model):
    """Which node owns a camera's media work, until when, under which generation (see recordings.nodes).

    Taken and renewed only with conditional UPDATEs; `generation` grows on every take, so a node that
    lost the lease (frozen, partitioned) can tell, and its segment indexing is refused.
    """

    camera = models.OneToOneField(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    node = models.CharField(_("node"), max_length=100, blank=True, default="", db_index=True)
    generation = models.PositiveBigIntegerField(_("generation"), default=0)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("media lease")
        verbose_name_plural = _("media leases")

    def __str__(self) -> str:
        return f"{self.camera_id}: {self.node or '-'} #{self.generation}"


class ExportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Export(models.Model):
    """One MP4 built from segments for a user (a range export or a recording download).

    What bounds exports per user (running now, built in the last hour); see recordings.exports.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, related_name="exports"
    )
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.SET_NULL, null=True, related_name="exports"
    )
    camera_ip = models.CharField(_("camera reference"), max_length=300, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=10, default="range")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.RUNNING)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="export_user_created")]

    def __str__(self) -> str:
        return f"{self.camera_ip} {self.start:%Y-%m-%d %H:%M:%S} ({self.status})"
