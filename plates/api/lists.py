"""REST API for sites, gates and named plate lists: /api/plates/sites/, /gates/, /lists/ (issue 14).

Sites and gates are laid out by administrators and read by whoever reaches them. A list is read by
whoever sees a camera it reaches (or created it) and changed by operators whose cameras are all it
reaches; every change answers 202 with the one job that brings the cameras it reaches in line (200
with `"job": null` when no camera's list changed).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cameras.models import Camera, Direction, Gate, Site
from cameras.sites import validate_time_zone
from lprnvr.api import IdField, RestrictedViewSetMixin, choice_param
from lprnvr.parsers import JSONObjectParser

from .. import csvformat
from ..models import PlateList, VisitorPass
from ..schedules import ScheduleError, clean_schedule
from ..services import imports, lists, passes
from .serializers import MAX_ITEMS, JobAcceptedSerializer, PlateNumberField
from .views import ReadOrOperate, accepted

# --- Sites and gates ---------------------------------------------------------------------------


class AdminWrites(permissions.BasePermission):
    message = gettext_lazy("Only administrators lay out sites and gates.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_admin


class SiteSerializer(serializers.ModelSerializer):
    gates = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "time_zone", "gates"]

    def validate_time_zone(self, value: str) -> str:
        try:
            validate_time_zone(value)
        except Exception as exc:
            raise serializers.ValidationError(_("Not a time zone name (e.g. Europe/Madrid).")) from exc
        return value


class LaneSerializer(serializers.Serializer):
    camera = IdField()
    direction = serializers.ChoiceField(Direction.choices, default=Direction.BOTH)


class GateSerializer(serializers.ModelSerializer):
    lanes = LaneSerializer(
        many=True, required=False, write_only=True, help_text=gettext_lazy("The gate's cameras and the way each faces.")
    )

    class Meta:
        model = Gate
        fields = ["id", "site", "name", "lanes"]

    def to_representation(self, gate):
        data = super().to_representation(gate)
        lanes = getattr(gate, "visible_lanes", None)  # prefetched by the viewset for a list
        if lanes is None:
            lanes = Camera.objects.visible_to(self.context["request"].user).filter(gate=gate).order_by("pk")
        data["lanes"] = [{"camera": c.pk, "address": c.address, "direction": c.direction} for c in lanes]
        return data

    def validate_lanes(self, lanes):
        ids = [lane["camera"] for lane in lanes]
        known = set(Camera.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise serializers.ValidationError(_("Unknown camera: %(ids)s") % {"ids": ", ".join(map(str, unknown))})
        return lanes

    def save_lanes(self, gate: Gate, lanes, user):
        job = lists.set_gate_lanes(
            gate=gate, lanes={lane["camera"]: lane.get("direction", Direction.BOTH) for lane in lanes}, user=user
        )
        gate.__dict__.pop("visible_lanes", None)  # the lanes prefetched before the change are stale now
        return job

    def create(self, validated):
        lanes = validated.pop("lanes", None)
        with transaction.atomic():
            gate = super().create(validated)
            if lanes is not None:
                self.save_lanes(gate, lanes, self.context["request"].user)
        return gate

    def update(self, gate, validated):
        lanes = validated.pop("lanes", None)
        with transaction.atomic():
            gate = super().update(gate, validated)
            if lanes is not None:
                self.save_lanes(gate, lanes, self.context["request"].user)
        return gate


@extend_schema(tags=["sites"])
class SiteViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    queryset = Site.objects.prefetch_related("gates")
    serializer_class = SiteSerializer
    permission_classes = [AdminWrites]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


@extend_schema(tags=["sites"])
class GateViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    queryset = Gate.objects.select_related("site")
    serializer_class = GateSerializer
    permission_classes = [AdminWrites]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        # Each gate's lanes the user may see, in one query for the whole page (not one per gate).
        lanes = Camera.objects.visible_to(self.request.user).order_by("pk")
        return super().get_queryset().prefetch_related(Prefetch("lanes", queryset=lanes, to_attr="visible_lanes"))

    def perform_destroy(self, gate):
        with transaction.atomic():
            lists.set_gate_lanes(gate=gate, lanes={}, user=self.request.user)
            gate.delete()


# --- Named lists -------------------------------------------------------------------------------


class PlateListSerializer(serializers.ModelSerializer):
    plate_count = serializers.IntegerField(read_only=True)
    created_by = serializers.StringRelatedField(read_only=True)
    gates = serializers.SerializerMethodField()
    cameras = serializers.SerializerMethodField()

    class Meta:
        model = PlateList
        fields = [
            "id",
            "name",
            "kind",
            "notes",
            "schedule",
            "plate_count",
            "gates",
            "cameras",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate_schedule(self, value):
        return checked_schedule(value)

    def get_gates(self, obj) -> list[int]:
        return sorted(a.gate_id for a in obj.assignments.all() if a.gate_id)

    def get_cameras(self, obj) -> list[int]:
        return sorted(a.camera_id for a in obj.assignments.all() if a.camera_id)


def checked_schedule(value) -> list:
    try:
        return clean_schedule(value)
    except ScheduleError as exc:
        raise serializers.ValidationError(str(exc)) from exc


class EntrySerializer(serializers.Serializer):
    plate = PlateNumberField(max_length=40)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    schedule = serializers.JSONField(
        required=False,
        default=list,
        help_text=_('Weekly windows: [{"days": "mon-fri", "start": "07:00", "end": "19:00"}]'),
    )

    def validate_schedule(self, value):
        return checked_schedule(value)

    def validate(self, data):
        if data["valid_from"] and data["valid_until"] and data["valid_until"] < data["valid_from"]:
            raise serializers.ValidationError({"valid_until": _("The end of validity is before its start.")})
        return data


class PutOnListSerializer(serializers.Serializer):
    plates = EntrySerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)
    replace = serializers.BooleanField(default=False, help_text=gettext_lazy("The list becomes exactly these plates."))


class TakeOffListSerializer(serializers.Serializer):
    plates = serializers.ListField(child=PlateNumberField(max_length=40), min_length=1, max_length=MAX_ITEMS)


class AssignSerializer(serializers.Serializer):
    gates = serializers.ListField(child=IdField(), required=False, default=list)
    cameras = serializers.ListField(child=IdField(), required=False, default=list)

    def validate(self, data):
        if not data["gates"] and not data["cameras"]:
            raise serializers.ValidationError({"gates": _("Name gates or cameras.")})
        return data


def resolve(user, model, field: str, ids: list[int]) -> list:
    """The rows the user sees with these ids, or 400 naming the field and the unknown ids."""
    rows = list(model.objects.visible_to(user).filter(pk__in=ids))
    unknown = sorted(set(ids) - {r.pk for r in rows})
    if unknown:
        raise exceptions.ValidationError({field: [_("Unknown: %(ids)s") % {"ids": ", ".join(map(str, unknown))}]})
    return rows


def job_response(job) -> Response:
    return accepted(job) if job is not None else Response({"job": None}, status=status.HTTP_200_OK)


# --- Import and export -------------------------------------------------------------------------


class ListImportSerializer(serializers.Serializer):
    csv = serializers.CharField(required=False, trim_whitespace=False, help_text=gettext_lazy("The file's text."))
    file = serializers.FileField(required=False, help_text=gettext_lazy("Or the file (multipart)."))
    replace = serializers.BooleanField(default=False, help_text=gettext_lazy("The list becomes the file."))
    apply = serializers.BooleanField(default=False, help_text=gettext_lazy("Off: only the preview."))

    def validate(self, data):
        if not data.get("csv") and not data.get("file"):
            raise serializers.ValidationError({"file": _("Send the CSV as file or csv.")})
        return data


def csv_download(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ListTransfers:
    """The list viewset's import (with a preview) and export."""

    @extend_schema(request=ListImportSerializer, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[JSONObjectParser, MultiPartParser])
    def import_csv(self, request, pk=None):
        """Preview (default) or apply a CSV: plain `plate,owner,valid_from,valid_until,notes` or a
        camera's own export, up to 100,000 plates. The answer counts added, removed, changed."""
        plate_list = self.get_object()
        data = ListImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        raw = v["file"].read() if v.get("file") else v["csv"].encode()
        rows, bad = imports.read_list_file(raw)
        preview = imports.preview_list_import(plate_list=plate_list, rows=rows, replace=v["replace"], invalid=bad)
        body = {"preview": preview.as_dict(), "applied": False, "job": None}
        if not v["apply"]:
            return Response(body)
        job = imports.import_into_list(plate_list=plate_list, rows=rows, replace=v["replace"], user=request.user)
        body.update(applied=True, job=job.pk if job else None)
        return Response(body, status=status.HTTP_202_ACCEPTED if job else status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("layout", str, enum=["plain", "device"])], responses={(200, "text/csv"): str}
    )
    @action(detail=True, methods=["get"], url_path="export")
    def export_csv(self, request, pk=None):
        """The list as CSV: plain (default), or in the cameras' own export format (`layout=device`)."""
        plate_list = self.get_object()
        device = choice_param(request, "layout", ["plain", "device"]) == "device"
        rows = csvformat.list_rows_csv(imports.list_rows(plate_list), device=device, kind=plate_list.kind)
        return csv_download(rows, f"list-{plate_list.pk}{'-device' if device else ''}.csv")


