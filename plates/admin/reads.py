"""Admin for plate reads: read-only (the cameras write them), filterable, with picture thumbnails; and
the two pages every role signs in for: "Plate reads" (the log, its pictures and clips) and the gate
monitor (the latest reads per gate as they happen, beside the live video). Both pages are drawn in the
browser from the reads API (session auth), so what they show is what the API shows the user
(`PlateRead.objects.visible_to`); the server renders only the user's cameras and the words."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin

from ..models import AnprCamera, PlateRead
from ..models.reads import CameraVerdict, OurVerdict


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

    def get_urls(self):
        # Before Django's `<path:object_id>/` catch-all; admin_view only: every signed-in role, like
        # the live view (the model pages above stay administrators only).
        own = [
            path("log/", self.admin_site.admin_view(self.reads_view), name="plates_reads"),
            path("monitor/", self.admin_site.admin_view(self.monitor_view), name="plates_gate_monitor"),
        ]
        return own + super().get_urls()

    def reads_view(self, request):
        """The plate-read log: filters, a table with cursor pages, a read's pictures and clips, CSV."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("Plate reads"),
            "cameras": anpr_cameras_visible_to(request.user),
            "matches": MATCH_LABELS,
            "camera_verdicts": CameraVerdict.choices,
            "our_verdicts": OurVerdict.choices,
            "words": page_words(),
        }
        return TemplateResponse(request, "admin/plates/reads.html", context)

    def monitor_view(self, request):
        """The gate monitor: per ANPR camera the latest reads as they come (the feed's long poll) and
        the live video of its first overview camera the user sees (the ANPR camera itself else)."""
        visible = set(Camera.objects.visible_to(request.user).filter(is_active=True).values_list("pk", flat=True))
        anprs = AnprCamera.objects.visible_to(request.user).filter(camera__is_active=True)
        # `?camera=<ref>`: one gate's screen (an unknown or unseen ref shows no gate, like the API's 404).
        if ref := request.GET.get("camera", "").strip():
            anprs = anprs.filter(camera__in=Camera.objects.by_ref(ref))
        gates = []
        for anpr in (
            anprs.select_related("camera").prefetch_related("overview_cameras").order_by("camera__name", "camera__pk")
        ):
            overview = [c for c in anpr.overview_cameras.all() if c.pk in visible]
            gates.append({"camera": anpr.camera, "live": overview[0] if overview else anpr.camera})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Gate monitor"),
            "gates": gates,
            "one_camera": ref if len(gates) == 1 else "",
            "words": page_words(),
        }
        return TemplateResponse(request, "admin/plates/gate_monitor.html", context)

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


MATCH_LABELS = [
    ("exact", _("exact")),
    ("prefix", _("starts with")),
    ("contains", _("contains")),
    ("fuzzy", _("fuzzy (0/O, 1/I, 8/B…)")),
]


def anpr_cameras_visible_to(user):
    return Camera.objects.visible_to(user).filter(anpr__isnull=False).order_by("name", "pk")


def page_words() -> dict[str, str]:
    """The words the pages' JS writes (json_script), translated here like every other string."""
    return {
        "camera_verdict": {k: str(v) for k, v in CameraVerdict.choices},
        "our_verdict": {k: str(v) for k, v in OurVerdict.choices},
        # The camera's `direction` as Hikvision sends it; anything else is shown as sent.
        "directions": {"forward": str(_("forward")), "reverse": str(_("reverse")), "unknown": str(_("unknown"))},
        "camera_says": str(_("Camera")),
        "we_say": str(_("Our list")),
        "flagged": str(_("Verdicts differ")),
        "no_reads": str(_("No reads.")),
        "no_reads_yet": str(_("No reads yet.")),
        "loading": str(_("Loading…")),
        "older": str(_("Older")),
        "not_recorded": str(_("Not recorded at that time: there is no video of this camera around this read.")),
        "clip_error": str(_("The clip cannot be shown:")),
        "no_pictures": str(_("The camera sent no picture.")),
        "no_clips": str(_("No camera of this gate is assigned to you for video.")),
        "plate_picture": str(_("Plate")),
        "scene_picture": str(_("Scene")),
        "vehicle_picture": str(_("Vehicle")),
        "video": str(_("Video around the read")),
        "overview": str(_("overview camera")),
        "direction": str(_("Direction")),
        "confidence": str(_("Confidence")),
        "camera_time": str(_("Camera time")),
        "received": str(_("Received")),
        "vehicle": str(_("Vehicle")),
        "close": str(_("Close")),
        "offline": str(_("Connection lost; retrying…")),
        "error": str(_("Error:")),
    }
