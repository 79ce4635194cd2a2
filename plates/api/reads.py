"""REST API for plate reads: /api/plates/reads/ (list, filters, CSV, detail, pictures, clip, live feed).

Every read, picture and clip is of a camera the user sees (`PlateRead.objects.visible_to`): an
unknown read and one of another camera are the same 404, as HLS files are. Viewers read everything
here; nothing here writes (reads come from the cameras, through `plates.services.reads`).
"""

from __future__ import annotations

import csv
import time
from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cameras.models import Camera
from lprnvr.api import RestrictedViewSetMixin, absolute_url, as_id
from recordings.api.ranged import ranged_file_response

from ..clients.isapi import normalise_plate
from ..csvformat import Echo, csv_cell
from ..models import CameraVerdict, OurVerdict, PlateRead, ReadSource, plate_key
from ..services import reads as read_services

MATCHES = ("exact", "prefix", "contains", "fuzzy")
FEED_LIMIT = 100


# --- Serializers -------------------------------------------------------------------------------------


class ReadFilterSerializer(serializers.Serializer):
    plate = serializers.CharField(required=False, max_length=64, help_text=gettext_lazy("Plate number (normalised)."))
    match = serializers.ChoiceField(
        MATCHES,
        required=False,
        default="exact",
        help_text=gettext_lazy(
            "How `plate` matches: exact, prefix, contains, or fuzzy (the same plate up to the OCR "
            "confusions 0/O, 1/I, 8/B, 5/S, 2/Z)."
        ),
    )
    camera = serializers.CharField(
        required=False, help_text=gettext_lazy("Camera: ip, ip:http_port or ip:http_port:channel.")
    )
    since = serializers.DateTimeField(required=False, help_text=gettext_lazy("Received at or after (ISO 8601)."))
    until = serializers.DateTimeField(required=False, help_text=gettext_lazy("Received before (ISO 8601)."))
    direction = serializers.CharField(required=False, max_length=16)
    camera_verdict = serializers.ChoiceField(CameraVerdict.choices, required=False)
    our_verdict = serializers.ChoiceField(OurVerdict.choices, required=False)
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)
    source = serializers.ChoiceField(ReadSource.choices, required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": [_("Must be after since.")]})
        return attrs


class PlateReadSerializer(serializers.ModelSerializer):
    camera_ref = serializers.CharField(source="camera.address", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    plate_list = serializers.CharField(source="plate.list_type", read_only=True, allow_null=True, default=None)
    pictures = serializers.SerializerMethodField(
        help_text=gettext_lazy("Picture URLs by kind (plate, scene, vehicle).")
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = PlateRead
        fields = [
            "id",
            "url",
            "camera",
            "camera_ref",
            "camera_name",
            "camera_time",
            "camera_utc_offset",
            "received_at",
            "plate_as_read",
            "number",
            "original_plate",
            "confidence",
            "direction",
            "lane",
            "camera_list_type",
            "camera_verdict",
            "our_verdict",
            "flagged",
            "plate",
            "plate_list",
            "vehicle",
            "source",
            "uuid",
            "pictures",
        ]
        read_only_fields = fields

    def _url(self, path: str) -> str:
        request = self.context.get("request")
        return absolute_url(request, path) if request is not None else path

    def get_url(self, read: PlateRead) -> str:
        return self._url(reverse("plates:read-detail", args=[read.pk]))

    def get_pictures(self, read: PlateRead) -> dict[str, str]:
        return {
            kind: self._url(reverse("plates:read-picture", args=[read.pk, kind]))
            for kind in PlateRead.PICTURE_KINDS
            if read.picture_path(kind)
        }


class ClipLinkSerializer(serializers.Serializer):
    camera = serializers.CharField(help_text=gettext_lazy("The camera's ref."))
    name = serializers.CharField()
    overview = serializers.BooleanField(help_text=gettext_lazy("An overview camera of the gate (not the ANPR one)."))
    url = serializers.CharField()


class PlateReadDetailSerializer(PlateReadSerializer):
    clips = serializers.SerializerMethodField(
        help_text=gettext_lazy("The video around the read: from the ANPR camera and the gate's overview cameras.")
    )
    clip_start = serializers.SerializerMethodField()
    clip_end = serializers.SerializerMethodField()

    class Meta(PlateReadSerializer.Meta):
        fields = [*PlateReadSerializer.Meta.fields, "clips", "clip_start", "clip_end"]
        read_only_fields = fields

    @extend_schema_field(ClipLinkSerializer(many=True))
    def get_clips(self, read: PlateRead) -> list[dict]:
        user = self.context["request"].user
        visible = set(Camera.objects.visible_to(user).values_list("pk", flat=True))
        base = reverse("plates:read-clip", args=[read.pk])
        return [
            {
                "camera": cam.address,
                "name": cam.name,
                "overview": cam.pk != read.camera_id,
                "url": self._url(f"{base}?camera={cam.address}"),
            }
            for cam in read_services.clip_cameras(read)
            if cam.pk in visible
        ]

    def get_clip_start(self, read: PlateRead) -> datetime:
        return read_services.clip_window(read)[0]

    def get_clip_end(self, read: PlateRead) -> datetime:
        return read_services.clip_window(read)[1]


class FeedSerializer(serializers.Serializer):
    results = PlateReadSerializer(many=True)
    cursor = serializers.CharField(help_text=gettext_lazy("Pass as `after` to get the reads that come next."))


# --- Views ---------------------------------------------------------------------------------------------


class ReadCursorPagination(CursorPagination):
    ordering = ("-received_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def filter_reads(request, qs):
    """The reads matching the query parameters; 400 naming the parameter that is wrong."""
    params = ReadFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    if plate := data.get("plate"):
        number = normalise_plate(plate)
        qs = {
            "exact": lambda: qs.filter(number=number),
            "prefix": lambda: qs.filter(number__startswith=number),
            "contains": lambda: qs.filter(number__contains=number),
            "fuzzy": lambda: qs.filter(plate_key=plate_key(number)),
        }[data["match"]]()
    if ref := data.get("camera"):
        # Unknown and not visible answer alike: whether a camera exists is not told.
        camera = Camera.objects.visible_to(request.user).by_ref(ref).first()
        if camera is None:
            raise exceptions.ValidationError({"camera": [_("Unknown camera: %(ref)s") % {"ref": ref}]})
        qs = qs.filter(camera=camera)
    if since := data.get("since"):
        qs = qs.filter(received_at__gte=since)
    if until := data.get("until"):
        qs = qs.filter(received_at__lt=until)
    for field in ("direction", "camera_verdict", "our_verdict", "source"):
        if value := data.get(field):
            qs = qs.filter(**{field: value})
    if data.get("flagged") is not None:
        qs = qs.filter(flagged=data["flagged"])
    return qs


FILTER_PARAMETERS = [ReadFilterSerializer]
CSV_FIELDS = [
    ("id", lambda r: r.pk),
    ("received_at", lambda r: r.received_at.isoformat()),
    ("camera_time", lambda r: r.camera_time.isoformat() if r.camera_time else ""),
    ("camera_utc_offset_minutes", lambda r: "" if r.camera_utc_offset is None else r.camera_utc_offset),
    ("camera", lambda r: r.camera.address),
    ("camera_name", lambda r: r.camera.name),
    ("plate", lambda r: r.number),
    ("plate_as_read", lambda r: r.plate_as_read),
    ("original_plate", lambda r: r.original_plate),
    ("confidence", lambda r: "" if r.confidence is None else r.confidence),
    ("direction", lambda r: r.direction),
    ("lane", lambda r: "" if r.lane is None else r.lane),
    ("camera_verdict", lambda r: r.camera_verdict),
    ("camera_list_type", lambda r: r.camera_list_type),
    ("our_verdict", lambda r: r.our_verdict),
    ("flagged", lambda r: "yes" if r.flagged else "no"),
    ("vehicle_type", lambda r: r.vehicle.get("type", "")),
    ("vehicle_color", lambda r: r.vehicle.get("color", "")),
    ("vehicle_brand", lambda r: r.vehicle.get("brand", "")),
    ("source", lambda r: r.source),
    ("uuid", lambda r: r.uuid),
]


def csv_rows(reads):
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow([name for name, _get in CSV_FIELDS])  # BOM: spreadsheets read UTF-8
    for read in reads.iterator(chunk_size=1000):
        yield writer.writerow([csv_cell(get(read)) for _name, get in CSV_FIELDS])


@extend_schema_view(
    list=extend_schema(parameters=FILTER_PARAMETERS),
    retrieve=extend_schema(responses={200: PlateReadDetailSerializer}),
)
@extend_schema(tags=["plate reads"])
class PlateReadViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Plate reads of the cameras the user sees, newest first (cursor pagination)."""

    queryset = PlateRead.objects.select_related("camera", "plate")
    serializer_class = PlateReadSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = ReadCursorPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = super().get_queryset()
        return filter_reads(self.request, qs) if self.action in ("list", "export") else qs

    def get_serializer_class(self):
        return PlateReadDetailSerializer if self.action == "retrieve" else PlateReadSerializer

    def get_object(self):
        if as_id(self.kwargs["pk"]) is None:  # beyond bigint: not a row, and not a 500
            raise Http404
        return super().get_object()

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        operation_id="plates_reads_export_csv",
    )
    @action(detail=False, methods=["get"], url_path="export.csv", url_name="export")
    def export(self, request):
        """The filtered reads as CSV (UTF-8 with BOM, English column names), streamed newest first."""
        reads = self.get_queryset().order_by("-received_at", "-id")
        response = StreamingHttpResponse(csv_rows(reads), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="plate-reads.csv"'
        return response

    @extend_schema(
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="No such picture.")},
    )
    @action(detail=True, methods=["get"], url_path=r"picture/(?P<kind>[a-z]+)", url_name="picture")
    def picture(self, request, pk=None, kind=None):
        """A read's picture: `plate` (the crop), `scene` or `vehicle`."""
        read = self.get_object()
        path = read_services.picture_file(read, kind) if kind in PlateRead.PICTURE_KINDS else None
        if path is None:
            raise exceptions.NotFound(_("This read has no such picture."), code="no_picture")
        response = FileResponse(path.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "camera", str, description="The ANPR camera (default) or one of the gate's overview cameras (ref)."
            )
        ],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="`camera` is not this read's camera nor an overview camera of it."),
            404: OpenApiResponse(description="Unknown read, or `not_recorded`: no footage at that time."),
            429: OpenApiResponse(description="Your export bound (at once, per hour) is reached; see Retry-After."),
            507: OpenApiResponse(description="Not enough free space or quota for this clip."),
        },
    )
    @action(detail=True, methods=["get"])
    def clip(self, request, pk=None):
        """The video around the read (READS_CLIP_BEFORE .. READS_CLIP_AFTER) as a fast-start MP4, cut
        from the recorded segments without re-encoding (an export, bounded and cached as exports are)."""
        read = self.get_object()
        cameras = read_services.clip_cameras(read)
        ref = request.query_params.get("camera")
        if ref:
            named = Camera.objects.visible_to(request.user).by_ref(ref).first()
            camera = next((c for c in cameras if named is not None and c.pk == named.pk), None)
            if camera is None:
                raise exceptions.ValidationError(
                    {"camera": [_("Not this read's camera nor one of its overview cameras: %(ref)s") % {"ref": ref}]}
                )
        else:
            camera = cameras[0]
        try:
            path = read_services.clip_for_read(read=read, camera=camera, user=request.user)
        except FileNotFoundError as exc:
            raise exceptions.NotFound(
                _("Camera %(camera)s recorded nothing around this read.") % {"camera": camera.address},
                code="not_recorded",
            ) from exc
        return ranged_file_response(request, path, "video/mp4", filename=f"read-{read.pk}-{camera.pk}.mp4")

    @extend_schema(
        parameters=[
            OpenApiParameter("after", str, description="The cursor of the previous answer; none: the latest reads."),
            OpenApiParameter("wait", float, description="Seconds to wait for a new read (at most READS_FEED_WAIT)."),
            OpenApiParameter("camera", str, description="Only this camera (ref)."),
        ],
        responses={200: FeedSerializer},
    )
    @action(detail=False, methods=["get"])
    def feed(self, request):
        """The live feed for a gate screen: the reads after `after` (oldest first), answered as soon
        as there is one, else after `wait` seconds (long poll) with none; always with the next cursor."""
        qs = super().get_queryset()
        if ref := request.query_params.get("camera"):
            camera = Camera.objects.visible_to(request.user).by_ref(ref).first()
            if camera is None:
                raise exceptions.ValidationError({"camera": [_("Unknown camera: %(ref)s") % {"ref": ref}]})
            qs = qs.filter(camera=camera)
        after_param = request.query_params.get("after")
        wait = self._wait()
        if after_param in (None, ""):
            latest = list(qs.order_by("-id")[:20])[::-1]
            last = qs.aggregate(top=Max("id"))["top"] or 0
            return self._feed(latest, last)
        after = as_id(after_param) if after_param != "0" else 0
        if after is None:
            raise exceptions.ValidationError({"after": [_("Not a cursor this feed gave.")]})
        deadline = time.monotonic() + wait
        while True:
            found = list(qs.filter(id__gt=after).order_by("id")[:FEED_LIMIT])
            if found or time.monotonic() >= deadline:
                return self._feed(found, found[-1].pk if found else after)
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))

    def _wait(self) -> float:
        raw = self.request.query_params.get("wait")
        if raw in (None, ""):
            return settings.READS_FEED_WAIT
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value <= settings.READS_FEED_WAIT:
            raise exceptions.ValidationError(
                {"wait": [_("Seconds from 0 to %(max)s.") % {"max": settings.READS_FEED_WAIT}]}
            )
        return value

    def _feed(self, reads, cursor: int) -> Response:
        data = PlateReadSerializer(reads, many=True, context=self.get_serializer_context()).data
        return Response({"results": data, "cursor": str(cursor)})
