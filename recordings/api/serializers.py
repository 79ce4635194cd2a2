from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from recordings.models import Recording

MAX_DURATION = 7 * 24 * 3600


class IpsSerializer(serializers.Serializer):
    ips = serializers.ListField(child=serializers.CharField(max_length=300), allow_empty=False, max_length=256)


class RecordSerializer(serializers.Serializer):
    duration = serializers.IntegerField(min_value=1, max_value=MAX_DURATION, required=False, allow_null=True)


class RecordBatchSerializer(IpsSerializer, RecordSerializer):
    pass


class RecordingFilterSerializer(serializers.Serializer):
    camera_ip = serializers.CharField(required=False, max_length=300)
    start_date = serializers.DateTimeField(required=False)
    end_date = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        # Plain dates are accepted too: start_date=2026-11-26 means from that day's midnight.
        data = {k: v for k, v in data.items() if v not in ("", None)}
        for name in ("start_date", "end_date"):
            value = data.get(name)
            if isinstance(value, str) and len(value) == 10:
                data[name] = value + "T00:00:00"
        return super().to_internal_value(data)


class ExportSerializer(serializers.Serializer):
    camera_ip = serializers.CharField(max_length=300)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must be after start.")]})
        limit = settings.EXPORT_MAX_SECONDS
        if (attrs["end"] - attrs["start"]).total_seconds() > limit:
            raise serializers.ValidationError(
                {"end": [_("At most %(hours)g hours per export.") % {"hours": limit / 3600}]}
            )
        return attrs


class ContinuousSerializer(serializers.Serializer):
    continuous = serializers.BooleanField()
    retention_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class RecordingSerializer(serializers.ModelSerializer):
    """Seed 002's recording, plus its status and where to download it."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_sec = serializers.SerializerMethodField()
    file_path = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id", "camera_ip", "user", "start_time", "end_time", "file_path", "duration_sec", "file_size",
            "status", "stopped_reason", "download_url",
        ]  # fmt: skip

    def get_duration_sec(self, obj) -> float:
        if obj.is_active:
            return round(max(0.0, (timezone.now() - obj.start_time).total_seconds()), 3)
        return obj.duration_sec

    def get_file_path(self, obj) -> str:
        """The name of the MP4 a download gives (the server's own paths are not exposed)."""
        return f"recording-{obj.id}.mp4"

    def get_download_url(self, obj) -> str:
        return f"/api/nvr/recordings/{obj.id}/download"


class TimelineWindowSerializer(serializers.Serializer):
    """A window of at most TIMELINE_MAX_DAYS: ISO 8601 times, with an offset or in the site's time zone."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must be after start.")]})
        days = settings.TIMELINE_MAX_DAYS
        if (attrs["end"] - attrs["start"]).total_seconds() > days * 86400:
            raise serializers.ValidationError({"end": [_("At most %(days)d days after start.") % {"days": days}]})
        return attrs


class TimelineCamerasSerializer(TimelineWindowSerializer):
    cameras = serializers.CharField(help_text="Camera references, comma-separated.")

    def validate_cameras(self, value: str) -> list[str]:
        refs = [ref.strip() for ref in value.split(",") if ref.strip()]
        if not refs:
            raise serializers.ValidationError(_("Name at least one camera."))
        if len(refs) > settings.TIMELINE_MAX_CAMERAS:
            raise serializers.ValidationError(
                _("At most %(n)d cameras at once.") % {"n": settings.TIMELINE_MAX_CAMERAS}
            )
        return list(dict.fromkeys(refs))


class PlaybackSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="ISO 8601; without an offset, the site's time zone.")


class SpanSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    continuous = serializers.BooleanField()
    segments = serializers.IntegerField()


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class MarkerSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    read_id = serializers.IntegerField()
    number = serializers.CharField()
    camera_verdict = serializers.CharField()
    our_verdict = serializers.CharField()
    flagged = serializers.BooleanField()
    camera = serializers.CharField(help_text="The name of the camera that read the plate.")
    own = serializers.BooleanField(help_text="Read by this camera (else by the ANPR camera it overviews).")


class CameraTimelineSerializer(serializers.Serializer):
    ip = serializers.CharField()
    name = serializers.CharField()
    recorded_seconds = serializers.FloatField()
    spans = SpanSerializer(many=True)
    gaps = GapSerializer(many=True)
    markers = MarkerSerializer(many=True)
    markers_truncated = serializers.BooleanField()


class TimelineSerializer(CameraTimelineSerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    tolerance = serializers.FloatField(help_text="Holes shorter than this (seconds) are inside a span.")


class TimelinesSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    tolerance = serializers.FloatField()
    cameras = CameraTimelineSerializer(many=True)


class PlaybackUrlSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="A VOD HLS playlist; plays without headers until it expires.")
    start = serializers.DateTimeField(help_text="The instant asked for.")
    plays_from = serializers.DateTimeField(help_text="Where playback starts: the instant, or the next recorded one.")
    first_frame = serializers.DateTimeField(help_text="The first frame's time (a keyframe at or before plays_from).")
    duration = serializers.FloatField(help_text="Seconds of video in the playlist.")
    expires_in = serializers.IntegerField()
