"""Seed 002's live-stream (/api/cameras/stream*) and PC-NVR (/api/nvr/*) endpoints."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras.models import Camera
from lprnvr.api import CanOperate, IsAdmin, absolute_url
from recordings import exports, selectors, services
from recordings.models import MediaChannel, Recording

from .ranged import ranged_file_response
from .serializers import (
    ContinuousSerializer,
    ExportSerializer,
    IpsSerializer,
    RecordBatchSerializer,
    RecordingFilterSerializer,
    RecordingSerializer,
    RecordSerializer,
)

TAGS_LIVE = ["live"]
TAGS_NVR = ["nvr"]
MESSAGE = inline_serializer("MediaMessage", {"message": serializers.CharField()})
HLS_URL = inline_serializer(
    "HlsUrl",
    {
        "hls_url": serializers.CharField(),
        "expires_in": serializers.IntegerField(help_text="Seconds the URL works: fetch a new one before then."),
    },
)
BATCH_RESULTS = inline_serializer(
    "BatchResults",
    {
        "results": serializers.ListField(
            child=inline_serializer(
                "BatchResult",
                {
                    "ip": serializers.CharField(),
                    "status": serializers.CharField(),
                    "hls_url": serializers.CharField(required=False),
                    "recording_id": serializers.IntegerField(required=False),
                    "error": serializers.CharField(required=False),
                },
            )
        )
    },
)
# `ip`, `ip:http_port` or `ip:http_port:channel` (Camera.objects.by_ref); signed tokens never look so.
CAMERA_REF = re.compile(r"^[0-9.]+(:[0-9]+){0,2}$")
CONTENT_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "m4s": "video/iso.segment", "mp4": "video/mp4"}


def visible_camera(user, ref: str) -> Camera:
    """The camera a ref names, if the user may see it; 404 otherwise (no hint that it exists)."""
    camera = Camera.objects.visible_to(user).by_ref(ref).first()
    if camera is None:
        raise Http404
    return camera


def manageable_camera(user, ref: str) -> Camera:
    """The camera, if the user may act on it: 404 if not visible, 403 if visible but read-only."""
    camera = visible_camera(user, ref)
    if not Camera.objects.manageable_by(user).filter(id=camera.id).exists():
        raise exceptions.PermissionDenied(_("You may not record on this camera."))
    return camera


def _error_text(exc: Exception) -> str:
    if isinstance(exc, Http404):
        return _("Camera not found.")
    detail = getattr(exc, "detail", None)
    return str(detail) if detail is not None else str(exc)


# --- live -----------------------------------------------------------------------------------------
class StreamView(APIView):
    @extend_schema(responses={200: HLS_URL}, tags=TAGS_LIVE, operation_id="stream_start")
    def get(self, request, ref: str):
        """Start (or join) a camera's live stream; answers once the playlist is playable."""
        camera = visible_camera(request.user, ref)
        services.request_live(camera=camera, user=request.user)
        if not services.wait_until_playable([camera.id]):
            raise services.not_ready_error(camera)
        url = absolute_url(request, services.hls_url(camera=camera, user=request.user))
        return Response({"hls_url": url, "expires_in": settings.MEDIA_URL_TTL})

    @extend_schema(responses={200: MESSAGE}, tags=TAGS_LIVE, operation_id="stream_stop")
    def delete(self, request, ref: str):
        """Stop watching: the process stops after the last viewer leaves (recordings go on)."""
        camera = visible_camera(request.user, ref)
        services.release_live(camera=camera, user=request.user)
        return Response({"message": "Stream stopped"})


class StreamBatchView(APIView):
    @extend_schema(request=IpsSerializer, responses={200: BATCH_RESULTS}, tags=TAGS_LIVE)
    def post(self, request):
        """Start several live streams; one result per IP."""
        body = IpsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results, started = [], {}
        for ref in body.validated_data["ips"]:
            try:
                camera = visible_camera(request.user, ref)
                services.request_live(camera=camera, user=request.user)
                started[ref] = camera
                results.append({"ip": ref, "status": "starting"})
            except (Http404, exceptions.APIException) as exc:
                results.append({"ip": ref, "status": "error", "error": _error_text(exc)})
        ready = services.wait_until_playable([c.id for c in started.values()])
        for result in results:
            camera = started.get(result["ip"])
            if camera is None:
                continue
            if camera.id in ready:
                url = absolute_url(request, services.hls_url(camera=camera, user=request.user))
                result.update(status="started", hls_url=url)
            else:
                result.update(status="error", error=str(services.not_ready_error(camera).detail))
        return Response({"results": results})


