"""Admin for plate jobs: per-camera results inline, each camera's page with every plate row."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin

from ..models import (
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
)


class JobCameraInline(RestrictedInlineMixin, admin.TabularInline):
    model = PlateJobCamera
    extra = 0
    can_delete = False
    fields = ["camera_link", "status", "attempts", "last_error", "unlock_time", "started_at", "finished_at", "plates"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("camera"))
    def camera_link(self, row: PlateJobCamera):
        url = reverse("admin:plates_platejobcamera_change", args=[row.pk])
        return format_html('<a href="{}">{}</a>', url, row.camera_address)

    @admin.display(description=_("plates"))
    def plates(self, row: PlateJobCamera):
        items = list(row.items.all()[:50])
        more = row.items.count() - len(items)
        html = format_html_join(
            ", ", "{} <b>{}</b>{}", ((i.plate, i.status, f" ({i.last_error})" if i.last_error else "") for i in items)
        )
        return format_html("{}{}", html, f" … +{more}" if more > 0 else "")


@admin.register(PlateJob)
class PlateJobAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "operation", "source", "status", "requested_by", "created_at", "finished_at"]
    list_filter = ["status", "operation", "source"]
    search_fields = ["cameras__camera_address", "cameras__items__plate"]
    readonly_fields = [
        "operation",
        "source",
        "status",
        "requested_by",
        "params",
        "created_at",
        "started_at",
        "finished_at",
    ]
    inlines = [JobCameraInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobItemInline(RestrictedInlineMixin, admin.TabularInline):
    model = PlateJobItem
    extra = 0
    can_delete = False
    fields = ["action", "plate", "new_plate", "status", "attempts", "detail", "last_error", "started_at", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PlateJobCamera)
class PlateJobCameraAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["job", "camera_address", "status", "attempts", "last_error", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in PlateJobCamera._meta.fields]
    inlines = [JobItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return False  # reached from a job's page (the index does not list it)
