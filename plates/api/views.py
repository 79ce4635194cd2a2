"""REST API for plates: /api/plates/... (plates, push/remove/rename, jobs, cameras' drift, backups).

Every queryset is restricted to what the user may see; every action on cameras to the cameras the
user may manage (admins: all; users: their cameras; viewers: read only).
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.authentication import RevocableJWTAuthentication
from cameras.models import Camera
from lprnvr.api import RestrictedViewSetMixin, choice_param, id_param

from .. import services
from ..clients import isapi
from ..models import AnprCamera, ListType, Operation, Plate, PlateBackup, PlateJob, Source, Status
from ..selectors import resolve_cameras_for
from ..services import backups
from . import serializers as s
from .authentication import DigestAuthentication
from .results import job_url, with_progress


class ReadOrOperate(permissions.BasePermission):
    """Everybody signed in reads; admins and users act (on their cameras); viewers only read."""

    message = gettext_lazy("Viewers may not change anything.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.can_operate


def cameras_for(request, refs: list) -> list[Camera]:
    """The cameras named, or 400 naming the unknown ones / 403 naming the ones the user may not manage."""
    resolution = resolve_cameras_for(request.user, refs)
    if resolution.unknown:
        raise exceptions.ValidationError(
            {"cameras": [_("Unknown camera: %(ref)s") % {"ref": ref} for ref in resolution.unknown]}
        )
    if resolution.forbidden:
        raise exceptions.PermissionDenied(_("You may not act on: %(refs)s") % {"refs": ", ".join(resolution.forbidden)})
    require_anpr_capable(resolution.cameras)
    return resolution.cameras


def require_anpr_capable(cameras: list[Camera], field: str = "cameras") -> None:
    """400 naming the field and each camera that cannot hold plates (the scope service's rule)."""
    try:
        services.ensure_anpr_capable(cameras)
    except services.NotAnprCapable as exc:
        raise exceptions.ValidationError({field: exc.reasons}) from exc


def accepted(job) -> Response:
    response = Response({"job": job.pk, "status": job.status, "url": job_url(job)}, status=status.HTTP_202_ACCEPTED)
    response["Location"] = job_url(job)
    return response


def require_manageable(request, cameras) -> None:
    cameras = list(cameras)
    allowed = set(Camera.objects.manageable_by(request.user).values_list("pk", flat=True))
    denied = [c.address for c in cameras if c.pk not in allowed]
    if denied:
        raise exceptions.PermissionDenied(_("You may not act on: %(refs)s") % {"refs": ", ".join(denied)})


_job_accepted = {202: s.JobAcceptedSerializer}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Plate number or owner contains"),
            OpenApiParameter("list_type", str, enum=["allow", "block"]),
            OpenApiParameter("camera", int, description="On this camera's list"),
            OpenApiParameter("owner", str),
            OpenApiParameter("valid_on", OpenApiTypes.DATE, description="Valid on this day"),
        ]
    ),
    create=extend_schema(request=s.PlateCreateSerializer, responses={201: s.PlateSerializer}),
    destroy=extend_schema(responses={202: s.JobAcceptedSerializer, 204: None}),
)
@extend_schema(tags=["plates"])
class PlateViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    queryset = Plate.objects.all()
    serializer_class = s.PlateSerializer
    permission_classes = [ReadOrOperate]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset().prefetch_related("assignments")
        params = self.request.query_params
        if q := params.get("q"):
            qs = qs.filter(number__icontains=q.replace("-", "").replace(" ", "")) | qs.filter(owner__icontains=q)
        if list_type := choice_param(self.request, "list_type", ListType):
            qs = qs.filter(list_type=list_type)
        if camera := id_param(self.request, "camera"):
            qs = qs.filter(assignments__camera_id=camera, assignments__desired=True)
        if owner := params.get("owner"):
            qs = qs.filter(owner__icontains=owner)
        if valid_on := params.get("valid_on"):
            try:
                day = date.fromisoformat(valid_on)
            except ValueError as exc:
                raise exceptions.ValidationError({"valid_on": [_("Use YYYY-MM-DD.")]}) from exc
            qs = qs.valid_on(day)
        return qs.distinct().order_by("number")

    def get_serializer_class(self):
        return s.PlateCreateSerializer if self.action == "create" else s.PlateSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refs = serializer.validated_data.pop("push_to", [])
        cameras = cameras_for(request, refs) if refs else []
        with transaction.atomic():
            plate = serializer.save(created_by=request.user)
            job = services.push_plates(cameras=cameras, numbers=[plate.number], user=request.user) if cameras else None
        data = s.PlateSerializer(plate).data
        if job:
            data["job"] = job.pk
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        plate = self.get_object()
        if isinstance(request.data, dict) and "number" in request.data and request.data["number"] != plate.number:
            raise exceptions.ValidationError({"number": [_("Use /api/plates/rename to change a plate's number.")]})
        serializer = self.get_serializer(plate, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        job = services.update_plate(plate=plate, changes=serializer.validated_data, user=request.user)
        plate.refresh_from_db()
        data = s.PlateSerializer(plate).data
        if job:
            data["job"] = job.pk
        return Response(data)

    def destroy(self, request, *args, **kwargs):
        """Delete a plate: 204 when no camera held it, else 202 with the job that takes it off every
        camera holding it (the row goes once they confirm)."""
        plate = self.get_object()
        job = services.delete_plates(plates=[plate], user=request.user)
        if job is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return accepted(job)

    @extend_schema(request=s.PushSerializer, responses=_job_accepted)
    @action(detail=False, methods=["post"])
    def push(self, request):
        """Add plates (present exactly once) to the chosen cameras' lists and push them."""
        data = s.PushSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cameras = cameras_for(request, data.validated_data["cameras"])
        defaults = {
            k: v for k, v in data.validated_data.items() if k in ("list_type", "valid_from", "valid_until", "owner")
        }
        with transaction.atomic():
            job = services.push_plates(
                cameras=cameras, numbers=data.validated_data["plates"], user=request.user, defaults=defaults
            )
        return accepted(job)

    @extend_schema(request=s.RemoveSerializer, responses=_job_accepted)
    @action(detail=False, methods=["post"])
    def remove(self, request):
        """Take plates off the chosen cameras: every exact record deleted, confirmed by a second search."""
        data = s.RemoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cameras = cameras_for(request, data.validated_data["cameras"])
        with transaction.atomic():
            job = services.remove_plates(cameras=cameras, numbers=data.validated_data["plates"], user=request.user)
        return accepted(job)

    @extend_schema(request=s.RenameSerializer, responses=_job_accepted)
    @action(detail=False, methods=["post"])
    def rename(self, request):
        """Rename plates on the chosen cameras, keeping list type and validity."""
        data = s.RenameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cameras = cameras_for(request, data.validated_data["cameras"])
        renames = [services.Rename(r["old"], r["new"]) for r in data.validated_data["renames"]]
        with transaction.atomic():
            job = services.rename_plates(cameras=cameras, renames=renames, user=request.user)
        return accepted(job)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("operation", str),
            OpenApiParameter("camera", int),
        ]
    )
)
@extend_schema(tags=["plates"])
class JobViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PlateJob.objects.all()
    # A legacy client polls the job URL a 202 gave it with the same HTTP Digest credentials.
    authentication_classes = [DigestAuthentication, RevocableJWTAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = with_progress(super().get_queryset().select_related("requested_by"))
        if value := choice_param(self.request, "status", Status):
            qs = qs.filter(status=value)
        if value := choice_param(self.request, "operation", Operation):
            qs = qs.filter(operation=value)
        if camera := id_param(self.request, "camera"):
            qs = qs.filter(cameras__camera_id=camera).distinct()
        return qs.order_by("-created_at", "-id")[:500] if self.action == "list" else qs

    def get_serializer_class(self):
        return s.JobDetailSerializer if self.action == "retrieve" else s.JobSerializer


@extend_schema(tags=["plates"])
class AnprCameraViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Cameras as plate-list devices: firmware family, last sync, drift, credential trouble."""

    queryset = AnprCamera.objects.select_related("camera")
    serializer_class = s.AnprCameraSerializer
    permission_classes = [ReadOrOperate]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = super().get_queryset().order_by("camera__ip", "camera__http_port")
        if (
            self.action == "list"
        ):  # a camera that cannot hold plates is no ANPR camera (its page still syncs: the probe)
            qs = qs.filter(camera__in=services.anpr_capable(Camera.objects.all()))
        return qs

    def get_object(self):
        # Any camera the user sees can be synced or backed up; its ANPR row is made on first use.
        camera = get_object_or_404(Camera.objects.visible_to(self.request.user), pk=self.kwargs["pk"])
        services.anpr_for(camera)
        return super().get_object()

    @extend_schema(responses={200: s.AnprCameraSerializer})
    @action(detail=True, methods=["get"])
    def drift(self, request, pk=None):
        """The drift found by the last sync (missing, unexpected, to remove, duplicates, mismatched)."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        parameters=[OpenApiParameter("layout", str, enum=["plain", "device"])], responses={(200, "text/csv"): str}
    )
    @action(detail=True, methods=["get"], url_path="export")
    def export_csv(self, request, pk=None):
        """The camera's effective list (what it must hold, from its own entries, lists and passes) as
        CSV: plain, or in the cameras' own export format (`layout=device`, allow and block groups)."""
        from django.http import StreamingHttpResponse

        from ..csvformat import list_rows_csv
        from ..services.imports import camera_rows

        device = self.get_object()
        as_device = choice_param(request, "layout", ["plain", "device"]) == "device"
        response = StreamingHttpResponse(
            list_rows_csv(camera_rows(device.camera), device=as_device), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="camera-{device.pk}-list.csv"'
        return response

    @extend_schema(request=s.SyncSerializer, responses=_job_accepted)
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Read the camera's list and report drift; with `converge`, make the camera match its list here."""
        device = self.get_object()
        require_manageable(request, [device.camera])
        data = s.SyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            job = services.sync_cameras(cameras=[device.camera], user=request.user, **data.validated_data)
        return accepted(job)

    @extend_schema(request=None, responses={201: s.BackupSerializer, 502: OpenApiResponse(description="Camera error")})
    @action(detail=True, methods=["post"])
    def backup(self, request, pk=None):
        """Back up the camera's list now (the device's own CSV export)."""
        device = self.get_object()
        require_manageable(request, [device.camera])
        try:
            backup = backups.backup_camera(device.camera, user=request.user, source=Source.API)
        except (isapi.ISAPIError, backups.BackupError) as exc:
            return Response({"error": str(exc), "code": "camera_error", "status": 502}, status=502)
        return Response(s.BackupSerializer(backup).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["plates"])
class BackupViewSet(RestrictedViewSetMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = PlateBackup.objects.all()
    serializer_class = s.BackupSerializer
    permission_classes = [ReadOrOperate]
    lookup_value_regex = r"\d+"

    @extend_schema(
        parameters=[OpenApiParameter("normalized", bool, description="Our normalised copy instead of the device's")],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        backup: PlateBackup = self.get_object()
        normalized = request.query_params.get("normalized") in ("1", "true", "yes")
        path = backups.backup_path(backup, normalized=normalized)
        if not path.is_file():
            raise exceptions.NotFound(_("The backup file is missing."))
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv")

    @extend_schema(request=s.RestoreSerializer, responses=_job_accepted)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Push a backup's records back. Additive unless `replace_all`; an empty backup needs `allow_empty`."""
        backup: PlateBackup = self.get_object()
        data = s.RestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refs = data.validated_data.get("cameras")
        if refs:
            cameras = cameras_for(request, refs)
        elif backup.camera is not None:
            cameras = [backup.camera]
            require_manageable(request, cameras)
            require_anpr_capable(cameras)
        else:
            raise exceptions.ValidationError({"cameras": [_("The backup's camera is gone: name the cameras.")]})
        path = backups.backup_path(backup)
        if not path.is_file():
            raise exceptions.NotFound(_("The backup file is missing."))
        specs = backups.specs_from_file(path)
        try:
            job = backups.restore_backup(
                specs=specs,
                cameras=cameras,
                replace_all=data.validated_data["replace_all"],
                allow_empty=data.validated_data["allow_empty"],
                confirm_wipe=data.validated_data["confirm_wipe"],
                backup=backup,
                user=request.user,
            )
        except backups.BackupError as exc:
            raise exceptions.ValidationError({"allow_empty": [str(exc)]}) from exc
        return accepted(job)
