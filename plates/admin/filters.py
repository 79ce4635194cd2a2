"""The plate list's filters: gate (a camera whose list holds the plate), validity today, owner."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera

from ..models import CameraPlate
from ..services import anpr_capable


class CameraFilter(admin.SimpleListFilter):
    """Plates on the list of one camera (ANPR cameras the user sees, by name)."""

    title = _("gate")
    parameter_name = "camera"

    def lookups(self, request, model_admin):
        cameras = anpr_capable(Camera.objects.visible_to(request.user).in_service()).order_by("name", "pk")
        return [(str(c.pk), c.name or c.address) for c in cameras]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        held = CameraPlate.objects.visible_to(request.user).filter(camera_id=int(value), desired=True)
        return queryset.filter(pk__in=held.values("plate_id"))


class ValidityFilter(admin.SimpleListFilter):
    """Valid, expired or not yet valid today (the same rule as `Plate.is_valid_on`)."""

    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [("valid", _("Valid today")), ("expired", _("Expired")), ("future", _("Not valid yet"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.valid_on(today)
        if self.value() == "expired":
            return queryset.expired_on(today)
        if self.value() == "future":
            return queryset.future_on(today)
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    """Owner contains the text typed (owners are free text: a box, not a list of thousands)."""

    title = _("owner")
    parameter_name = "owner"
    template = "admin/plates/text_filter.html"

    def lookups(self, request, model_admin):
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        # The template needs the other filters' parameters to keep them when this one is submitted.
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "others": [(k, v) for k, v in changelist.params.items() if k != self.parameter_name],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(owner__icontains=value) if value else queryset
