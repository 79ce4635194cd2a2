"""Admin for plates: filters (gate, list, validity, owner), the cameras holding each plate by name,
CSV export of the filtered set, push/remove actions (select-all across pages included), CSV import,
delete through removal jobs. Every role: viewers read, users act on their cameras' plates."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin
from lprnvr.visibility import OutOfScope

from .. import csvformat, services
from ..models import (
    CameraPlate,
    Plate,
    Source,
)
from ..services import backups
from .filters import CameraFilter, OwnerFilter, ValidityFilter
from .forms import CamerasForm, ImportForm

CAMERA_NAMES = 3  # names shown per plate in the list; the rest is "and N more"
MAX_ACTION_PLATES = 10_000  # one push/remove from the list: a bigger selection is narrowed first
PREVIEW_PLATES = 20  # plates named on the choose-cameras page


def held_lines(user):
    """The lines of the lists of cameras the user sees that hold a plate (not those to remove)."""
    return CameraPlate.objects.visible_to(user).filter(desired=True).select_related("camera")


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
    open_to_every_role = True
    list_display = [
        "number",
        "list_type",
        "valid_from",
        "valid_until",
        "owner",
        "held_by",
        "delete_requested",
        "updated_at",
    ]
    list_filter = [CameraFilter, "list_type", ValidityFilter, OwnerFilter, "delete_requested"]
    search_fields = ["number", "owner", "notes"]
    readonly_fields = ["delete_requested", "created_by", "created_at", "updated_at"]
    inlines = [CameraPlateInline]
    actions = ["push_to_cameras", "remove_from_cameras", "delete_selected"]
    change_list_template = "admin/plates/plate_change_list.html"
    delete_selected_confirmation_template = "admin/plates/delete_selected_confirmation.html"
    list_per_page = 50  # a few screens at 1440x900, whatever the list size

    def get_queryset(self, request):
        """Each plate with the first names of the cameras (that the user sees) holding it, and how many
        hold it: two queries for a page, whatever the number of cameras."""
        lines = held_lines(request.user)
        count = lines.filter(plate=OuterRef("pk")).order_by().values("plate").annotate(n=Count("pk")).values("n")
        first = lines.order_by("camera__name", "camera_id")[:CAMERA_NAMES]
        return (
            super()
            .get_queryset(request)
            .annotate(held_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)))
            .prefetch_related(Prefetch("assignments", queryset=first, to_attr="held_first"))
        )

    @admin.display(description=_("cameras"), ordering="held_count")
    def held_by(self, plate: Plate) -> str:
        names = ", ".join(line.camera.name or line.camera.address for line in plate.held_first)
        more = plate.held_count - len(plate.held_first)
        if more > 0:
            return ngettext("%(names)s and %(n)d more", "%(names)s and %(n)d more", more) % {"names": names, "n": more}
        return names or "-"

    def _camera_action(self, request, queryset, *, remove: bool):
        count = queryset.count()
        if count > MAX_ACTION_PLATES:
            self.message_user(
                request,
                _t("%(n)d plates selected: at most %(max)d at a time. Narrow the list with its filters.")
                % {"n": count, "max": MAX_ACTION_PLATES},
                messages.ERROR,
            )
            return None
        if "apply" in request.POST:
            form = CamerasForm(request.POST, user=request.user)
            if form.is_valid():
                numbers = list(queryset.values_list("number", flat=True))
                cameras = list(form.cleaned_data["cameras"])
                service = services.remove_plates if remove else services.push_plates
                try:
                    with transaction.atomic():
                        job = service(cameras=cameras, numbers=numbers, user=request.user, source=Source.ADMIN)
                except (OutOfScope, services.NotAnprCapable) as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return None
                url = reverse("admin:plates_platejob_change", args=[job.pk])
                self.message_user(request, format_html(_('Job <a href="{}">#{}</a> queued.'), url, job.pk))
                return HttpResponseRedirect(url)
        else:
            form = CamerasForm(user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Remove plates from cameras") if remove else _("Push plates to cameras"),
            "form": form,
            "count": count,
            "preview": list(queryset.order_by("number").values_list("number", flat=True)[:PREVIEW_PLATES]),
            "more": max(0, count - PREVIEW_PLATES),
            "action": request.POST.get("action"),
            "select_across": request.POST.get("select_across") == "1",
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
        """The confirmation page lists the plates only (the first hundred): their lines on the cameras'
        lists are not deleted here but taken off the cameras by the removal job."""
        count = objs.count() if hasattr(objs, "count") and not isinstance(objs, list) else len(objs)
        names = [str(plate) for plate in objs[:100]]
        if count > len(names):
            names.append(_t("and %(n)d more") % {"n": count - len(names)})
        perms_needed = set() if self.has_delete_permission(request) else {Plate._meta.verbose_name}
        return names, {Plate._meta.verbose_name_plural: count}, perms_needed, []

    @admin.action(description=_("Delete selected plates (off every camera that holds them)"), permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then our deletion: a removal job, and no "deleted" message
        for plates that stay until the cameras confirm."""
        if request.POST.get("post") and self.has_delete_permission(request):
            self.delete_queryset(request, queryset)
            return None
        response = django_delete_selected(self, request, queryset)
        if isinstance(response, TemplateResponse):
            # "Select all N" carries the filter and the flag on, not N hidden ids.
            response.context_data["select_across"] = request.POST.get("select_across") == "1"
            response.context_data["plate_count"] = queryset.count()
            response.context_data["selected"] = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        return response

    def delete_queryset(self, request, queryset):
        """Deleting (one plate or "Delete selected") takes the plates off every camera that holds them."""
        try:
            job = services.delete_plates(plates=list(queryset), user=request.user, source=Source.ADMIN)
        except OutOfScope as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
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
            path("export/", self.admin_site.admin_view(self.export_view), name="plates_plate_export"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The list as filtered and searched (every page), as CSV: plate, list, validity, owner,
        the cameras (that the user sees) holding it. Streamed: a big list is never held in memory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        plates = self.get_changelist_instance(request).queryset.prefetch_related(None)
        lines = held_lines(request.user).order_by("camera__name", "camera_id")
        plates = plates.prefetch_related(Prefetch("assignments", queryset=lines, to_attr="held_all"))
        rows = (
            (plate, [line.camera.name or line.camera.address for line in plate.held_all])
            for plate in plates.iterator(chunk_size=2000)
        )
        response = StreamingHttpResponse(csvformat.export_rows(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="plates.csv"'
        return response

    def import_view(self, request):
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES, user=request.user)
            if form.is_valid():
                data = form.cleaned_data["file"].read()
                try:
                    specs = csvformat.parse_device_csv(data, default_list_type=form.cleaned_data["list_type"])
                except (csvformat.CsvError, UnicodeDecodeError) as exc:
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
