"""Admin for plate jobs: a job's page is a summary (per camera, how many plates in each status), its
parameters in words, and its per-plate rows paginated and filterable, failed first. However many
plates a job has, the page is a few screens tall and a fixed number of queries."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin
from lprnvr.visibility import is_admin

from ..models import PlateJob, PlateJobCamera, PlateJobItem, Status
from .words import describe_params

ITEMS_PER_PAGE = 50
ITEM_STATUSES = [Status.FAILED, Status.RETRYING, Status.RUNNING, Status.PENDING, Status.SUCCEEDED]
# Failed first, then what is still to happen, then what succeeded.
FAILED_FIRST = Case(
    *[When(status=status, then=Value(i)) for i, status in enumerate(ITEM_STATUSES)],
    default=Value(len(ITEM_STATUSES)),
    output_field=IntegerField(),
)


def job_summary(job: PlateJob, user) -> list[dict]:
    """Per camera of the job that the user sees: its row and how many plates are in each status."""
    rows = list(job.cameras.visible_to(user).select_related("camera").order_by("id"))
    counts: dict[int, dict[str, int]] = {row.pk: {} for row in rows}
    tally = (
        PlateJobItem.objects.filter(job_camera__in=[r.pk for r in rows])
        .order_by()
        .values("job_camera_id", "status")
        .annotate(n=Count("id"))
    )
    for entry in tally:
        counts[entry["job_camera_id"]][entry["status"]] = entry["n"]
    return [
        {
            "row": row,
            "name": row.camera.name if row.camera else "",
            "counts": [(str(status), counts[row.pk].get(status, 0)) for status in ITEM_STATUSES],
            "total": sum(counts[row.pk].values()),
        }
        for row in rows
    ]


def job_items(job: PlateJob, user, params) -> tuple[Paginator, dict]:
    """The job's per-plate rows the user sees, filtered by `status`, `camera` (a job camera's id)
    and `plate` (contains), failed first; and the filters as read."""
    items = PlateJobItem.objects.visible_to(user).filter(job_camera__job=job).select_related("job_camera")
    filters = {"status": "", "camera": "", "plate": ""}
    status = params.get("status", "")
    if status in Status.values:
        items, filters["status"] = items.filter(status=status), status
    camera = params.get("camera", "")
    if camera.isdigit() and len(camera) < 19:
        items, filters["camera"] = items.filter(job_camera_id=int(camera)), camera
    plate = params.get("plate", "").strip().upper()[:16]
    if plate:
        items, filters["plate"] = items.filter(plate__contains=plate), plate
    items = items.annotate(rank=FAILED_FIRST).order_by("rank", "job_camera_id", "id")
    return Paginator(items, ITEMS_PER_PAGE), filters


@admin.register(PlateJob)
class PlateJobAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    open_to_every_role = True
    list_display = ["__str__", "operation", "source", "status", "requested_by", "created_at", "finished_at"]
    list_display_links = ["__str__"]
    list_filter = ["status", "operation", "source"]
    search_fields = ["cameras__camera_address", "cameras__items__plate"]
    readonly_fields = [
        "operation",
        "source",
        "status",
        "requester",
        "parameters",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields
    change_form_template = "admin/plates/platejob_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_delete_permission(request, obj)  # the audit trail

    @admin.display(description=_("requested by"))
    def requester(self, job: PlateJob) -> str:
        # A name, not a link: the account pages are administrators' only.
        return job.requested_by.get_username() if job.requested_by else _("the system")

    @admin.display(description=_("parameters"))
    def parameters(self, job: PlateJob) -> str:
        return describe_params(job)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is None:
            return super().change_view(request, object_id, form_url, extra_context)
        paginator, filters = job_items(job, request.user, request.GET)
        page = paginator.get_page(request.GET.get("page"))
        summary = job_summary(job, request.user)
        context = {
            **(extra_context or {}),
            "summary": summary,
            "statuses": [(status, Status(status).label) for status in ITEM_STATUSES],
            "items_page": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "item_filters": filters,
            "ellipsis": Paginator.ELLIPSIS,
        }
        return super().change_view(request, object_id, form_url, context)


@admin.register(PlateJobCamera)
class PlateJobCameraAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """A job's camera: its page is the job's, filtered to that camera (the plates of one camera can
    be thousands; the job page pages them)."""

    list_display = ["job", "camera_address", "status", "attempts", "last_error", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in PlateJobCamera._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return False  # reached from a job's page (the index does not list it)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        row = self.get_object(request, object_id) if self.has_view_permission(request) else None
        if row is None:
            return super().change_view(request, object_id, form_url, extra_context)
        url = reverse("admin:plates_platejob_change", args=[row.job_id])
        return HttpResponseRedirect(f"{url}?camera={row.pk}")
