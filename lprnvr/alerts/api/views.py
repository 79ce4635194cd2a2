"""REST API for alerts: /api/alerts/rules/ and /targets/ (administrators), /events/ and
/deliveries/ (read-only, each row as its camera is visible; rows of no camera: administrators)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated

from lprnvr.api import IsAdmin, RestrictedViewSetMixin, choice_param, id_param

from ..models import Delivery, DeliveryStatus, Event, EventKind, Rule, Target
from .serializers import DeliverySerializer, EventSerializer, RuleSerializer, TargetSerializer


class NewestFirst(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class EventPagination(NewestFirst):
    ordering = ("-occurred_at", "-id")


class DeliveryPagination(NewestFirst):
    ordering = ("-created_at", "-id")


class TargetViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    """Where alerts go: webhooks, MQTT brokers, email recipients. Administrators only."""

    queryset = Target.objects.all()
    serializer_class = TargetSerializer
    permission_classes = [IsAdmin]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]


class RuleViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    """Which events go to which targets, for which cameras, when. Administrators only."""

    queryset = Rule.objects.prefetch_related("cameras", "targets")
    serializer_class = RuleSerializer
    permission_classes = [IsAdmin]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]


FILTERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=EventKind.values, description=_("Event kind.")),
    OpenApiParameter("camera", OpenApiTypes.INT, description=_("Camera id.")),
]


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class EventViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """What happened (newest first): plate, media, plate-list and system events."""

    queryset = Event.objects.select_related("camera")
    serializer_class = EventSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = EventPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":
            if kind := choice_param(self.request, "kind", EventKind):
                qs = qs.filter(kind=kind)
            if camera := id_param(self.request, "camera"):
                qs = qs.filter(camera_id=camera)
        return qs


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryStatus.values),
            OpenApiParameter("event", OpenApiTypes.INT, description=_("Event id.")),
        ]
    )
)
class DeliveryViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Every message sent or to send: status, attempts, last error, timings (newest first)."""

    queryset = Delivery.objects.select_related("event", "target")
    serializer_class = DeliverySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = DeliveryPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":
            if status := choice_param(self.request, "status", DeliveryStatus):
                qs = qs.filter(status=status)
            if event := id_param(self.request, "event"):
                qs = qs.filter(event_id=event)
        return qs
