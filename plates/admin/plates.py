"""Admin for plates: search, push/remove actions, CSV import, delete through removal jobs."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cameras.models import Camera
from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin

from .. import backups, services
from ..models import (
    CameraPlate,
    ListType,
    Plate,
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
    actions = ["push_to_cameras", "remove_from_cameras", "delete_selected"]
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

    def response_delete(self, request, obj_display, obj_id):
        # A plate some camera still holds stays (marked "being deleted") until the cameras confirm:
        # the removal job's message says so, and Django's "deleted successfully" would be untrue.
        if Plate.objects.filter(pk=obj_id).exists():
            return HttpResponseRedirect(reverse("admin:plates_plate_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    def get_deleted_objects(self, objs, request):
        """The confirmation page lists the plates only: their lines on the cameras' lists are not
        deleted here but taken off the cameras by the removal job."""
        _deleted, _counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        plates = list(objs)
        return [str(plate) for plate in plates], {Plate._meta.verbose_name_plural: len(plates)}, perms_needed, protected

    @admin.action(description=_("Delete selected plates (off every camera that holds them)"), permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then our deletion: a removal job, and no "deleted" message
        for plates that stay until the cameras confirm."""
        if request.POST.get("post") and self.has_delete_permission(request):
            self.delete_queryset(request, queryset)
            return None
        return django_delete_selected(self, request, queryset)

    def delete_queryset(self, request, queryset):
        """Deleting (one plate or "Delete selected") takes the plates off every camera that holds them."""
        job = services.delete_plates(plates=list(queryset), user=request.user, source=Source.ADMIN)
        if job is not None:
            url = reverse("admin:plates_platejob_change", args=[job.pk])
            count = job.cameras.count()
            text = ngettext(
                'Removal job <a href="{}">#{}</a> queued: the plates are removed from {} camera, then from here.',
                'Removal job <a href="{}">#{}</a> queued: the plates are removed from {} cameras, then from here.',
                count,
            )
            self.message_user(request, format_html(text, url, job.pk, count), messages.WARNING)

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
