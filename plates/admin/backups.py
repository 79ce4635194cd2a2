"""Admin for plate backups: listed, downloadable (the device's CSV or our normalised copy), restorable."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin
from lprnvr.visibility import OutOfScope, is_admin

from ..models import PlateBackup, Source
from ..services import backups
from .plates import job_links


@admin.register(PlateBackup)
class PlateBackupAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["camera_address", "created_at", "source", "plate_count", "size", "downloads"]
    list_filter = ["source"]
    search_fields = ["camera_address"]
    readonly_fields = [f.name for f in PlateBackup._meta.fields]

    actions = ["restore", "restore_replace_all", "restore_replace_all_confirm_wipe"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def _restore(self, request, queryset, *, replace_all: bool, confirm_wipe: bool = False):
        jobs = []
        for backup in queryset.manageable_by(request.user).select_related("camera"):
            if backup.camera is None:
                self.message_user(
                    request, _("%(b)s: its camera is gone; restore it from the API.") % {"b": backup}, messages.ERROR
                )
                continue
            try:
                with transaction.atomic():
                    jobs.append(
                        backups.restore_backup(
                            specs=backups.specs_from_file(backups.backup_path(backup)),
                            cameras=[backup.camera],
                            replace_all=replace_all,
                            confirm_wipe=confirm_wipe,
                            backup=backup,
                            user=request.user,
                            source=Source.ADMIN,
                        )
                    )
            except (backups.BackupError, OSError, OutOfScope) as exc:
                self.message_user(request, f"{backup}: {exc}", messages.ERROR)
        if jobs:
            self.message_user(request, format_html("{} {}", _("Jobs queued:"), job_links(jobs)))

    @admin.action(description=_("Restore to its camera (adds and corrects, deletes nothing)"))
    def restore(self, request, queryset):
        self._restore(request, queryset, replace_all=False)

    @admin.action(description=_("Restore to its camera, replacing its list (stops before a wipe)"))
    def restore_replace_all(self, request, queryset):
        self._restore(request, queryset, replace_all=True)

    @admin.action(description=_("Restore to its camera, replacing its list, confirming a wipe"))
    def restore_replace_all_confirm_wipe(self, request, queryset):
        self._restore(request, queryset, replace_all=True, confirm_wipe=True)

    @admin.display(description=_("download"))
    def downloads(self, backup: PlateBackup):
        raw = reverse("admin:plates_platebackup_download", args=[backup.pk])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?normalized=1">{}</a>', raw, _("device CSV"), raw, _("normalised")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="plates_platebackup_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk: int):
        # Another camera's backup is the same 404 as one that does not exist; a visible one is
        # still for administrators only (as every admin page but the Live view and the Player).
        backup = get_object_or_404(PlateBackup.objects.visible_to(request.user), pk=pk)
        if not is_admin(request.user):
            raise PermissionDenied
        file = backups.backup_path(backup, normalized=request.GET.get("normalized") == "1")
        if not file.is_file():
            raise Http404(_("The backup file is missing."))
        return FileResponse(file.open("rb"), as_attachment=True, filename=file.name, content_type="text/csv")
