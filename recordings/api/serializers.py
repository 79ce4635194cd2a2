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
