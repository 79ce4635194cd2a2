from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin
from lprnvr.visibility import can_operate

from . import services, status
from .models import MediaChannel, Recording, Segment


@admin.register(MediaChannel)
class MediaChannelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """The supervisor writes these rows (one per camera): only the two settings are edited here, as on
    the camera page; the process state is read-only."""

    list_display = ["camera", "continuous", "retention_days", "state", "failures", "error_in_words", "updated_at"]
    list_filter = ["state", "continuous"]
    fields = ["camera", "continuous", "retention_days", "state", "error_in_words", "failures", "starts",
              "started_at", "retry_at", "stream_info", "updated_at"]  # fmt: skip
    readonly_fields = ["camera", "state", "error_in_words", "failures", "starts", "started_at", "retry_at",
                       "stream_info", "updated_at"]  # fmt: skip

    @admin.display(description=_("last error"))
    def error_in_words(self, obj):
        return status.error_in_words(obj.last_error) or self.get_empty_value_display()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the row lives and goes with its camera


@admin.register(Segment)
class SegmentAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """The index of recorded video, written by the supervisor: read-only. Footage is deleted by
    retention or with its camera (cameras.services.removal), never row by row here."""

    list_display = ["camera", "start", "end", "size", "continuous", "path"]
    list_filter = ["camera", "continuous"]
    date_hierarchy = "start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera_ip", "user", "status", "start_time", "end_time", "duration_sec", "file_size"]
    list_filter = ["status", "camera"]
    readonly_fields = ["camera", "camera_ip", "user", "status", "start_time", "end_time", "anchored", "stopped_reason",
                       "file_path", "duration_sec", "file_size", "created_at"]  # fmt: skip
    change_list_template = "admin/recordings/recording_changelist.html"

    def has_add_permission(self, request):
        return False  # recordings are started from the Player, the API or a camera's 24/7 switch

    def get_urls(self):
        own = [
            path("live/", self.admin_site.admin_view(self.live_view), name="recordings_live"),
            path(
                "live/<int:camera_id>/record/", self.admin_site.admin_view(self.record_view), name="recordings_record"
            ),
            path("player/", self.admin_site.admin_view(self.player_view), name="recordings_player"),
            path("timeline/", self.admin_site.admin_view(self.timeline_view), name="recordings_timeline"),
        ]
        return own + super().get_urls()

    def live_view(self, request):
        """Live grid of every camera this user may see (hls.js from npm, played from the signed URLs)."""
        cameras = list(Camera.objects.visible_to(request.user).filter(is_active=True))
        manageable = set(Camera.objects.manageable_by(request.user).values_list("pk", flat=True))
        manageable = manageable if can_operate(request.user) else set()
        recording = set(Recording.objects.active().filter(camera__in=cameras).values_list("camera_id", flat=True))
        for camera in cameras:
            camera.can_record = camera.pk in manageable
            camera.is_recording_now = camera.pk in recording
        context = {**self.admin_site.each_context(request), "title": _("Live view"), "cameras": cameras}
        return TemplateResponse(request, "admin/recordings/live.html", context)

    def record_view(self, request, camera_id: int):
        """Start or stop recording a camera from the live grid (POST action=start|stop): the same
        services and rule as POST/DELETE /api/nvr/record/<ip>; users on their cameras, never viewers."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_operate(request.user):
            raise PermissionDenied
        camera = Camera.objects.manageable_by(request.user).filter(pk=camera_id).first()
        if camera is None:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "start":
                services.start_recording(camera=camera, user=request.user, duration=None)
                self.message_user(request, _("Recording %(camera)s.") % {"camera": camera.name}, messages.SUCCESS)
            elif action == "stop":
                if services.stop_recordings(camera=camera, user=request.user):
                    self.message_user(request, _("Stopped recording %(camera)s.") % {"camera": camera.name})
                else:
                    self.message_user(request, _("No active recording on this camera."), messages.WARNING)
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except APIException as exc:  # the service's own refusals (camera off, disk full...) in words
            self.message_user(request, f"{camera.name}: {exc.detail}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:recordings_live"))

    def player_view(self, request):
        """Recordings with a player, and export of any time range of a camera."""
        cameras = Camera.objects.visible_to(request.user)
        context = {**self.admin_site.each_context(request), "title": _("Recordings player"), "cameras": cameras}
        return TemplateResponse(request, "admin/recordings/player.html", context)

    def timeline_view(self, request):
        """Timeline strips of the cameras this user may see: play from any instant, export a range."""
        cameras = Camera.objects.visible_to(request.user).order_by("name", "ip")
        config = {
            "timeZone": settings.TIME_ZONE,
            "locale": get_language() or settings.LANGUAGE_CODE,
            "strings": {
                "unreachable": gettext("The server did not answer. Check the connection and try again."),
                "failed": gettext("The request failed (HTTP %(status)s)."),
                "nothing": gettext("No video in this window"),
                "span": gettext("Recorded from %(from)s to %(to)s"),
                "marker": gettext("Plate %(plate)s at %(time)s (%(camera)s)"),
                "stripLabel": gettext("Timeline of %(camera)s"),
                "selection": gettext("Selected: %(from)s to %(to)s"),
                "playbackFailed": gettext("Playback stopped: %(details)s. Click the timeline to try again."),
                "codec": gettext("This browser cannot play this camera's video (its codec, often H.265). "
                           "Download the range as MP4 and play it in VLC."),
                "noHls": gettext("This browser cannot play HLS video."),
                "later": gettext("Nothing recorded then: playing from %(time)s."),
            },
        }  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Timeline"),
            "cameras": cameras,
            "config": config,
            "time_zone": settings.TIME_ZONE,
            "speeds": [1, 2, 4, 8],
            "tiles": range(4),
        }
        return TemplateResponse(request, "admin/recordings/timeline.html", context)
