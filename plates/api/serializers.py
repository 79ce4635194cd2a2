from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import AnprCamera, ListType, Plate, PlateBackup, PlateJob, PlateJobCamera, PlateJobItem, clean_plate

MAX_ITEMS = 5000


class PlateNumberField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return clean_plate(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class CameraRefsField(serializers.ListField):
    """Cameras by id or by `ip`, `ip:http_port`, `ip:http_port:channel`."""

    child = serializers.CharField()

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", 1000)
        super().__init__(**kwargs)


class PlateSerializer(serializers.ModelSerializer):
    number = PlateNumberField(max_length=40)
    cameras = serializers.SerializerMethodField(help_text=_("Ids of the cameras whose list holds this plate."))

    class Meta:
        model = Plate
        fields = [
            "id",
            "number",
            "list_type",
            "valid_from",
            "valid_until",
            "owner",
            "notes",
            "cameras",
            "delete_requested",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "cameras", "delete_requested", "created_at", "updated_at"]

    def validate_number(self, value):
        qs = Plate.objects.filter(number=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError(_("This plate already exists."))
        return value

    def validate(self, attrs):
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if start and end and end < start:
            raise serializers.ValidationError({"valid_until": _("The end of validity is before its start.")})
        return attrs

    def get_cameras(self, plate: Plate) -> list[int]:
        return sorted(a.camera_id for a in plate.assignments.all() if a.desired)


class PlateCreateSerializer(PlateSerializer):
    push_to = CameraRefsField(required=False, min_length=0, write_only=True, help_text=_("Cameras to push it to."))

    class Meta(PlateSerializer.Meta):
        fields = [*PlateSerializer.Meta.fields, "push_to"]


class PushSerializer(serializers.Serializer):
    plates = serializers.ListField(child=PlateNumberField(max_length=40), min_length=1, max_length=MAX_ITEMS)
    cameras = CameraRefsField()
    list_type = serializers.ChoiceField(ListType.choices, required=False, help_text=_("For plates new here."))
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200)


class RemoveSerializer(serializers.Serializer):
    plates = serializers.ListField(child=PlateNumberField(max_length=40), min_length=1, max_length=MAX_ITEMS)
    cameras = CameraRefsField()


class RenamePairSerializer(serializers.Serializer):
    old = PlateNumberField(max_length=40)
    new = PlateNumberField(max_length=40)

    def validate(self, attrs):
        if attrs["old"] == attrs["new"]:
            raise serializers.ValidationError(_("The new plate is the old one."))
        return attrs


class RenameSerializer(serializers.Serializer):
    renames = RenamePairSerializer(many=True, min_length=1, max_length=MAX_ITEMS)
    cameras = CameraRefsField()


class SyncSerializer(serializers.Serializer):
    converge = serializers.BooleanField(default=False)
    remove_unexpected = serializers.BooleanField(
        default=False, help_text=_("With converge: take plates off the camera that its list here lacks.")
    )
    adopt_unexpected = serializers.BooleanField(
        default=False, help_text=_("Take plates the camera holds and its list here lacks into that list.")
    )
    allow_empty = serializers.BooleanField(default=False)
    confirm_wipe = serializers.BooleanField(
        default=False, help_text=_("Administrators: allow removing more than half of the camera's list.")
    )

    def validate(self, attrs):
        if attrs.get("adopt_unexpected") and attrs.get("remove_unexpected"):
            raise serializers.ValidationError(
                {"adopt_unexpected": [_("Either take the unexpected plates into the list or remove them, not both.")]}
            )
        return attrs


class RestoreSerializer(serializers.Serializer):
    cameras = CameraRefsField(required=False, help_text=_("Default: the camera the backup came from."))
    replace_all = serializers.BooleanField(default=False, help_text=_("Also delete plates the backup lacks."))
    allow_empty = serializers.BooleanField(default=False, help_text=_("Needed to restore an empty backup."))
    confirm_wipe = serializers.BooleanField(
        default=False, help_text=_("Administrators: allow removing more than half of a camera's list.")
    )


class JobItemSerializer(serializers.ModelSerializer):
    error = serializers.CharField(source="last_error")
    action = serializers.CharField(help_text=_("add, delete or rename"))

    class Meta:
        model = PlateJobItem
        fields = ["plate", "new_plate", "action", "status", "attempts", "detail", "error", "started_at", "finished_at"]


class JobCameraSerializer(serializers.ModelSerializer):
    camera = serializers.CharField(source="camera_address")
    error = serializers.CharField(source="last_error")

    class Meta:
        model = PlateJobCamera
        fields = [
            "camera",
            "camera_id",
            "status",
            "attempts",
            "error",
            "error_kind",
            "unlock_time",
            "started_at",
            "finished_at",
            "next_attempt_at",
            "result",
        ]


class JobCameraDetailSerializer(JobCameraSerializer):
    plates = JobItemSerializer(source="items", many=True)

    class Meta(JobCameraSerializer.Meta):
        fields = [*JobCameraSerializer.Meta.fields, "plates"]


class ProgressSerializer(serializers.Serializer):
    cameras_total = serializers.IntegerField()
    cameras_done = serializers.IntegerField()
    plates_total = serializers.IntegerField()
    plates_done = serializers.IntegerField()


class JobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    progress = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = PlateJob
        fields = [
            "id",
            "url",
            "operation",
            "source",
            "status",
            "requested_by",
            "params",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
        ]

    def get_progress(self, job) -> ProgressSerializer:
        from .results import progress

        return progress(job)

    def get_url(self, job) -> str:
        from .results import job_url

        return job_url(job)


class JobDetailSerializer(JobSerializer):
    cameras = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "cameras"]

    def get_cameras(self, job) -> JobCameraDetailSerializer(many=True):
        rows = job.cameras.visible_to(self.context["request"].user).prefetch_related("items")
        return JobCameraDetailSerializer(rows, many=True).data


class AnprCameraSerializer(serializers.ModelSerializer):
    camera_id = serializers.IntegerField(source="camera.pk")
    camera = serializers.CharField(source="camera.address")
    name = serializers.CharField(source="camera.name")
    has_drift = serializers.BooleanField()
    locked = serializers.SerializerMethodField()
    desired_count = serializers.SerializerMethodField()

    class Meta:
        model = AnprCamera
        fields = [
            "camera_id",
            "camera",
            "name",
            "family",
            "family_detected_at",
            "remove_unexpected",
            "last_synced_at",
            "last_sync_error",
            "plate_count",
            "desired_count",
            "has_drift",
            "drift",
            "auth_failed_at",
            "auth_error",
            "locked_until",
            "locked",
        ]

    def get_locked(self, device) -> bool:
        from django.utils import timezone

        return bool(device.locked_until and device.locked_until > timezone.now())

    def get_desired_count(self, device) -> int:
        return device.camera.plate_assignments.filter(desired=True).count()


class BackupSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PlateBackup
        fields = [
            "id",
            "camera_id",
            "camera_address",
            "created_at",
            "source",
            "size",
            "sha256",
            "plate_count",
            "download_url",
        ]

    def get_download_url(self, backup) -> str:
        from django.urls import reverse

        return reverse("plates:backup-download", kwargs={"pk": backup.pk})


class JobAcceptedSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField()
