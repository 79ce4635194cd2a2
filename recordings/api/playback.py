"""The timeline (/api/nvr/timeline) and playback from any instant (/api/nvr/playback, /api/nvr/vod)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras.models import Camera
from lprnvr.api import absolute_url
from recordings import playback, services, timeline
from recordings.clients import ffmpeg

from .serializers import (
    PlaybackSerializer,
    PlaybackUrlSerializer,
    TimelineCamerasSerializer,
    TimelineSerializer,
    TimelinesSerializer,
    TimelineWindowSerializer,
)
from .views import visible_camera

TAGS = ["playback"]
log = logging.getLogger(__name__)


class TimelineView(APIView):
    @extend_schema(parameters=[TimelineWindowSerializer], responses={200: TimelineSerializer}, tags=TAGS)
    def get(self, request, ref: str):
        """A camera's recorded spans (continuous or recording), gaps and plate-read markers over a window
        of up to TIMELINE_MAX_DAYS, from the segment index."""
        camera = visible_camera(request.user, ref)
        params = TimelineWindowSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        (answer,) = timeline.timeline(cameras=[camera], user=request.user, start=start, end=end)
        body = {"start": start, "end": end, "tolerance": settings.TIMELINE_GAP_TOLERANCE, **answer}
        return Response(TimelineSerializer(body).data)


class TimelinesView(APIView):
    @extend_schema(
        parameters=[TimelineCamerasSerializer],
        responses={200: TimelinesSerializer},
        tags=TAGS,
        operation_id="nvr_timelines",
    )
    def get(self, request):
        """The timelines of several cameras over one window (`cameras=ip,ip,...`), in the order named."""
        params = TimelineCamerasSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        visible = Camera.objects.visible_to(request.user)
        cameras = []
        for ref in data["cameras"]:
            camera = visible.by_ref(ref).first()
            if camera is None:
                raise exceptions.ValidationError({"cameras": [_("Unknown camera: %(ref)s") % {"ref": ref}]})
            cameras.append(camera)
        answers = timeline.timeline(cameras=cameras, user=request.user, start=data["start"], end=data["end"])
        body = {"start": data["start"], "end": data["end"], "tolerance": settings.TIMELINE_GAP_TOLERANCE,
                "cameras": answers}  # fmt: skip
        return Response(TimelinesSerializer(body).data)


class PlaybackView(APIView):
    @extend_schema(parameters=[PlaybackSerializer], responses={200: PlaybackUrlSerializer}, tags=TAGS)
    def get(self, request, ref: str):
        """A signed VOD HLS URL that plays the camera's recorded video from `start` on (PLAYBACK_HOURS
        of it), across segments and holes; hls.js, ffplay and VLC play it as given."""
        camera = visible_camera(request.user, ref)
        params = PlaybackSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start = params.validated_data["start"]
        try:
            built = playback.build_playlist(camera_id=camera.id, start=start)
        except playback.NothingRecorded as exc:
            raise exceptions.NotFound(_("No recorded video from that time on.")) from exc
        url = absolute_url(request, playback.playback_url(camera=camera, user=request.user, start=start))
        body = {"url": url, "start": start, "plays_from": built.plays_from, "first_frame": built.first_frame,
                "duration": round(built.duration, 3), "expires_in": settings.PLAYBACK_URL_TTL}  # fmt: skip
        return Response(PlaybackUrlSerializer(body).data)


class VodFileView(APIView):
    """The playlist and segments of a playback URL: the signed token is the only credential, checked on
    every file as live HLS files are (the user still active, same token generation, camera visible)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=TAGS)
    def get(self, request, token: str, name: str):
        claims = playback.read_token(token)
        if claims is None:
            raise exceptions.PermissionDenied(_("Invalid or expired playback link."))
        if not services.token_still_allowed(claims.camera_id, claims.user_id, claims.generation):
            raise exceptions.PermissionDenied(_("This link is no longer valid for this camera."))
        if name == playback.PLAYLIST:
            try:
                built = playback.build_playlist(camera_id=claims.camera_id, start=claims.start)
            except playback.NothingRecorded as exc:
                raise Http404 from exc
            response = HttpResponse(built.text, content_type="application/vnd.apple.mpegurl")
            response["Cache-Control"] = "private, no-cache"
            return response
        try:
            data = playback.segment_ts(camera_id=claims.camera_id, name=name)
        except ffmpeg.FFmpegError as exc:
            log.warning("playback segment %s of camera %s not served: %s", name, claims.camera_id, exc)
            raise Http404 from exc
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="video/mp2t")
        response["Cache-Control"] = "private, max-age=3600"
        return response
