"""Admin: plates with search and bulk actions (push to / remove from cameras, import CSV), jobs with
their per-camera results inline, drift per camera, and backups listed and downloadable."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin
from lprnvr.visibility import OutOfScope, is_admin

from . import backups, services
from .clients import isapi
from .models import (
    AnprCamera,
    CameraPlate,
    ListType,
    Plate,
    PlateBackup,
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
    Source,
)


class CameraChoiceForm(forms.Form):
    """A form whose camera choices are the cameras the signed-in user may manage, nothing more."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cameras"].queryset = Camera.objects.manageable_by(user).filter(is_active=True)


class CamerasForm(CameraChoiceForm):
    cameras = forms.ModelMultipleChoiceField(
        queryset=Camera.objects.none(), widget=forms.CheckboxSelectMultiple, label=_("Cameras")
    )


class ImportForm(CameraChoiceForm):
    file = forms.FileField(label=_("CSV file"), help_text=_("A camera's export, or our normalised CSV."))
    list_type = forms.ChoiceField(
        choices=ListType.choices,
        initial=ListType.ALLOW,
        label=_("List for plates new here"),
        help_text=_("Used when the file has no list column."),
    )
    cameras = forms.ModelMultipleChoiceField(
        queryset=Camera.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Push to cameras"),
    )
    replace = forms.BooleanField(
        required=False,
        label=_("Replace these cameras' lists"),
        help_text=_("Plates not in the file are taken off the chosen cameras (a removal job)."),
    )
    confirm_wipe = forms.BooleanField(
        required=False,
        label=_("Confirm a wipe"),
        help_text=_("Needed when replacing would take more than half of a camera's list (over 10 plates) off it."),
    )


def job_links(jobs) -> str:
    return format_html_join(
        ", ", '<a href="{}">#{}</a>', ((reverse("admin:plates_platejob_change", args=[j.pk]), j.pk) for j in jobs)
    )


class CameraPlateInline(RestrictedInlineMixin, admin.TabularInline):
    """Read only: a camera's list changes through the push/remove actions (which send the job);
    editing the row here would change what a camera should hold without telling it."""

    model = CameraPlate
    extra = 0
    can_delete = False
    fields = ["camera", "desired", "updated_at"]
    readonly_fields = fields
    verbose_name_plural = _("On the lists of")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plate)
class PlateAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "list_type",
        "valid_from",
        "valid_until",
        "owner",
        "camera_count",
        "delete_requested",
        "updated_at",
    ]
    list_filter = ["list_type", "delete_requested"]
    search_fields = ["number", "owner", "notes"]
    readonly_fields = ["delete_requested", "created_by", "created_at", "updated_at"]
    inlines = [CameraPlateInline]
    actions = ["push_to_cameras", "remove_from_cameras"]
    change_list_template = "admin/plates/plate_change_list.html"

    @admin.display(description=_("cameras"))
    def camera_count(self, plate: Plate) -> int:
        return plate.assignments.filter(desired=True).count()

    def _camera_action(self, request, queryset, *, remove: bool):
        if "apply" in request.POST:
            form = CamerasForm(request.POST, user=request.user)
            if form.is_valid():
                numbers = list(queryset.values_list("number", flat=True))
                cameras = list(form.cleaned_data["cameras"])
                service = services.remove_plates if remove else services.push_plates
                with transaction.atomic():
                    job = service(cameras=cameras, numbers=numbers, user=request.user, source=Source.ADMIN)
                url = reverse("admin:plates_platejob_change", args=[job.pk])
                self.message_user(request, format_html(_('Job <a href="{}">#{}</a> queued.'), url, job.pk))
                return None
        else:
            form = CamerasForm(user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Remove plates from cameras") if remove else _("Push plates to cameras"),
            "form": form,
            "plates": queryset,
            "action": request.POST.get("action"),
            "opts": self.model._meta,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/plates/choose_cameras.html", context)

    def get_readonly_fields(self, request, obj=None):
        # A plate's number changes by a rename job (API or /UpdatePlate), never by editing the row.
        return [*self.readonly_fields, "number"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """A changed plate goes to every camera holding it (as PATCH does), refused for cameras out of reach."""
        if not change:
            obj.created_by = request.user
            return super().save_model(request, obj, form, change)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.PLATE_FIELDS}
        job = services.update_plate(plate=obj, changes=changes, user=request.user, source=Source.ADMIN)
        if job is not None:
            url = reverse("admin:plates_platejob_change", args=[job.pk])
            self.message_user(request, format_html(_('Job <a href="{}">#{}</a> queued.'), url, job.pk))
        return None

    def delete_model(self, request, obj):
        self.delete_queryset(request, Plate.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """Deleting (one plate or "Delete selected") takes the plates off every camera that holds them."""
        job = services.delete_plates(plates=list(queryset), user=request.user, source=Source.ADMIN)
        if job is not None:
            url = reverse("admin:plates_platejob_change", args=[job.pk])
            self.message_user(
                request,
                format_html(
                    _('Removal job <a href="{}">#{}</a> queued: the plates go from {} camera(s), then from here.'),
                    url,
                    job.pk,
                    job.cameras.count(),
                ),
                messages.WARNING,
            )

    @admin.action(description=_("Push selected plates to cameras"))
    def push_to_cameras(self, request, queryset):
        return self._camera_action(request, queryset, remove=False)

    @admin.action(description=_("Remove selected plates from cameras"))
    def remove_from_cameras(self, request, queryset):
        return self._camera_action(request, queryset, remove=True)

    def get_urls(self):
        return [
            path("import/", self.admin_only_view(self.import_view), name="plates_plate_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES, user=request.user)
            if form.is_valid():
                data = form.cleaned_data["file"].read()
                try:
                    specs = backups.parse_device_csv(data, default_list_type=form.cleaned_data["list_type"])
                except (backups.BackupError, UnicodeDecodeError) as exc:
                    form.add_error("file", str(exc))
                else:
                    return self._import(request, form, specs)
        else:
            form = ImportForm(user=request.user)
        return self._import_page(request, form)

    def _import_page(self, request, form):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import plates from CSV"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/plates/import.html", context)

    def _import(self, request, form, specs):
        try:
            result = backups.import_plates(
                specs=specs,
                cameras=list(form.cleaned_data["cameras"]),
                replace=form.cleaned_data["replace"],
                confirm_wipe=form.cleaned_data["confirm_wipe"],
                user=request.user,
                source=Source.ADMIN,
            )
        except services.WipeGuard as exc:
            form.add_error("confirm_wipe", str(exc))
            return self._import_page(request, form)
        n = len(result.imported)
        text = ngettext("%(n)d plate imported.", "%(n)d plates imported.", n) % {"n": n}
        if result.jobs:
            text = format_html("{} {} {}", text, _("Jobs queued:"), job_links(result.jobs))
        self.message_user(request, text)
        if result.skipped:
            self.message_user(
                request, _("Skipped, not plates: %(bad)s") % {"bad": ", ".join(result.skipped)}, messages.WARNING
            )
        return HttpResponseRedirect(reverse("admin:plates_plate_changelist"))


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


@admin.register(AnprCamera)
class AnprCameraAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = [
        "camera",
        "family",
        "last_synced_at",
        "plate_count",
        "missing",
        "unexpected",
        "to_remove",
        "duplicates",
        "auth_state",
        "last_sync_error",
    ]
    list_filter = ["family", "remove_unexpected"]
    search_fields = ["camera__name", "camera__ip"]
    fields = [
        "camera",
        "family",
        "family_detected_at",
        "remove_unexpected",
        "last_synced_at",
        "last_sync_error",
        "plate_count",
        "drift",
        "auth_failed_at",
        "auth_error",
        "locked_until",
    ]
    readonly_fields = [f for f in fields if f != "remove_unexpected"]
    actions = ["sync_report", "converge", "converge_confirm_wipe", "clear_credential_failure", "backup_now"]

    def has_add_permission(self, request):
        return False

    def _count(self, device, key):
        return len(device.drift.get(key, []))

    @admin.display(description=_("missing"))
    def missing(self, device):
        return self._count(device, "missing")

    @admin.display(description=_("unexpected"))
    def unexpected(self, device):
        return self._count(device, "unexpected")

    @admin.display(description=_("to remove"))
    def to_remove(self, device):
        return self._count(device, "to_remove")

    @admin.display(description=_("duplicates"))
    def duplicates(self, device):
        return self._count(device, "duplicates")

    @admin.display(description=_("credentials"))
    def auth_state(self, device):
        if device.auth_failed_at is None:
            return _("ok")
        return _("locked") if device.locked_until else _("refused")

    def _sync(self, request, queryset, converge: bool, confirm_wipe: bool = False):
        cameras = list(Camera.objects.manageable_by(request.user).filter(anpr__in=queryset))
        with transaction.atomic():
            job = services.sync_cameras(
                cameras=cameras, converge=converge, confirm_wipe=confirm_wipe, user=request.user, source=Source.ADMIN
            )
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
