from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin

from . import services
from .models import Camera, DiscoveredDevice, DiscoveredStream, DiscoveryJob


class CameraAdminForm(forms.ModelForm):
    """Credentials are write-only: the form never shows them; leaving a box empty keeps the value."""

    username = forms.CharField(label=_("username"), required=False, widget=forms.PasswordInput(render_value=False))
    password = forms.CharField(label=_("password"), required=False, widget=forms.PasswordInput(render_value=False))
    rtsp_url = forms.CharField(
        label=_("RTSP URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Optional; overrides the brand's template. Leave empty to keep the stored value."),
    )
    rtsp_substream_url = forms.CharField(
        label=_("RTSP sub-stream URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Optional; the lower-resolution stream. Leave empty to keep the stored value."),
    )
    clear_credentials = forms.BooleanField(label=_("Clear stored credentials and URL"), required=False)

    class Meta:
        model = Camera
        fields = ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]

    def save(self, commit=True):
        camera = super().save(commit=False)
        if self.cleaned_data.get("clear_credentials"):
            camera.username = camera.password = camera.rtsp_url = camera.rtsp_substream_url = ""
        for field in ("username", "password", "rtsp_url", "rtsp_substream_url"):
            if self.cleaned_data.get(field):
                setattr(camera, field, self.cleaned_data[field])
        if commit:
            camera.save()
        return camera


class CameraRemovalForm(forms.Form):
    """The explicit choice deleting cameras with recorded video needs (no default)."""

    RETIRE, DELETE_FOOTAGE = "retire", "delete_footage"
    choice = forms.ChoiceField(
        label=_("Recorded video"),
        widget=forms.RadioSelect,
        choices=[
            (
                RETIRE,
                _("Retire the cameras: stop streaming and recording, keep their video and plate reads until retention"),
            ),
            (DELETE_FOOTAGE, _("Delete the cameras with all their recorded video and plate reads now")),
        ],
    )


@admin.register(Camera)
class CameraAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    form = CameraAdminForm
    list_display = ["name", "ip", "http_port", "channel", "brand", "is_active", "retired_at", "last_seen"]
    list_filter = ["brand", "is_active", ("retired_at", admin.EmptyFieldListFilter)]
    actions = ["remove_selected"]
    search_fields = ["name", "ip"]
    readonly_fields = ["last_seen", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]}),
        (
            _("Credentials (write-only)"),
            {"fields": ["username", "password", "rtsp_url", "rtsp_substream_url", "clear_credentials"]},
        ),
        (_("Status"), {"fields": ["last_seen", "created_at", "updated_at"]}),
    ]

    # --- deleting: never takes recorded video away without an explicit choice (cameras.services.removal)
    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by remove_selected, which asks about the video
        return actions

    @admin.action(description=_("Delete selected cameras (asks about their video)"), permissions=["delete"])
    def remove_selected(self, request, queryset):
        return self.confirm_removal(request, list(queryset), is_action=True)

    def delete_view(self, request, object_id, extra_context=None):
        camera = self.get_object(request, unquote(object_id))
        if camera is None:
            raise Http404
        if not self.has_delete_permission(request, camera):
            raise PermissionDenied
        return self.confirm_removal(request, [camera], is_action=False)

    def confirm_removal(self, request, cameras: list[Camera], *, is_action: bool):
        """One page for the delete button and the bulk action: how much video goes, then a choice."""
        rows = [(camera, services.footage_summary(camera)) for camera in cameras]
        with_video = any(services.has_history(footage) for _camera, footage in rows)
        confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
        form = CameraRemovalForm(request.POST if confirmed else None)
        if confirmed and (not with_video or form.is_valid()):
            choice = form.cleaned_data["choice"] == CameraRemovalForm.DELETE_FOOTAGE if with_video else None
            outcomes = {services.DELETED: 0, services.RETIRED: 0}
            try:
                for camera in cameras:
                    outcomes[services.remove_camera(camera=camera, delete_footage=choice)] += 1
            except services.CameraHasFootage as exc:  # video arrived since the page was shown
                self.message_user(request, str(exc.detail), messages.ERROR)
            text = _(
                "Cameras deleted: %(deleted)d. Retired (their video is kept until its retention ends): %(retired)d."
            )
            self.message_user(request, text % outcomes, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:cameras_camera_changelist"))
        totals = {
            key: sum(f[key] for _c, f in rows) for key in ("segments", "hours", "bytes", "recordings", "plate_reads")
        }
        context = {
            **self.admin_site.each_context(request),
            "title": _("Delete cameras"),
            "opts": self.model._meta,
            "rows": rows,
            "totals": totals,
            "with_video": with_video,
            "form": form,
            "is_action": is_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cameras/camera/remove_confirmation.html", context)


# --------------------------------------------------------------------------------------- discovery
JOB_SECRET_FIELDS = ("username", "password", "cache_key")
DEVICE_SECRET_FIELDS = ("username", "password")


@admin.register(DiscoveryJob)
class DiscoveryJobAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """Read-only: jobs are started from the API or `manage.py discover`. Credentials are never shown."""

    list_display = ["id", "network_range", "status", "stage", "progress", "devices_found", "streams_ok",
                    "requested_by", "created_at", "finished_at"]  # fmt: skip
    list_filter = ["status"]
    exclude = list(JOB_SECRET_FIELDS)
    readonly_fields = [f.name for f in DiscoveryJob._meta.fields if f.name not in JOB_SECRET_FIELDS] + ["devices"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DiscoveredStreamInline(RestrictedInlineMixin, admin.TabularInline):
    model = DiscoveredStream
    fields = ["channel", "substream", "source", "redacted_url", "status", "failure", "detail", "camera"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("RTSP URL"))
    def redacted_url(self, obj):
        return obj.display_url

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DiscoveredDevice)
class DiscoveredDeviceAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    list_display = ["ip", "brand", "model", "serial", "mac", "channels", "login", "last_seen"]
    list_filter = ["brand", "login"]
    search_fields = ["ip", "model", "serial", "mac", "name"]
    exclude = list(DEVICE_SECRET_FIELDS)
    readonly_fields = [f.name for f in DiscoveredDevice._meta.fields if f.name not in DEVICE_SECRET_FIELDS]
    inlines = [DiscoveredStreamInline]
    actions = ["adopt_devices"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Adopt working streams as cameras"))
    def adopt_devices(self, request, queryset):
        try:
            cameras = services.adopt(device_ids=list(queryset.values_list("pk", flat=True)))
        except services.AdoptionError as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return
        text = ngettext("%(n)d camera created or updated.", "%(n)d cameras created or updated.", len(cameras))
        self.message_user(request, text % {"n": len(cameras)}, messages.SUCCESS)
