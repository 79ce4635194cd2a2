from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

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
        return with_media_status(super().get_queryset())


class CameraListView(APIView):
    """Seed 002's list: admins see every camera, everybody else the cameras assigned to them."""

    @extend_schema(
        responses={200: inline_serializer("CameraListResponse", {"cameras": CameraListSerializer(many=True)})},
        tags=["cameras"],
    )
    def get(self, request):
        cameras = with_media_status(Camera.objects.visible_to(request.user))
        return Response({"cameras": CameraListSerializer(cameras, many=True).data})
