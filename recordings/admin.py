from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
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
from .models import MediaChannel, MediaLease, MediaNode, Recording, Segment


@admin.register(MediaChannel)
class MediaChannelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """The supervisor writes these rows (one per camera): only the two settings are edited here, as on
    the camera page; the process state is read-only."""

    list_display = ["camera", "continuous", "retention_days", "state", "node", "pinned_node", "failures",
                    "error_in_words", "updated_at"]  # fmt: skip
    list_filter = ["state", "continuous", "pinned_node"]
    fields = ["camera", "continuous", "retention_days", "pinned_node", "state", "error_in_words", "failures",
              "starts", "started_at", "retry_at", "stream_info", "updated_at"]  # fmt: skip
    readonly_fields = ["camera", "state", "error_in_words", "failures", "starts", "started_at", "retry_at",
                       "stream_info", "updated_at"]  # fmt: skip
    list_select_related = ["camera", "pinned_node", "camera__lease"]

    @admin.display(description=_("recorded by"))
    def node(self, obj) -> str:
        lease = getattr(obj.camera, "lease", None)
        return lease.node if lease is not None else ""

    @admin.display(description=_("last error"))
    def error_in_words(self, obj):
        return status.error_in_words(obj.last_error) or self.get_empty_value_display()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the row lives and goes with its camera


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
    """The index of recorded video, written by the supervisor: read-only. Footage is deleted by
    retention or with its camera (cameras.services.removal), never row by row here."""

    list_display = ["camera", "start", "end", "size", "continuous", "path", "node"]
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
