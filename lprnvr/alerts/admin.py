"""Admin for alerts: targets (secrets write-only) and rules are edited here; events and deliveries
are history (read-only), with an action to send failed deliveries again."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lprnvr.admin import RestrictedAdminMixin, RestrictedInlineMixin

from . import delivery as delivery_service
from .models import Delivery, Event, EventKind, Rule, Target

DAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class TargetAdminForm(forms.ModelForm):
    """Secrets are write-only: never shown; an empty box keeps the stored value."""

    url = forms.URLField(label=_("URL"), required=False, max_length=2000, assume_scheme="https")
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Webhooks: the HMAC-SHA256 key. Leave empty to keep the stored value."),
    )
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("MQTT: the broker password. Leave empty to keep the stored value."),
    )
    clear_secrets = forms.BooleanField(label=_("Clear the stored secret and password"), required=False)

    class Meta:
        model = Target
        fields = [
            "name",
            "kind",
            "enabled",
            "timeout_seconds",
            "url",
            "host",
            "port",
            "use_tls",
            "username",
            "topic_prefix",
            "retain_status",
            "last_will",
            "ha_discovery",
            "ha_prefix",
            "recipients",
        ]

    SECRETS = ("secret", "password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin builds the form from its fieldsets, which name the secrets: Django would copy an
        # empty box onto the row. What was stored is kept aside and put back unless a value was typed.
        self.stored = {field: getattr(self.instance, field) for field in self.SECRETS}

    def save(self, commit=True):
        target = super().save(commit=False)
        for field in self.SECRETS:
            typed = self.cleaned_data.get(field)
            setattr(target, field, typed or ("" if self.cleaned_data.get("clear_secrets") else self.stored[field]))
        if commit:
            target.save()
            self.save_m2m()
        return target


@admin.register(Target)
class TargetAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    form = TargetAdminForm
    list_display = ["name", "kind", "enabled", "where", "updated_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "url", "host", "recipients"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled", "timeout_seconds"]}),
        (_("Webhook"), {"fields": ["url", "secret"]}),
        (
            _("MQTT"),
            {
                "fields": [
                    "host",
                    "port",
                    "use_tls",
                    "username",
                    "password",
                    "topic_prefix",
                    "retain_status",
                    "last_will",
                    "ha_discovery",
                    "ha_prefix",
                ]
            },
        ),
        (_("Email"), {"fields": ["recipients"]}),
        (_("Secrets"), {"fields": ["clear_secrets"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("where"))
    def where(self, target: Target) -> str:
        if target.kind == Target.Kind.MQTT:
            return f"{target.host}:{target.port}/{target.topic_prefix}"
        if target.kind == Target.Kind.EMAIL:
            return ", ".join(target.recipient_list())
        return target.url.split("?", 1)[0]  # a query string may carry a token


class RuleAdminForm(forms.ModelForm):
    kinds = forms.TypedMultipleChoiceField(
        label=_("event kinds"), choices=EventKind.choices, widget=forms.CheckboxSelectMultiple
    )
    days = forms.TypedMultipleChoiceField(
        label=_("days of week"),
        choices=DAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every day. An overnight window belongs to the day it starts."),
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "enabled",
            "kinds",
            "targets",
            "all_cameras",
            "cameras",
            "days",
            "start_time",
            "end_time",
            "cooldown_seconds",
            "send_recovery",
        ]


@admin.register(Rule)
class RuleAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    form = RuleAdminForm
    list_display = ["name", "enabled", "kind_list", "all_cameras", "window", "cooldown_seconds", "send_recovery"]
    list_filter = ["enabled", "all_cameras"]
    search_fields = ["name"]
    filter_horizontal = ["cameras", "targets"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "kinds", "targets"]}),
        (_("Cameras"), {"fields": ["all_cameras", "cameras"]}),
        (_("Schedule (the site's time zone)"), {"fields": ["days", "start_time", "end_time"]}),
        (_("Repeats"), {"fields": ["cooldown_seconds", "send_recovery"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("event kinds"))
    def kind_list(self, rule: Rule) -> str:
        labels = dict(EventKind.choices)
        return ", ".join(str(labels.get(k, k)) for k in rule.kinds or [])

    @admin.display(description=_("window"))
    def window(self, rule: Rule) -> str:
        if rule.start_time is None:
            return "-"
        return f"{rule.start_time:%H:%M}-{rule.end_time:%H:%M}"


class ReadOnlyAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """History: written by the system, never by hand."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DeliveryInline(RestrictedInlineMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["target", "rule", "status", "attempts", "last_error", "finished_at", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "camera", "subject", "evaluated_at"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["subject"]
    date_hierarchy = "occurred_at"
    list_select_related = ["camera"]
    readonly_fields = [f.name for f in Event._meta.fields]
    inlines = [DeliveryInline]
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "target", "status", "attempts", "last_error", "created_at", "duration_ms"]
    list_filter = ["status", "target", "created_at"]
    list_select_related = ["event", "target"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    @admin.action(description=_("Send the selected failed deliveries again"))
    def send_again(self, request, queryset):
        count = delivery_service.send_again(ids=list(queryset.values_list("pk", flat=True)))
        text = ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)
