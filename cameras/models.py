from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField
from lprnvr.jobs import BackgroundJob
from lprnvr.redaction import redact as redact_url
from lprnvr.visibility import AdminOnlyQuerySet

from .sites import Direction, Gate, Site

__all__ = ["Brand", "Camera", "Direction", "DiscoveredDevice", "DiscoveredStream", "DiscoveryJob", "Gate", "Site"]


class Brand(models.TextChoices):
    GENERIC = "generic", _("Generic")
    HIKVISION = "hikvision", _("Hikvision")
    DAHUA = "dahua", _("Dahua")
    XMEYE = "xmeye", _("XMEye")
    ONVIF = "onvif", _("ONVIF")


class CameraQuerySet(models.QuerySet):
    def visible_to(self, user) -> CameraQuerySet:
        """Cameras a user may see: all for admins; for everybody else the cameras assigned to them,
        and the lanes of the gates (and of every gate of the sites) assigned to them."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        # Subqueries, not joins: a camera reached several ways is still one row.
        return self.filter(Q(pk__in=user.cameras.values("pk")) | Q(gate__in=Gate.objects.visible_to(user).values("pk")))

    def manageable_by(self, user) -> CameraQuerySet:
        """Cameras a user may act on (record, push plates): admins all, users assigned, viewers none."""
        if not getattr(user, "is_authenticated", False) or not user.can_operate:
            return self.none()
        return self.visible_to(user)

    def in_service(self) -> CameraQuerySet:
        """Cameras not retired (a retired camera keeps its recorded video but is off the lists)."""
        return self.filter(retired_at__isnull=True)

    def by_ref(self, ref: str) -> CameraQuerySet:
        """Cameras named by a reference as clients send it: `ip`, `ip:http_port` or `ip:http_port:channel`."""
        parts = str(ref).strip().split(":")
        # ASCII digits only ("²".isdigit() is true) and short: ports and channels are small numbers.
        numbers = [int(p) if p.isascii() and p.isdigit() and len(p) <= 9 else None for p in parts[1:]]
        if None in numbers:
            return self.none()
        if len(parts) == 1:
            return self.filter(ip=parts[0])
        if len(parts) == 2:
            return self.filter(ip=parts[0], http_port=numbers[0])
        if len(parts) == 3:
            return self.filter(ip=parts[0], http_port=numbers[0], channel=numbers[1])
        return self.none()


port_validators = [MinValueValidator(1), MaxValueValidator(65535)]


class Camera(models.Model):
    """A video source: an IP camera, or one channel of a DVR/NVR (several rows share its address)."""

    name = models.CharField(_("name"), max_length=200)
    ip = models.CharField(_("IP address or host name"), max_length=253, db_index=True)
    http_port = models.PositiveIntegerField(_("HTTP port"), default=80, validators=port_validators)
    rtsp_port = models.PositiveIntegerField(_("RTSP port"), default=554, validators=port_validators)
    brand = models.CharField(_("brand"), max_length=20, choices=Brand.choices, default=Brand.GENERIC)
    channel = models.PositiveIntegerField(_("channel"), default=1, validators=[MinValueValidator(1)])
    username = EncryptedTextField(_("username"), blank=True, default="")
    password = EncryptedTextField(_("password"), blank=True, default="")
    rtsp_url = EncryptedTextField(
        _("RTSP URL"),
        blank=True,
        default="",
        help_text=_("Overrides the brand's template. May carry credentials; stored encrypted."),
    )
    rtsp_substream_url = EncryptedTextField(
        _("RTSP sub-stream URL"),
        blank=True,
        default="",
        help_text=_("The lower-resolution stream, when known (discovery fills it); stored encrypted."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set instead of deleting a camera that has recorded video: never streamed or recorded again, off the
    # camera lists, its video kept until retention (see cameras.services.removal).
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    # A lane of a gate: what reaches the gate (plate lists, visitor passes) reaches this camera.
    gate = models.ForeignKey(
        Gate, verbose_name=_("gate"), on_delete=models.SET_NULL, null=True, blank=True, related_name="lanes"
    )
    direction = models.CharField(_("direction"), max_length=5, choices=Direction.choices, default=Direction.BOTH)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CameraQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["ip", "http_port", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["ip", "http_port", "channel"], name="camera_unique_address"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    def save(self, *args, **kwargs) -> None:
        if self.is_active and self.retired_at is not None:
            self.retired_at = None  # reactivated (API, admin): back in service and on the lists
        super().save(*args, **kwargs)

    @property
    def address(self) -> str:
        """The reference clients use for this camera (see `CameraQuerySet.by_ref`)."""
        text = self.ip if self.http_port == 80 else f"{self.ip}:{self.http_port}"
        return text if self.channel == 1 else f"{self.ip}:{self.http_port}:{self.channel}"

    def stream_url(self, substream: bool = False) -> str:
        """The RTSP URL to pull, credentials included: never log or return it."""
        explicit = self.rtsp_substream_url if substream else self.rtsp_url
        if explicit:
            return explicit
        return expand_rtsp_template(
            self.brand,
            host=self.ip,
            port=self.rtsp_port,
            channel=self.channel,
            username=self.username,
            password=self.password,
            substream=substream,
        )


def expand_rtsp_template(
    brand: str,
    *,
    host: str,
    port: int,
    channel: int = 1,
    username: str = "",
    password: str = "",
    substream: bool = False,
    templates: dict | None = None,
) -> str:
    """Build a stream URL from the brand's template in `settings.RTSP_TEMPLATES`."""
    templates = templates or settings.RTSP_TEMPLATES
    template = templates.get(brand) or templates["generic"]
    url = template.format(
        username=quote(username, safe=""),
        password=quote(password, safe=""),
        host=host,
        port=port,
        channel=channel,
        subtype=1 if substream else 0,
        stream_no=2 if substream else 1,
    )
    if not username and not password:
        url = url.replace("rtsp://:@", "rtsp://")
    return url


