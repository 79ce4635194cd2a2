from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin

from .models import MediaChannel, MediaLease, MediaNode, Recording, Segment


@admin.register(MediaChannel)
class MediaChannelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = [
        "camera", "continuous", "retention_days", "state", "node", "pinned_node", "failures", "last_error", "updated_at"
    ]  # fmt: skip
    list_filter = ["state", "continuous", "pinned_node"]
    fields = [
        "camera", "continuous", "retention_days", "pinned_node", "state", "last_error", "failures", "retry_at",
        "stream_info",
    ]  # fmt: skip
    readonly_fields = ["state", "last_error", "failures", "retry_at", "stream_info"]
    list_select_related = ["camera", "pinned_node", "camera__lease"]

    @admin.display(description=_("recorded by"))
    def node(self, obj) -> str:
        lease = getattr(obj.camera, "lease", None)
        return lease.node if lease is not None else ""


@admin.register(MediaNode)
class MediaNodeAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """The recording servers: alive or not, their load, their cameras; drain one before taking it down."""

    list_display = ["name", "alive", "draining", "channels", "max_channels", "cameras", "url", "host", "seen_at"]
    list_filter = ["draining"]
    fields = ["name", "url", "max_channels", "draining", "host", "pid", "channels", "started_at", "seen_at", "leased"]
    readonly_fields = ["name", "url", "max_channels", "host", "pid", "channels", "started_at", "seen_at", "leased"]
    actions = ["drain", "undrain"]

    def get_queryset(self, request):
        leases = MediaLease.objects.filter(node=OuterRef("name")).values("node").annotate(n=Count("pk")).values("n")
        return super().get_queryset(request).annotate(leased_cameras=Subquery(leases))

    def has_add_permission(self, request):
        return False  # a node is a running `run_media`: it writes its own row

    @admin.display(boolean=True, description=_("alive"))
    def alive(self, obj) -> bool:
        return obj.is_alive

    @admin.display(description=_("cameras"))
    def cameras(self, obj) -> int:
        return obj.leased_cameras or 0

    @admin.display(description=_("cameras it holds"))
    def leased(self, obj) -> str:
        ids = MediaLease.objects.filter(node=obj.name).values_list("camera__name", flat=True)
        return ", ".join(sorted(str(name) for name in ids)) or "-"

    @admin.action(description=_("Drain: move its cameras to other nodes, take no new ones"))
    def drain(self, request, queryset):
        count = queryset.update(draining=True)
        self.message_user(request, _("%(count)d node(s) draining.") % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Stop draining: take cameras again"))
    def undrain(self, request, queryset):
        count = queryset.update(draining=False)
        self.message_user(request, _("%(count)d node(s) take cameras again.") % {"count": count}, messages.SUCCESS)


@admin.register(Segment)
class SegmentAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera", "start", "end", "size", "path", "node"]
    list_filter = ["camera"]
    date_hierarchy = "start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera_ip", "user", "status", "start_time", "end_time", "duration_sec", "file_size"]
    list_filter = ["status", "camera"]
    readonly_fields = ["anchored", "file_path", "duration_sec", "file_size"]
    change_list_template = "admin/recordings/recording_changelist.html"

    def get_urls(self):
        own = [
            path("live/", self.admin_site.admin_view(self.live_view), name="recordings_live"),
            path("player/", self.admin_site.admin_view(self.player_view), name="recordings_player"),
        ]
        return own + super().get_urls()

    def live_view(self, request):
        """Live grid of every camera this user may see (hls.js from npm, played from the signed URLs)."""
        cameras = Camera.objects.visible_to(request.user).filter(is_active=True)
        context = {**self.admin_site.each_context(request), "title": _("Live view"), "cameras": cameras}
        return TemplateResponse(request, "admin/recordings/live.html", context)

    def player_view(self, request):
        """Recordings with a player, and export of any time range of a camera."""
        cameras = Camera.objects.visible_to(request.user)
        context = {**self.admin_site.each_context(request), "title": _("Recordings player"), "cameras": cameras}
        return TemplateResponse(request, "admin/recordings/player.html", context)
