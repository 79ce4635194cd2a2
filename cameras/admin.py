from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Camera


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
    clear_credentials = forms.BooleanField(label=_("Clear stored credentials and URL"), required=False)

    class Meta:
        model = Camera
        fields = ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]

    def save(self, commit=True):
        camera = super().save(commit=False)
        if self.cleaned_data.get("clear_credentials"):
            camera.username = camera.password = camera.rtsp_url = ""
        for field in ("username", "password", "rtsp_url"):
            if self.cleaned_data.get(field):
                setattr(camera, field, self.cleaned_data[field])
        if commit:
            camera.save()
        return camera


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraAdminForm
    list_display = ["name", "ip", "http_port", "channel", "brand", "is_active", "last_seen"]
    list_filter = ["brand", "is_active"]
    search_fields = ["name", "ip"]
    readonly_fields = ["last_seen", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "ip", "http_port", "rtsp_port", "brand", "channel", "is_active"]}),
        (_("Credentials (write-only)"), {"fields": ["username", "password", "rtsp_url", "clear_credentials"]}),
        (_("Status"), {"fields": ["last_seen", "created_at", "updated_at"]}),
    ]
