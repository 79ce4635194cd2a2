from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField


class Brand(models.TextChoices):
    GENERIC = "generic", _("Generic")
    HIKVISION = "hikvision", _("Hikvision")
    DAHUA = "dahua", _("Dahua")
    XMEYE = "xmeye", _("XMEye")
    ONVIF = "onvif", _("ONVIF")


class CameraQuerySet(models.QuerySet):
    def visible_to(self, user) -> CameraQuerySet:
        """Cameras a user may see: all for admins, the assigned ones for everybody else."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(users=user)

    def manageable_by(self, user) -> CameraQuerySet:
        """Cameras a user may act on (record, push plates): admins all, users assigned, viewers none."""
        if not getattr(user, "is_authenticated", False) or not user.can_operate:
            return self.none()
        return self.visible_to(user)

    def by_ref(self, ref: str) -> CameraQuerySet:
        """Cameras named by a reference as clients send it: `ip`, `ip:http_port` or `ip:http_port:channel`."""
        parts = str(ref).strip().split(":")
        if len(parts) == 1:
            return self.filter(ip=parts[0])
        if len(parts) == 2 and parts[1].isdigit():
            return self.filter(ip=parts[0], http_port=int(parts[1]))
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return self.filter(ip=parts[0], http_port=int(parts[1]), channel=int(parts[2]))
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
    is_active = models.BooleanField(_("active"), default=True)
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

    @property
    def address(self) -> str:
        """The reference clients use for this camera (see `CameraQuerySet.by_ref`)."""
        text = self.ip if self.http_port == 80 else f"{self.ip}:{self.http_port}"
        return text if self.channel == 1 else f"{self.ip}:{self.http_port}:{self.channel}"

    def stream_url(self, substream: bool = False) -> str:
        """The RTSP URL to pull, credentials included: never log or return it."""
        if self.rtsp_url and not substream:
            return self.rtsp_url
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


def redact_url(url: str) -> str:
    """A URL safe to show: credentials in the authority or in XMEye-style paths replaced."""
    import re

    url = re.sub(r"^(\w+://)[^/@]*@", r"\1***:***@", url)
    return re.sub(r"(user|password)=[^&]*", r"\1=***", url)
