"""Admin for plate-read sources: mode and state per camera, the push secret (shown once, rotatable),
and pointing a camera's free listening slot at us."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin

from ..clients import isapi
from ..events import sources
from ..models import AnprEventSource, RefusedPush


def push_url(request, source: AnprEventSource, secret: str) -> str:
    base = settings.EVENTS_PUSH_BASE_URL or request.build_absolute_uri("/")
    return base.rstrip("/") + sources.push_path(camera_id=source.camera_id, secret=secret)


@admin.register(AnprEventSource)
class AnprEventSourceAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera", "enabled", "mode", "state", "last_heartbeat_at", "last_read_at", "reads_received",
                    "reconnects", "rejected", "last_error"]  # fmt: skip
    list_filter = ["enabled", "mode", "state"]
    search_fields = ["camera__name", "camera__ip"]
    fields = ["camera", "enabled", "mode", "state", "connected_at", "last_heartbeat_at", "last_read_at",
              "reads_received", "reconnects", "rejected", "last_error", "last_error_at", "secret_set_at",
              "backfill_supported", "backfill_cursor"]  # fmt: skip
    readonly_fields = ["state", "connected_at", "last_heartbeat_at", "last_read_at", "reads_received", "reconnects",
                       "rejected", "last_error", "last_error_at", "secret_set_at", "backfill_supported",
                       "backfill_cursor"]  # fmt: skip
    actions = ["rotate_secret", "configure_http_host"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sources.wake_listener()

    @admin.action(description=_("New push secret (shown once)"))
    def rotate_secret(self, request, queryset):
        for source in queryset.manageable_by(request.user).select_related("camera"):
            secret = sources.rotate_secret(source=source)
            self.message_user(
                request,
                _("%(camera)s: the camera posts to %(url)s (shown once; the previous secret no longer works).")
                % {"camera": source.camera, "url": push_url(request, source, secret)},
                messages.WARNING,
            )

    @admin.action(description=_("Point a free listening slot of the camera at us (new secret)"))
    def configure_http_host(self, request, queryset):
        for source in queryset.manageable_by(request.user).select_related("camera"):
            secret = sources.rotate_secret(source=source)
            url = push_url(request, source, secret)
            try:
                slot = sources.configure_http_host(camera=source.camera, url=url)
            except sources.SlotsTaken:
                self.message_user(
                    request,
                    _("%(camera)s: every listening slot points at another system; none was changed.")
                    % {"camera": source.camera},
                    messages.ERROR,
                )
                continue
            except isapi.ISAPIError as exc:
                self.message_user(request, f"{source.camera}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(camera)s: listening slot %(slot)s now posts to %(url)s (shown once).")
                % {"camera": source.camera, "slot": slot, "url": url},
                messages.WARNING,
            )


@admin.register(RefusedPush)
class RefusedPushAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """Read-only: what the push door refused before it could name a camera."""

    list_display = ["reason", "count", "last_at", "last_camera_id", "last_address"]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