class HlsFileView(APIView):
    """HLS files. `<signed token>/<file>`: what `hls_url` hands out, playable by any player without
    headers until the token expires; `<camera ref>/<file>` with the caller's own JWT or session."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=TAGS_LIVE)
    def get(self, request, subpath: str):
        key, _sep, name = subpath.partition("/")
        claims = services.read_token(key)
        if claims is not None:
            camera_id, user_id, generation = claims
            if not services.token_still_allowed(camera_id, user_id, generation):
                raise exceptions.PermissionDenied(_("This link is no longer valid for this camera."))
        else:
            if not (request.user and request.user.is_authenticated):
                # Decided by the key's shape alone: whether a camera exists is never told to anybody.
                if not CAMERA_REF.match(key):
                    raise exceptions.PermissionDenied(_("Invalid or expired stream link."))
                raise exceptions.NotAuthenticated()
            camera_id, user_id = visible_camera(request.user, key).id, request.user.id
        path = services.hls_file(camera_id, name)
        if path is None:
            raise Http404
        extension = path.suffix.lstrip(".")
        response = FileResponse(open(path, "rb"), content_type=CONTENT_TYPES[extension])
        if extension == "m3u8":
            services.renew_live(camera_id=camera_id, user_id=user_id)
            response["Cache-Control"] = "no-cache, no-store, must-revalidate"
        else:
            response["Cache-Control"] = "private, max-age=60"
        return response


# --- NVR ------------------------------------------------------------------------------------------
class RecordView(APIView):
    permission_classes = [IsAuthenticated, CanOperate]

    @extend_schema(
        request=RecordSerializer,
        responses={201: inline_serializer("RecordingStarted", {"message": serializers.CharField(),
                                                               "recording_id": serializers.IntegerField()})},
        tags=TAGS_NVR,
    )  # fmt: skip
    def post(self, request, ref: str):
        """Record a camera for `duration` seconds (or until stopped)."""
        camera = manageable_camera(request.user, ref)
        body = RecordSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        rec = services.start_recording(camera=camera, user=request.user, duration=body.validated_data.get("duration"))
        return Response({"message": "Recording started", "recording_id": rec.id}, status=201)

    @extend_schema(responses={200: MESSAGE}, tags=TAGS_NVR)
    def delete(self, request, ref: str):
        """Stop the camera's active recordings (your own; every one for an administrator)."""
        camera = manageable_camera(request.user, ref)
        if not services.stop_recordings(camera=camera, user=request.user):
            raise exceptions.NotFound(_("No active recording on this camera."))
        return Response({"message": "Recording stopped"})


class RecordBatchView(APIView):
    permission_classes = [IsAuthenticated, CanOperate]

    @extend_schema(request=RecordBatchSerializer, responses={200: BATCH_RESULTS}, tags=TAGS_NVR)
    def post(self, request):
        """Start recordings on several cameras; one result per IP."""
        body = RecordBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = []
        for ref in body.validated_data["ips"]:
            try:
                camera = manageable_camera(request.user, ref)
                rec = services.start_recording(
                    camera=camera, user=request.user, duration=body.validated_data.get("duration")
                )
                results.append({"ip": ref, "status": "started", "recording_id": rec.id})
            except (Http404, exceptions.APIException) as exc:
                results.append({"ip": ref, "status": "error", "error": _error_text(exc)})
        return Response({"results": results})


class RecordingListView(APIView):
    @extend_schema(
        parameters=[RecordingFilterSerializer],
        responses={200: inline_serializer("Recordings", {"recordings": RecordingSerializer(many=True)})},
        tags=TAGS_NVR,
    )
    def get(self, request):
        """Recordings on the cameras you may see, newest first."""
        filters = RecordingFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        recs = Recording.objects.visible_to(request.user).select_related("user")
        data = filters.validated_data
        if "camera_ip" in data:
            recs = recs.filter(camera__in=Camera.objects.by_ref(data["camera_ip"]))
        if "start_date" in data:
            recs = recs.filter(start_time__gte=data["start_date"])
        if "end_date" in data:
            recs = recs.filter(start_time__lte=data["end_date"])
        return Response({"recordings": RecordingSerializer(recs[:1000], many=True).data})


