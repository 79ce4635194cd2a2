"""Admin for ANPR cameras: drift as tables, with sync / converge / take in or remove unexpected plates
(each a job), back up now."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin
from lprnvr.visibility import OutOfScope, is_admin

from .. import services
from ..clients import isapi
from ..models import (
    AnprCamera,
    CameraPlate,
    PlateJob,
    Source,
)
from ..services import backups
from .words import drift_labels

DRIFT_SHOWN = 50  # plates listed per kind of drift on a camera's page; the rest is counted
DRIFT_ACTIONS = {
    "sync": {},
    "converge": {"converge": True},
    "adopt": {"adopt_unexpected": True},
    "remove": {"converge": True, "remove_unexpected": True},
}


@admin.register(AnprCamera)
class AnprCameraAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """ANPR cameras and their drift. Every role reads the cameras it sees; users sync, converge and
    take in or remove unexpected plates on theirs (each a job: the same service as the API)."""

    open_to_every_role = True
    # Few, short columns: at 1440 px beside the menu and the filters every one shows.
    list_display = ["camera", "family_letter", "last_synced_at", "plate_count", "drift_summary", "state"]
    list_filter = ["family", "remove_unexpected"]
    search_fields = ["camera__name", "camera__ip"]
    fields = [
        "camera",
        "family",
        "family_detected_at",
        "remove_unexpected",
        "overview_cameras",
        "last_synced_at",
        "last_sync_error",
        "plate_count",
        "auth_failed_at",
        "auth_error",
        "locked_until",
    ]
    readonly_fields = [f for f in fields if f not in ("remove_unexpected", "overview_cameras")]
    filter_horizontal = ["overview_cameras"]
    actions = ["sync_report", "converge", "converge_confirm_wipe", "clear_credential_failure", "backup_now"]
    change_form_template = "admin/plates/anprcamera_change_form.html"
    USER_ACTIONS = ("sync_report", "converge")

    def get_queryset(self, request):
        # A camera that cannot hold plates is no ANPR camera, even with a row (a sync probed it in vain).
        capable = services.anpr_capable(Camera.objects.all())
        return super().get_queryset(request).filter(camera__in=capable).select_related("camera")

    def has_change_permission(self, request, obj=None):
        # The API lets no user change these settings; users act through the drift buttons and actions.
        return is_admin(request.user) and super().has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_admin(request.user):
            actions = {name: a for name, a in actions.items() if name in self.USER_ACTIONS}
        return actions

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_delete_permission(request, obj)

    @admin.display(description=_("drift"))
    def drift_summary(self, device):
        labels = drift_labels(short=True)
        parts = [f"{len(device.drift[k])} {labels[k]}" for k in labels if device.drift.get(k)]
        return ", ".join(parts) if parts else (_("in sync") if device.last_synced_at else "-")

    @admin.display(description=_("family"), ordering="family")
    def family_letter(self, device):
        return device.family or "-"

    @admin.display(description=_("state"))
    def state(self, device):
        """Credentials refused or locked first (nothing is tried then), else the last sync's error."""
        if device.auth_failed_at is not None:
            return _("credentials locked") if device.locked_until else _("credentials refused")
        if device.last_sync_error:
            return Truncator(device.last_sync_error).chars(40)
        return _("ok")

    def _sync(self, request, queryset, converge: bool, confirm_wipe: bool = False):
        cameras = list(Camera.objects.manageable_by(request.user).filter(anpr__in=queryset))
        try:
            with transaction.atomic():
                job = services.sync_cameras(
                    cameras=cameras,
                    converge=converge,
                    confirm_wipe=confirm_wipe,
                    user=request.user,
                    source=Source.ADMIN,
                )
        except OutOfScope as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        url = reverse("admin:plates_platejob_change", args=[job.pk])
        self.message_user(request, format_html(_('Job <a href="{}">#{}</a> queued.'), url, job.pk))

    @admin.action(description=_("Sync: read the cameras and report drift"))
    def sync_report(self, request, queryset):
        self._sync(request, queryset, converge=False)

    @admin.action(description=_("Converge: make the cameras match their lists"))
    def converge(self, request, queryset):
        self._sync(request, queryset, converge=True)

    @admin.action(description=_("Converge, confirming a wipe: may remove most of a camera's list"))
    def converge_confirm_wipe(self, request, queryset):
        self._sync(request, queryset, converge=True, confirm_wipe=True)

    @admin.action(description=_("Credentials fixed: allow trying the cameras again"))
    def clear_credential_failure(self, request, queryset):
        for device in queryset.manageable_by(request.user).select_related("camera"):
            services.clear_auth_failure(device.camera)

    @admin.action(description=_("Back up now"))
    def backup_now(self, request, queryset):
        for device in queryset.manageable_by(request.user).select_related("camera"):
            try:
                backups.backup_camera(device.camera, user=request.user, source=Source.ADMIN)
            except (isapi.ISAPIError, backups.BackupError) as exc:
                self.message_user(request, f"{device.camera.address}: {exc}", messages.ERROR)

    def get_urls(self):
        return [
            path(
                "<int:pk>/drift/",
                self.admin_site.admin_view(self.drift_action_view),
                name="plates_anprcamera_drift",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        device = self.get_object(request, object_id)
        if device is None:
            return super().change_view(request, object_id, form_url, extra_context)
        labels = drift_labels()
        desired = {
            line.plate.number: line.plate
            for line in CameraPlate.objects.filter(
                camera=device.camera,
                desired=True,
                plate__number__in=[
                    n for k in ("missing", "mismatched", "duplicates") for n in device.drift.get(k, [])[:DRIFT_SHOWN]
                ],
            ).select_related("plate")
        }
        tables = []
        for key, label in labels.items():
            numbers = device.drift.get(key, [])
            rows = [(n, desired.get(n)) for n in numbers[:DRIFT_SHOWN]]
            tables.append(
                {
                    "key": key,
                    "label": label,
                    "count": len(numbers),
                    "rows": rows,
                    "more": max(0, len(numbers) - DRIFT_SHOWN),
                }
            )
        context = {
            **(extra_context or {}),
            "drift_tables": tables,
            "drift_url": reverse("admin:plates_anprcamera_drift", args=[device.pk]),
            "may_act": Camera.objects.manageable_by(request.user).filter(pk=device.pk).exists(),
            "recent_jobs": list(
                PlateJob.objects.visible_to(request.user).filter(cameras__camera=device.camera).order_by("-id")[:5]
            ),
        }
        return super().change_view(request, object_id, form_url, context)

    def drift_action_view(self, request, pk: int):
        """Sync now, converge, take the unexpected plates into the list, or remove them: a job
        (`services.sync_cameras`, as the API's sync) and its page."""
        device = get_object_or_404(self.get_queryset(request), pk=pk)
        page = reverse("admin:plates_anprcamera_change", args=[pk])
        if request.method != "POST":
            return HttpResponseRedirect(page)
        if not Camera.objects.manageable_by(request.user).filter(pk=device.pk).exists():
            raise PermissionDenied
        options = DRIFT_ACTIONS.get(request.POST.get("do", ""))
        if options is None:
            self.message_user(request, _("Unknown drift action."), messages.ERROR)
            return HttpResponseRedirect(page)
        try:
            with transaction.atomic():
                job = services.sync_cameras(cameras=[device.camera], user=request.user, source=Source.ADMIN, **options)
        except OutOfScope as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(page)
        url = reverse("admin:plates_platejob_change", args=[job.pk])
        self.message_user(request, format_html(_('Job <a href="{}">#{}</a> queued.'), url, job.pk))
        return HttpResponseRedirect(url)
