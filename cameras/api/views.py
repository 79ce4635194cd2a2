from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras import services
from cameras.models import Camera
from lprnvr.api import RestrictedViewSetMixin
from recordings.selectors import with_media_status

from .serializers import CameraListSerializer, CameraSerializer


class ReadOrAdmin(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_admin


class CameraViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    """Cameras: everybody reads the ones they may see; administrators create, edit and delete."""

    queryset = Camera.objects.all()
    serializer_class = CameraSerializer
    permission_classes = [ReadOrAdmin]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def get_queryset(self):
        cameras = super().get_queryset()
        if self.action == "list":
            cameras = cameras.in_service()  # retired cameras stay reachable by id (their video is kept)
        return with_media_status(cameras)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "delete_footage",
                bool,
                description="Required when the camera has recorded video or plate reads: true deletes the camera "
                "with every recording, segment, file and plate read of it; false retires the camera and keeps them "
                "until retention.",
            )
        ],
        responses={
            204: OpenApiResponse(description="Deleted."),
            200: inline_serializer(
                "CameraRetired",
                {
                    "message": serializers.CharField(),
                    "retired": serializers.BooleanField(),
                    "footage": serializers.DictField(child=serializers.FloatField()),
                },
            ),
            409: OpenApiResponse(
                description="The camera has recorded video or plate reads and delete_footage was not given."
            ),
        },
    )
    def destroy(self, request, *args, **kwargs):
        """Delete a camera. One with recorded video or plate reads needs a choice: delete_footage=true or
        false (retire)."""
        camera = self.get_object()
        raw = request.query_params.get("delete_footage")
        choice = None if raw is None else {"true": True, "1": True, "false": False, "0": False}.get(raw.lower(), "?")
        if choice == "?":
            raise exceptions.ValidationError({"delete_footage": [_("Must be true or false.")]})
        footage = services.footage_summary(camera)
        if services.remove_camera(camera=camera, delete_footage=choice) == services.RETIRED:
            message = _("Camera retired; its video and plate reads are kept until retention.")
            return Response({"message": message, "retired": True, "footage": footage})
        return Response(status=204)


class CameraListView(APIView):
    """Seed 002's list: admins see every camera, everybody else the cameras assigned to them."""

    @extend_schema(
        responses={200: inline_serializer("CameraListResponse", {"cameras": CameraListSerializer(many=True)})},
        tags=["cameras"],
    )
    def get(self, request):
        cameras = with_media_status(Camera.objects.visible_to(request.user).in_service())
        return Response({"cameras": CameraListSerializer(cameras, many=True).data})