@extend_schema(tags=["plate lists"])
class PlateListViewSet(ListTransfers, RestrictedViewSetMixin, viewsets.ModelViewSet):
    queryset = PlateList.objects.all()
    serializer_class = PlateListSerializer
    permission_classes = [ReadOrOperate]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().annotate(plate_count=Count("entries")).prefetch_related("assignments")

    def perform_create(self, serializer):
        serializer.instance = lists.create_list(user=self.request.user, **serializer.validated_data)

    @extend_schema(responses={200: PlateListSerializer, 202: JobAcceptedSerializer})
    def partial_update(self, request, *args, **kwargs):
        plate_list = self.get_object()
        serializer = self.get_serializer(plate_list, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        job = lists.change_list(plate_list=plate_list, changes=serializer.validated_data, user=request.user)
        data = self.get_serializer(self.get_queryset().get(pk=plate_list.pk)).data
        data["job"] = job.pk if job else None
        return Response(data)

    @extend_schema(responses={202: JobAcceptedSerializer, 204: None})
    def destroy(self, request, *args, **kwargs):
        job = lists.delete_list(plate_list=self.get_object(), user=request.user)
        return accepted(job) if job else Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PutOnListSerializer, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def plates(self, request, pk=None):
        """Put plates on the list (owner, notes and window each); `replace`: the list becomes them."""
        plate_list = self.get_object()
        data = PutOnListSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = [
            lists.EntrySpec(e["plate"], e["owner"], e["notes"], e["valid_from"], e["valid_until"], e["schedule"])
            for e in data.validated_data["plates"]
        ]
        job = lists.put_on_list(
            plate_list=plate_list, entries=entries, replace=data.validated_data["replace"], user=request.user
        )
        return job_response(job)

    @extend_schema(request=TakeOffListSerializer, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="plates/remove")
    def take_off(self, request, pk=None):
        """Take plates off the list."""
        plate_list = self.get_object()
        data = TakeOffListSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return job_response(
            lists.take_off_list(plate_list=plate_list, numbers=data.validated_data["plates"], user=request.user)
        )

    def _assignment(self, request):
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gates = resolve(request.user, Gate, "gates", data.validated_data["gates"])
        cameras = resolve(request.user, Camera, "cameras", data.validated_data["cameras"])
        return gates, cameras

    @extend_schema(request=AssignSerializer, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Put the list on gates (every lane) and cameras."""
        plate_list = self.get_object()
        gates, cameras = self._assignment(request)
        return job_response(lists.assign_list(plate_list=plate_list, gates=gates, cameras=cameras, user=request.user))

    @extend_schema(request=AssignSerializer, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def unassign(self, request, pk=None):
        """Take the list off gates and cameras."""
        plate_list = self.get_object()
        gates, cameras = self._assignment(request)
        return job_response(lists.unassign_list(plate_list=plate_list, gates=gates, cameras=cameras, user=request.user))


# --- Visitor passes ----------------------------------------------------------------------------


class VisitorPassSerializer(serializers.ModelSerializer):
    plate = serializers.CharField(source="plate.number", read_only=True)
    created_by = serializers.StringRelatedField(read_only=True)
    gates = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = VisitorPass
        fields = [
            "id",
            "plate",
            "gates",
            "visitor",
            "notes",
            "starts_at",
            "ends_at",
            "ended_at",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_active(self, obj) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at


class PassCreateSerializer(serializers.Serializer):
    plate = PlateNumberField(max_length=40)
    gates = serializers.ListField(child=IdField(), min_length=1)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    hours = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0.01, max_value=744)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    visitor = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, data):
        if (data["hours"] is None) == (data["ends_at"] is None):
            raise serializers.ValidationError({"hours": _("Give either hours or ends_at.")})
        return data


@extend_schema(tags=["plate lists"])
class VisitorPassViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = VisitorPass.objects.select_related("plate", "created_by").prefetch_related("gates")
    serializer_class = VisitorPassSerializer
    permission_classes = [ReadOrOperate]
    lookup_value_regex = r"\d+"

    @extend_schema(request=PassCreateSerializer, responses={201: VisitorPassSerializer})
    def create(self, request):
        """A pass: this plate, these gates, from now (or `starts_at`) for `hours` or until `ends_at`."""
        data = PassCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        gates = resolve(request.user, Gate, "gates", v["gates"])
        visitor_pass, job = passes.create_pass(
            number=v["plate"],
            gates=gates,
            starts_at=v["starts_at"],
            hours=v["hours"],
            ends_at=v["ends_at"],
            visitor=v["visitor"],
            notes=v["notes"],
            user=request.user,
        )
        body = VisitorPassSerializer(visitor_pass).data
        body["job"] = job.pk if job else None
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: None, 202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the pass now: taken off every lane of its gates."""
        return job_response(passes.end_pass(visitor_pass=self.get_object(), user=request.user))
