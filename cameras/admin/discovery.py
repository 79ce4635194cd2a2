"""Discovery in the admin: jobs and what they found, read-only (credentials never shown); adoption."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin

from .. import services
from ..models import DiscoveredDevice, DiscoveredStream, DiscoveryJob

JOB_SECRET_FIELDS = ("username", "password", "cache_key")
DEVICE_SECRET_FIELDS = ("username", "password")
DEVICE_LIST_FIELDS = ("open_ports", "identified_by")


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
    exclude = [*DEVICE_SECRET_FIELDS, *DEVICE_LIST_FIELDS]
    # What discovery found, in words: the JSON fields as lists, never raw.
    readonly_fields = [
        f.name if f.name not in DEVICE_LIST_FIELDS else f"{f.name}_text"
        for f in DiscoveredDevice._meta.fields
        if f.name not in DEVICE_SECRET_FIELDS
    ]
    inlines = [DiscoveredStreamInline]
    actions = ["adopt_devices"]

    @admin.display(description=_("open ports"))
    def open_ports_text(self, obj):
        return ", ".join(str(p) for p in obj.open_ports or []) or self.get_empty_value_display()

    @admin.display(description=_("identified by"))
    def identified_by_text(self, obj):
        return ", ".join(str(p) for p in obj.identified_by or []) or self.get_empty_value_display()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what discovery found, as it found it: read-only (adopt turns it into cameras)

    @admin.action(description=_("Adopt working streams as cameras"))
    def adopt_devices(self, request, queryset):
        try:
            cameras = services.adopt(device_ids=list(queryset.values_list("pk", flat=True)))
        except services.AdoptionError as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return
        text = ngettext("%(n)d camera created or updated.", "%(n)d cameras created or updated.", len(cameras))
        self.message_user(request, text % {"n": len(cameras)}, messages.SUCCESS)