class RecordingDetailView(APIView):
    permission_classes = [IsAuthenticated, CanOperate]

    @extend_schema(responses={200: MESSAGE}, tags=TAGS_NVR)
    def delete(self, request, pk: int):
        """Delete a recording (yours, or any for an administrator) and the video nothing else keeps."""
        rec = get_object_or_404(Recording.objects.visible_to(request.user), pk=pk)
        if not request.user.is_admin and rec.user_id != request.user.id:
            raise exceptions.PermissionDenied(_("You may delete only your own recordings."))
        services.delete_recording(recording=rec)
        return Response({"message": "Recording deleted"})


class RecordingDownloadView(APIView):
    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY}, tags=TAGS_NVR)
    def get(self, request, pk: int):
        """The recording as one MP4 (fast start, HTTP Range)."""
        rec = get_object_or_404(Recording.objects.visible_to(request.user), pk=pk)
        try:
            path = exports.export_recording(recording=rec, user=request.user)
        except FileNotFoundError as exc:
            raise exceptions.NotFound(_("No video recorded for this recording yet.")) from exc
        return ranged_file_response(request, path, "video/mp4", filename=f"recording-{rec.id}.mp4")


class ExportView(APIView):
    @extend_schema(
        parameters=[ExportSerializer],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            429: OpenApiResponse(description="Your export bound (at once, per hour) is reached; see Retry-After."),
            507: OpenApiResponse(description="Not enough free space or quota for this export."),
        },
        tags=TAGS_NVR,
    )
    def get(self, request):
        """Any time range of a camera's recorded video as one MP4 (what the recordings page exports).

        Bounded per user (EXPORTS_PER_USER_CONCURRENT at once, EXPORTS_PER_USER_PER_HOUR new files per
        hour; the same range again within EXPORT_CACHE_SECONDS is the cached file and costs nothing)."""
        params = ExportSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        camera = visible_camera(request.user, data["camera_ip"])
        try:
            path = exports.export_range(camera=camera, user=request.user, start=data["start"], end=data["end"])
        except FileNotFoundError as exc:
            raise exceptions.NotFound(_("No recorded video in that time range.")) from exc
        return ranged_file_response(request, path, "video/mp4", filename=path.name)


class StatusView(APIView):
    @extend_schema(
        responses={200: inline_serializer("RecordingStatus", {
            "is_recording": serializers.BooleanField(), "elapsed_sec": serializers.IntegerField(),
            "continuous": serializers.BooleanField(), "process": serializers.CharField(),
            "last_error": serializers.CharField()})},
        tags=TAGS_NVR,
    )  # fmt: skip
    def get(self, request, ref: str):
        """Whether the camera is recording now, since when, and the state of its media process."""
        return Response(selectors.recording_status(visible_camera(request.user, ref)))


class ContinuousView(APIView):
    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "GET" else [IsAuthenticated(), IsAdmin()]

    @extend_schema(responses={200: ContinuousSerializer}, tags=TAGS_NVR, operation_id="continuous_read")
    def get(self, request, ref: str):
        """Continuous (24/7) recording and retention of a camera."""
        camera = visible_camera(request.user, ref)
        channel = MediaChannel.objects.filter(camera=camera).first() or MediaChannel(camera=camera)
        return Response({"continuous": channel.continuous, "retention_days": channel.retention_days})

    @extend_schema(request=ContinuousSerializer, responses={200: ContinuousSerializer}, tags=TAGS_NVR)
    def put(self, request, ref: str):
        """Turn continuous recording on/off and set its retention in days (administrators)."""
        camera = visible_camera(request.user, ref)
        body = ContinuousSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        channel = services.set_continuous(
            camera=camera,
            continuous=body.validated_data["continuous"],
            retention_days=body.validated_data.get("retention_days"),
        )
        return Response({"continuous": channel.continuous, "retention_days": channel.retention_days})
