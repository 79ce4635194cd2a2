"""Admin for plate reads: read-only (the cameras write them), filterable, with picture thumbnails."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin

from ..models import PlateRead


def _picture_url(read: PlateRead, kind: str) -> str:
    return reverse("plates:read-picture", args=[read.pk, kind])


@admin.register(PlateRead)
class PlateReadAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "number",
        "camera",
        "received_at",
        "camera_time",
        "direction",
        "camera_verdict",
        "our_verdict",
        "flagged",
        "confidence",
        "source",
    ]
    list_display_links = ["number"]
    list_filter = ["flagged", "camera_verdict", "our_verdict", "direction", "source", "received_at", "camera"]
    search_fields = ["number", "plate_as_read", "original_plate", "uuid"]
    date_hierarchy = "received_at"
    list_select_related = ["camera"]
    readonly_fields = [*(f.name for f in PlateRead._meta.fields), "pictures"]
    show_full_result_count = False  # the log grows large: no COUNT(*) of the whole table per page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # retention removes reads with their picture files; a row deleted here would orphan them

    @admin.display(description=_("plate picture"))
    def thumbnail(self, read: PlateRead):
        if not read.plate_picture:
            return "—"
        return format_html('<img src="{}" alt="" style="max-height:32px">', _picture_url(read, "plate"))

    @admin.display(description=_("pictures"))
    def pictures(self, read: PlateRead):
        kinds = [k for k in PlateRead.PICTURE_KINDS if read.picture_path(k)]
        if not kinds:
            return "—"
        return format_html_join(
            " ",
            '<a href="{0}"><img src="{0}" alt="{1}" style="max-height:160px"></a>',
            ((_picture_url(read, k), k) for k in kinds),
        )
