from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin

from .models import MediaChannel, Recording, Segment


@admin.register(MediaChannel)
class MediaChannelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera", "continuous", "retention_days", "state", "failures", "last_error", "updated_at"]
    list_filter = ["state", "continuous"]
    fields = ["camera", "continuous", "retention_days", "state", "last_error", "failures", "retry_at", "stream_info"]
    readonly_fields = ["state", "last_error", "failures", "retry_at", "stream_info"]


@admin.register(Segment)
class SegmentAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera", "start", "end", "size", "path"]
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
