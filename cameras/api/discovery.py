"""Discovery API: start a scan (seed 002's GET /api/cameras/discover), follow its job, adopt results.

Everything here is for administrators. Credentials go in (query or JSON body) and never come out:
stream URLs are shown redacted.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras import services
from cameras.models import DiscoveredDevice, DiscoveredStream, DiscoveryJob
from lprnvr.api import IdField, IsAdmin, RestrictedViewSetMixin

from .serializers import CameraListSerializer


# ------------------------------------------------------------------------------------ serializers
def extend_schema_field_list(serializer_class):
    return extend_schema_field(serializer_class(many=True))


class DiscoveredStreamSerializer(serializers.ModelSerializer):
    stream = serializers.SerializerMethodField()
    url = serializers.CharField(source="display_url", read_only=True, help_text="Credentials redacted.")

    class Meta:
        model = DiscoveredStream
        fields = ["id", "channel", "stream", "source", "url", "status", "failure", "detail", "codec", "width",
                  "height", "checked_at", "camera"]  # fmt: skip
        read_only_fields = fields

    def get_stream(self, obj: DiscoveredStream) -> str:
        return "sub" if obj.substream else "main"


class DiscoveredDeviceSerializer(serializers.ModelSerializer):
    streams = serializers.SerializerMethodField(help_text="Working streams only.")
    failures = serializers.SerializerMethodField(help_text="Streams that failed, with the reason.")
    adopted = serializers.SerializerMethodField()

    class Meta:
        model = DiscoveredDevice
        fields = ["id", "ip", "brand", "manufacturer", "model", "firmware", "serial", "mac", "device_type", "name",
                  "channels", "open_ports", "http_port", "rtsp_port", "onvif_port", "identified_by", "login",
                  "first_seen", "last_seen", "adopted", "streams", "failures"]  # fmt: skip
        read_only_fields = fields

    def _streams(self, obj: DiscoveredDevice) -> list[DiscoveredStream]:
        return list(obj.streams.all())

    @extend_schema_field_list(DiscoveredStreamSerializer)
    def get_streams(self, obj: DiscoveredDevice) -> list:
        ok = [s for s in self._streams(obj) if s.status == DiscoveredStream.Status.OK]
        return DiscoveredStreamSerializer(ok, many=True).data

    @extend_schema_field_list(DiscoveredStreamSerializer)
    def get_failures(self, obj: DiscoveredDevice) -> list:
        failed = [s for s in self._streams(obj) if s.status != DiscoveredStream.Status.OK]
        return DiscoveredStreamSerializer(failed, many=True).data

    def get_adopted(self, obj: DiscoveredDevice) -> bool:
        return any(s.camera_id for s in self._streams(obj))


class DiscoveryJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = DiscoveryJob
        fields = ["id", "url", "network_range", "status", "stage", "progress", "hosts_total", "hosts_up",
                  "hosts_done", "devices_found", "streams_total", "streams_checked", "streams_ok", "attempts",
                  "with_credentials", "requested_by", "errors", "error", "created_at", "started_at", "finished_at",
                  "duration_seconds", "timings"]  # fmt: skip
        read_only_fields = fields

    def get_url(self, obj: DiscoveryJob) -> str:
        return reverse("discovery-job-detail", args=[obj.pk])


class DiscoveryJobDetailSerializer(DiscoveryJobSerializer):
    devices = DiscoveredDeviceSerializer(many=True, read_only=True)

    class Meta(DiscoveryJobSerializer.Meta):
        fields = [*DiscoveryJobSerializer.Meta.fields, "devices"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.ANY)
class CredentialsField(serializers.Field):
    """`user:password` (query string or JSON string) or a JSON object; parsed by the discovery service."""

    def to_internal_value(self, data):
        if isinstance(data, str | dict):
            return data
        raise serializers.ValidationError(_('Expected "user:password" or {"username": ..., "password": ...}.'))

    def to_representation(self, value):
        return None  # never echoed


class DiscoverRequestSerializer(serializers.Serializer):
    network_range = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text=_("CIDR, e.g. 192.168.1.0/24.")
    )
    credentials = CredentialsField(
        required=False,
        help_text=_('"user:password" or {"username": "...", "password": "..."} (JSON). Never echoed back.'),
    )
    username = serializers.CharField(required=False, allow_blank=True, max_length=128)
    password = serializers.CharField(required=False, allow_blank=True, max_length=128, trim_whitespace=False)
    refresh = serializers.BooleanField(required=False, default=False, help_text=_("Ignore cached results."))
    wait = serializers.FloatField(required=False, min_value=0, help_text=_("Seconds to wait for the result."))

    def validate(self, attrs):
        network_range = attrs.get("network_range") or settings.DEFAULT_NETWORK_RANGE
        try:
            attrs["network"] = str(services.validate_network_range(network_range))
        except services.InvalidRange as exc:
            raise serializers.ValidationError({"network_range": [str(exc)]}) from None
        if "credentials" in attrs and attrs["credentials"] not in (None, ""):
            try:
                attrs["username"], attrs["password"] = services.parse_credentials(attrs["credentials"])
            except services.InvalidCredentials as exc:
                raise serializers.ValidationError({"credentials": [str(exc)]}) from None
        attrs.setdefault("username", "")
        attrs.setdefault("password", "")
        if attrs["password"] and not attrs["username"]:
            raise serializers.ValidationError({"username": [_("A password needs a username.")]})
        return attrs


class AdoptRequestSerializer(serializers.Serializer):
    devices = serializers.ListField(child=IdField(), required=False, max_length=1000)
    streams = serializers.ListField(child=IdField(), required=False, max_length=5000)
    username = serializers.CharField(required=False, allow_blank=True, max_length=128)
    password = serializers.CharField(required=False, allow_blank=True, max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        if not attrs.get("devices") and not attrs.get("streams"):
            raise serializers.ValidationError({"devices": [_("Name devices or streams to adopt.")]})
        return attrs


# ------------------------------------------------------------------------------------------ views
DiscoverResponse = inline_serializer(
    "DiscoverResponse",
    {
        "job": DiscoveryJobSerializer(),
        "cached": serializers.BooleanField(),
        "devices": DiscoveredDeviceSerializer(many=True),
    },
)


class DiscoverView(APIView):
    """Scan a range for cameras and DVR/NVR channels (seed 002). Waits a bounded time for the job;
    answers 200 with the devices when it finished, else 202 with the job to poll."""

    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[
            OpenApiParameter("network_range", str, description="CIDR, e.g. 192.168.1.0/24"),
            OpenApiParameter("credentials", str, description='"user:password" or JSON {"username","password"}'),
            OpenApiParameter("username", str),
            OpenApiParameter("password", str),
            OpenApiParameter("refresh", bool, description="ignore cached results"),
            OpenApiParameter("wait", float, description="seconds to wait (capped by DISCOVERY_API_WAIT)"),
        ],
        responses={200: DiscoverResponse, 202: DiscoverResponse},
        tags=["discovery"],
    )
    def get(self, request):
        return self._discover(request, request.query_params)

    @extend_schema(request=DiscoverRequestSerializer, responses={200: DiscoverResponse, 202: DiscoverResponse},
                   tags=["discovery"])  # fmt: skip
    def post(self, request):
        return self._discover(request, request.data)

    def _discover(self, request, data):
        params = DiscoverRequestSerializer(data=data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        job, cached = services.start_discovery(
            network_range=values["network"],
            username=values["username"],
            password=values["password"],
            requested_by=request.user,
            refresh=values["refresh"],
        )
        wait = min(values.get("wait", settings.DISCOVERY_API_WAIT), settings.DISCOVERY_API_WAIT)
        if not job.is_finished:
            job = services.wait_for_job(job, wait)
        body = {"job": DiscoveryJobSerializer(job).data, "cached": cached, "devices": []}
        if job.is_finished:
            devices = job.devices.prefetch_related("streams").order_by("ip")
            body["devices"] = DiscoveredDeviceSerializer(devices, many=True).data
            return Response(body, status=status.HTTP_200_OK)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["job"]["url"]})


@extend_schema_view(get=extend_schema(tags=["discovery"]))
class DiscoveryJobListView(RestrictedViewSetMixin, generics.ListAPIView):
    """The latest 200 jobs, newest first."""

    permission_classes = [IsAdmin]
    serializer_class = DiscoveryJobSerializer
    queryset = DiscoveryJob.objects.select_related("requested_by")

    def get_queryset(self):
        return super().get_queryset().order_by("-created_at")[:200]


@extend_schema_view(get=extend_schema(tags=["discovery"]))
class DiscoveryJobDetailView(RestrictedViewSetMixin, generics.RetrieveAPIView):
    permission_classes = [IsAdmin]
    serializer_class = DiscoveryJobDetailSerializer
    queryset = DiscoveryJob.objects.select_related("requested_by").prefetch_related("devices__streams")


@extend_schema_view(get=extend_schema(tags=["discovery"]))
class DiscoveredDeviceListView(RestrictedViewSetMixin, generics.ListAPIView):
    permission_classes = [IsAdmin]
    serializer_class = DiscoveredDeviceSerializer
    queryset = DiscoveredDevice.objects.prefetch_related("streams").all()


@extend_schema_view(get=extend_schema(tags=["discovery"]))
class DiscoveredDeviceDetailView(RestrictedViewSetMixin, generics.RetrieveAPIView):
    permission_classes = [IsAdmin]
    serializer_class = DiscoveredDeviceSerializer
    queryset = DiscoveredDevice.objects.prefetch_related("streams").all()


class AdoptView(APIView):
    """Create cameras from discovered devices (every working channel) or streams (their channels)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        request=AdoptRequestSerializer,
        responses={201: inline_serializer("AdoptResponse", {"cameras": CameraListSerializer(many=True)})},
        tags=["discovery"],
    )
    def post(self, request):
        params = AdoptRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        try:
            cameras = services.adopt(
                device_ids=values.get("devices"),
                stream_ids=values.get("streams"),
                username=values.get("username"),
                password=values.get("password"),
            )
        except services.AdoptionError as exc:
            raise serializers.ValidationError({"streams": [str(exc)]}) from None
        return Response({"cameras": CameraListSerializer(cameras, many=True).data}, status=status.HTTP_201_CREATED)
