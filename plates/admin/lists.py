"""Admin for sites, gates (with their lanes) and named plate lists (with their plates and where they
are assigned). A saved change re-derives the cameras it reaches and links the one job that converges
them (`services.derivation`); a change over a camera's capacity is refused with the reason."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera, Direction, Gate, Site
from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin
from lprnvr.errors import InputRefused
from lprnvr.visibility import OutOfScope

from ..models import ListAssignment, ListEntry, PlateList, Source, VisitorPass, clean_plate
from ..services import derivation, lists, passes
from .plates import job_links


class RefusalsAsMessages:
    """A change a service refuses (over capacity, out of scope) is a message on the page, and
    nothing of it is kept (the admin's own transaction rolls back)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (InputRefused, OutOfScope) as exc:
            reasons = getattr(exc, "reasons", None) or [str(exc)]
            for reason in reasons:
                self.message_user(request, reason, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def announce(self, request, job) -> None:
        if job is not None:
            self.message_user(request, format_html(_t("Cameras being updated: job {}."), job_links([job])))


class GateInline(admin.TabularInline):
    model = Gate
    extra = 0
    fields = ["name"]


@admin.register(Site)
class SiteAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    inlines = [GateInline]


class GateForm(forms.ModelForm):
    """The gate's lanes by direction: a camera chosen here becomes a lane of this gate."""

    entry_lanes = forms.ModelMultipleChoiceField(Camera.objects.none(), required=False, label=_("Entry lanes"))
    exit_lanes = forms.ModelMultipleChoiceField(Camera.objects.none(), required=False, label=_("Exit lanes"))
    both_lanes = forms.ModelMultipleChoiceField(Camera.objects.none(), required=False, label=_("Lanes both ways"))

    class Meta:
        model = Gate
        fields = ["site", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cameras = Camera.objects.in_service().order_by("name")
        for name, direction in (("entry_lanes", "entry"), ("exit_lanes", "exit"), ("both_lanes", "both")):
            self.fields[name].queryset = cameras
            if self.instance.pk:
                self.initial[name] = list(cameras.filter(gate=self.instance, direction=direction))

    def clean(self):
        data = super().clean()
        chosen = [c.pk for k in ("entry_lanes", "exit_lanes", "both_lanes") for c in data.get(k) or []]
        if len(chosen) != len(set(chosen)):
            self.add_error("both_lanes", _("A camera is one lane: choose one direction for it."))
        return data


@admin.register(Gate)
class GateAdmin(RefusalsAsMessages, RestrictedAdminMixin, admin.ModelAdmin):
    form = GateForm
    list_display = ["name", "site"]
    list_filter = ["site"]
    search_fields = ["name", "site__name"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        lanes = {
            c.pk: direction
            for key, direction in (
                ("entry_lanes", Direction.ENTRY),
                ("exit_lanes", Direction.EXIT),
                ("both_lanes", Direction.BOTH),
            )
            for c in form.cleaned_data.get(key) or []
        }
        self.announce(
            request, lists.set_gate_lanes(gate=form.instance, lanes=lanes, user=request.user, source=Source.ADMIN)
        )


class ListEntryInline(RestrictedInlineMixin, admin.TabularInline):
    model = ListEntry
    extra = 1
    raw_id_fields = ["plate"]
    fields = ["plate", "owner", "valid_from", "valid_until", "notes"]


class ListAssignmentInline(RestrictedInlineMixin, admin.TabularInline):
    model = ListAssignment
    extra = 1
    fields = ["gate", "camera"]
    verbose_name_plural = _("Assigned to (a gate: every lane of it)")


@admin.register(PlateList)
class PlateListAdmin(RefusalsAsMessages, RestrictedAdminMixin, admin.ModelAdmin):
    open_to_every_role = True
    list_display = ["name", "kind", "created_by", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "notes"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [ListEntryInline, ListAssignmentInline]
    MAX_INLINE_ENTRIES = 500  # a bigger list is edited by import/export (`/api/plates/lists/<id>/import/`)

    def get_inlines(self, request, obj):
        if obj is not None and obj.entries.count() > self.MAX_INLINE_ENTRIES:
            return [ListAssignmentInline]
        return self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            lists.ensure_may_change(user=request.user, plate_list=obj)
        # The cameras it reached before the change lose what only it gave them.
        request._list_reached = derivation.cameras_reached_by([obj.pk]) if obj.pk else []
        if not obj.pk:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        gates = [a.gate for a in obj.assignments.exclude(gate=None).select_related("gate")]
        cameras = [a.camera for a in obj.assignments.exclude(camera=None).select_related("camera")]
        lists.ensure_may_change(user=request.user, gates=gates, cameras=cameras)
        reached = {*request._list_reached, *derivation.cameras_reached_by([obj.pk])}
        self.announce(
            request, derivation.apply_to_cameras(camera_ids=sorted(reached), user=request.user, source=Source.ADMIN)
        )

    def delete_model(self, request, obj):
        self.announce(request, lists.delete_list(plate_list=obj, user=request.user, source=Source.ADMIN))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for plate_list in queryset:
                self.delete_model(request, plate_list)


class VisitorPassForm(forms.ModelForm):
    """The short form: a plate, the gates, and for how many hours (or until when), from now."""

    number = forms.CharField(label=_("Plate"), max_length=40)
    hours = forms.FloatField(label=_("For (hours)"), required=False, min_value=0.01, max_value=744)
    until = forms.DateTimeField(label=_("Or until"), required=False)

    class Meta:
        model = VisitorPass
        fields = ["gates", "visitor", "notes"]

    def clean(self):
        data = super().clean()
        if (data.get("hours") is None) == (data.get("until") is None):
            self.add_error("hours", _("Give either the hours or the end."))
        try:
            data["number"] = clean_plate(data.get("number") or "")
        except ValueError as exc:
            self.add_error("number", str(exc))
        return data


@admin.register(VisitorPass)
class VisitorPassAdmin(RefusalsAsMessages, RestrictedAdminMixin, admin.ModelAdmin):
    open_to_every_role = True
    form = VisitorPassForm
    list_display = ["plate", "visitor", "gate_names", "starts_at", "ends_at", "created_by", "ended_at"]
    list_filter = ["gates"]
    search_fields = ["plate__number", "visitor", "notes"]
    actions = ["end_now"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["number", "gates", "hours", "until", "visitor", "notes"]
        return ["plate", "gates", "visitor", "notes", "starts_at", "ends_at", "ended_at", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    @admin.display(description=_("gates"))
    def gate_names(self, obj) -> str:
        return ", ".join(g.name for g in obj.gates.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plate", "created_by").prefetch_related("gates")

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        visitor_pass, job = passes.create_pass(
            number=data["number"],
            gates=list(data["gates"]),
            hours=data.get("hours"),
            ends_at=data.get("until"),
            visitor=data.get("visitor", ""),
            notes=data.get("notes", ""),
            user=request.user,
            source=Source.ADMIN,
        )
        # The admin logs and redirects with the object it passed in: make it the pass just made.
        obj.__dict__.update({k: v for k, v in visitor_pass.__dict__.items() if not k.startswith("_")})
        self.announce(request, job)

    def save_related(self, request, form, formsets, change):
        pass  # the gates were set by the service

    @admin.action(description=_("End the selected passes now"))
    def end_now(self, request, queryset):
        for visitor_pass in queryset:
            self.announce(request, passes.end_pass(visitor_pass=visitor_pass, user=request.user, source=Source.ADMIN))
