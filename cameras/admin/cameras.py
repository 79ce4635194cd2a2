"""Cameras in the admin: the list and page with their video's state, the 24/7 switch, the camera asked
now (snapshot, connection test), and removal that asks about recorded video."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin
from recordings import services as media_services
from recordings import status as media_status
from recordings.models import MediaChannel

from .. import services
from ..models import Camera
from ..services import connection

MEDIA_FIELDS = ("continuous", "retention_days")
CREDENTIAL_FIELDS = ("username", "password", "rtsp_url", "rtsp_substream_url")
MEDIA_FIELDS_DEFAULT_RETENTION = MediaChannel._meta.get_field("retention_days").default


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
    # The camera's media settings (recordings.MediaChannel), edited here rather than on the internal table.
    continuous = forms.BooleanField(
        label=_("Record 24/7"), required=False, help_text=_("Keep all video, not only the recordings asked for.")
    )
    retention_days = forms.IntegerField(
        label=_("Retention (days)"),
        min_value=1,
        max_value=3650,
        initial=MEDIA_FIELDS_DEFAULT_RETENTION,
        help_text=_("How long 24/7 video is kept."),
    )

    class Meta:
        model = Camera
        fields = ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin builds this form from its fieldsets, which name the credential fields: Django would
        # copy an empty box onto the row. The stored values are set aside here and kept in save().
        self._stored = {field: getattr(self.instance, field) for field in CREDENTIAL_FIELDS}
        channel = media_status.channel_of(self.instance) if self.instance.pk else None
        if channel is not None:
            self.initial.setdefault("continuous", channel.continuous)
            self.initial.setdefault("retention_days", channel.retention_days)

    def camera_changed(self) -> bool:
        """Whether the camera row itself changes (an empty credential box keeps the stored value)."""
        for name in self.changed_data:
            if name in MEDIA_FIELDS or (name in CREDENTIAL_FIELDS and not self.cleaned_data.get(name)):
                continue
            return True
        return False

    def save(self, commit=True):
        camera = super().save(commit=False)
        for field in CREDENTIAL_FIELDS:
            if self.cleaned_data.get(field):
                setattr(camera, field, self.cleaned_data[field])
            elif self.cleaned_data.get("clear_credentials"):
                setattr(camera, field, "")
            else:
                setattr(camera, field, self._stored[field])  # an empty box keeps what is stored
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
    change_form_template = "admin/cameras/camera/change_form.html"
    list_display = ["name", "address", "brand", "is_active", "stream_state", "recording", "last_video",
                    "last_error", "credentials_stored"]  # fmt: skip
    list_filter = ["brand", "is_active", "media__state", "media__continuous",
                   ("retired_at", admin.EmptyFieldListFilter)]  # fmt: skip
    actions = ["remove_selected"]
    search_fields = ["name", "ip"]
    readonly_fields = ["stream_state", "recording", "last_video", "last_error", "credentials_stored", "retired_at",
                       "created_at", "updated_at"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]}),
        (_("Recording"), {"fields": list(MEDIA_FIELDS)}),
        (
            _("Credentials (write-only)"),
            {
                "fields": [
                    "credentials_stored",
                    "username",
                    "password",
                    "rtsp_url",
                    "rtsp_substream_url",
                    "clear_credentials",
                ]
            },
        ),
        (
            _("Status"),
            {
                "fields": [
                    "stream_state",
                    "recording",
                    "last_video",
                    "last_error",
                    "retired_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return media_status.with_media_status(super().get_queryset(request))

    # --- what the camera's video is doing (recordings.status), never a credential
    @admin.display(description=_("stream"), ordering="media__state")
    def stream_state(self, obj):
        state = media_status.state_of(obj)
        label = media_status.STATE_LABELS[state]
        return format_html('<span class="camera-state camera-state-{}">{}</span>', state, label)

    @admin.display(description=_("recording"), boolean=True)
    def recording(self, obj):
        return media_status.is_recording(obj)

    @admin.display(description=_("last video"))
    def last_video(self, obj):
        return media_status.last_frame(obj) or self.get_empty_value_display()

    @admin.display(description=_("last error"))
    def last_error(self, obj):
        return media_status.camera_media(obj).error or self.get_empty_value_display()

    @admin.display(description=_("credentials stored"), boolean=True)
    def credentials_stored(self, obj):
        return bool(obj.username or obj.password or obj.rtsp_url or obj.rtsp_substream_url)

    def save_model(self, request, obj, form, change):
        # Saving the camera row restarts its stream (the supervisor sees updated_at change): only when a
        # camera field changed, never for the 24/7 switch alone.
        if not change or form.camera_changed():
            super().save_model(request, obj, form, change)
        if not change or set(form.changed_data) & set(MEDIA_FIELDS):
            media_services.set_continuous(
                camera=obj,
                continuous=form.cleaned_data["continuous"],
                retention_days=form.cleaned_data["retention_days"],
            )

    # --- asking the camera now: snapshot and connection test (admins; one device request per press)
    def get_urls(self):
        own = [
            path(
                "<path:object_id>/snapshot/", self.admin_only_view(self.snapshot_view), name="cameras_camera_snapshot"
            ),
            path(
                "<path:object_id>/test-connection/",
                self.admin_only_view(self.test_connection_view),
                name="cameras_camera_test_connection",
            ),
        ]
        return own + super().get_urls()

    def _camera_or_404(self, request, object_id) -> Camera:
        camera = self.get_object(request, unquote(object_id))
        if camera is None:
            raise Http404
        return camera

    def snapshot_view(self, request, object_id):
        """A JPEG of what the camera sees now; a failure is a short page saying why (the page shows it)."""
        camera = self._camera_or_404(request, object_id)
        try:
            jpeg = connection.take_snapshot(camera=camera)
        except connection.SnapshotFailed as exc:
            context = {**self.admin_site.each_context(request), "title": _("Snapshot"), "camera": camera,
                       "message": str(exc), "opts": self.model._meta,
                       "fragment": request.headers.get("X-Requested-With") == "fetch"}  # fmt: skip
            return TemplateResponse(request, "admin/cameras/camera/device_error.html", context, status=502)
        response = HttpResponse(jpeg, content_type="image/jpeg")
        response["Cache-Control"] = "no-store"
        return response

    def test_connection_view(self, request, object_id):
        """RTSP (and ISAPI for Hikvision) tested now; the page's script shows the fragment in place."""
        camera = self._camera_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cameras_camera_change", args=[camera.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test connection"),
            "camera": camera,
            "report": connection.test_connection(camera=camera),
            "opts": self.model._meta,
            "fragment": request.headers.get("X-Requested-With") == "fetch",
        }
        return TemplateResponse(request, "admin/cameras/camera/test_connection.html", context)

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