# --------------------------------------------------------------------------------------- discovery
class DiscoveryJob(BackgroundJob):
    """One network scan an administrator asked for: its progress, counts, timings and per-host errors.

    Credentials travel to the worker encrypted in this row and are wiped when the job ends.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("queued")
        SCANNING = "scanning", _("scanning ports")
        IDENTIFYING = "identifying", _("identifying devices")
        VALIDATING = "validating", _("validating streams")
        STORING = "storing", _("storing results")
        DONE = "done", _("done")

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    network_range = models.CharField(_("network range"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    hosts_total = models.PositiveIntegerField(_("addresses in range"), default=0)
    hosts_up = models.PositiveIntegerField(_("hosts with camera ports"), default=0)
    hosts_done = models.PositiveIntegerField(_("hosts identified"), default=0)
    devices_found = models.PositiveIntegerField(_("devices found"), default=0)
    streams_total = models.PositiveIntegerField(_("candidate streams"), default=0)
    streams_checked = models.PositiveIntegerField(_("streams checked"), default=0)
    streams_ok = models.PositiveIntegerField(_("working streams"), default=0)
    username = EncryptedTextField(_("username"), blank=True, default="")
    password = EncryptedTextField(_("password"), blank=True, default="")
    with_credentials = models.BooleanField(_("with credentials"), default=False)
    cache_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    timings = models.JSONField(_("seconds per stage"), default=dict, blank=True)
    devices = models.ManyToManyField("DiscoveredDevice", related_name="jobs", blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("discovery job")
        verbose_name_plural = _("discovery jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.network_range} ({self.status})"


class DiscoveredDevice(models.Model):
    """A camera or DVR/NVR seen by discovery; re-discovery updates it (matched by serial, MAC, then IP)."""

    ip = models.GenericIPAddressField(_("IP address"), protocol="IPv4", db_index=True)
    open_ports = models.JSONField(_("open ports"), default=list, blank=True)
    http_port = models.PositiveIntegerField(_("HTTP port"), null=True, blank=True)
    rtsp_port = models.PositiveIntegerField(_("RTSP port"), null=True, blank=True)
    onvif_port = models.PositiveIntegerField(_("ONVIF port"), null=True, blank=True)
    brand = models.CharField(_("brand"), max_length=20, choices=Brand.choices, default=Brand.GENERIC)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True, default="")
    model = models.CharField(_("model"), max_length=100, blank=True, default="")
    firmware = models.CharField(_("firmware"), max_length=100, blank=True, default="")
    serial = models.CharField(_("serial number"), max_length=100, blank=True, default="", db_index=True)
    mac = models.CharField(_("MAC address"), max_length=17, blank=True, default="", db_index=True)
    device_type = models.CharField(_("device type"), max_length=50, blank=True, default="")
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    channels = models.PositiveIntegerField(_("channels"), default=0)
    identified_by = models.JSONField(_("identified by"), default=list, blank=True)
    login = models.CharField(
        _("login"),
        max_length=16,
        blank=True,
        default="",
        help_text=_("ok, refused (credentials rejected), required (none given) or empty when never tried."),
    )
    # The credentials that worked, kept (encrypted) so adoption can create cameras without asking again.
    username = EncryptedTextField(_("username"), blank=True, default="")
    password = EncryptedTextField(_("password"), blank=True, default="")
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("discovered device")
        verbose_name_plural = _("discovered devices")
        ordering = ["ip"]

    def __str__(self) -> str:
        return f"{self.ip} {self.brand} {self.model}".strip()


class DiscoveredStream(models.Model):
    """One candidate RTSP stream of a device channel (main or sub), and what ffprobe made of it."""

    class Status(models.TextChoices):
        OK = "ok", _("working")
        FAILED = "failed", _("failed")

    class Failure(models.TextChoices):
        AUTH = "auth", _("authentication refused")
        TIMEOUT = "timeout", _("timed out")
        NO_STREAM = "no_stream", _("no stream at that URL")
        UNREACHABLE = "unreachable", _("unreachable")
        ERROR = "error", _("other error")

    device = models.ForeignKey(DiscoveredDevice, on_delete=models.CASCADE, related_name="streams")
    channel = models.PositiveIntegerField(_("channel"), default=1)
    substream = models.BooleanField(_("sub stream"), default=False)
    source = models.CharField(_("source"), max_length=16, default="template", help_text=_("onvif or template"))
    url = EncryptedTextField(_("RTSP URL"), help_text=_("Carries credentials; stored encrypted."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    failure = models.CharField(_("failure"), max_length=16, choices=Failure.choices, blank=True, default="")
    detail = models.CharField(_("detail"), max_length=300, blank=True, default="")
    codec = models.CharField(_("codec"), max_length=32, blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    camera = models.ForeignKey(
        Camera, verbose_name=_("camera"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="discovered_streams",
    )  # fmt: skip

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("discovered stream")
        verbose_name_plural = _("discovered streams")
        ordering = ["device", "channel", "substream"]
        constraints = [
            models.UniqueConstraint(fields=["device", "channel", "substream"], name="discovered_stream_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.device.ip} ch{self.channel} {'sub' if self.substream else 'main'} {self.status}"

    @property
    def display_url(self) -> str:
        return redact_url(self.url)
