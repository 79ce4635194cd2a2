from __future__ import annotations

import ipaddress
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cameras.models import Camera
from recordings import status as media_status

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def validate_host(value: str) -> str:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not HOSTNAME_RE.match(value) or value.replace(".", "").isdigit():
        raise serializers.ValidationError(_("Enter a valid IP address or host name."))
    return value.lower()


WRITE_ONLY_CREDENTIALS = ("username", "password", "rtsp_url", "rtsp_substream_url")


class CameraSerializer(serializers.ModelSerializer):
    """Credentials go in, never out: responses only say whether they are set."""

    username = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200, style={"input_type": "password"}
    )
    rtsp_url = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=2000)
    rtsp_substream_url = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=2000)
    has_credentials = serializers.SerializerMethodField()
    has_custom_rtsp_url = serializers.SerializerMethodField()
    address = serializers.CharField(read_only=True)
    is_recording = serializers.SerializerMethodField(
        help_text=_("A recording is active, or the camera records 24/7 and its stream runs.")
    )
    last_seen = serializers.SerializerMethodField(
        help_text=_("When the camera last gave us video: its newest segment or live playlist.")
    )
    stream_state = serializers.SerializerMethodField(
        help_text=_("State of the camera's ffmpeg process: idle, starting, running, backoff or down.")
    )
    stream_error = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "ip",
            "http_port",
            "rtsp_port",
            "brand",
            "channel",
            "address",
            "username",
            "password",
            "rtsp_url",
            "rtsp_substream_url",
            "has_credentials",
            "has_custom_rtsp_url",
            "is_active",
            "is_recording",
            "stream_state",
            "stream_error",
            "retired_at",
            "last_seen",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "retired_at", "last_seen", "created_at", "updated_at"]

    def validate_ip(self, value: str) -> str:
        return validate_host(value)

    def validate_rtsp_url(self, value: str) -> str:
        if value and not value.lower().startswith(("rtsp://", "rtsps://")):
            raise serializers.ValidationError(_("The URL must start with rtsp:// or rtsps://."))
        return value

    def get_has_credentials(self, camera: Camera) -> bool:
        return bool(camera.username or camera.password)

    def validate_rtsp_substream_url(self, value: str) -> str:
        return self.validate_rtsp_url(value)

    def get_has_custom_rtsp_url(self, camera: Camera) -> bool:
        return bool(camera.rtsp_url)

    def get_is_recording(self, camera: Camera) -> bool:
        return media_status.is_recording(camera)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_seen(self, camera: Camera) -> str | None:
        seen = media_status.last_frame(camera)
        return serializers.DateTimeField().to_representation(seen) if seen else None

    def get_stream_state(self, camera: Camera) -> str:
        media = media_status.channel_of(camera)
        return media.state if media else "idle"

    def get_stream_error(self, camera: Camera) -> str:
        media = media_status.channel_of(camera)
        return media.last_error if media else ""


class CameraListSerializer(CameraSerializer):
    class Meta(CameraSerializer.Meta):
        fields = [
            f
            for f in CameraSerializer.Meta.fields
            if f not in ("username", "password", "rtsp_url", "rtsp_substream_url")
        ]
