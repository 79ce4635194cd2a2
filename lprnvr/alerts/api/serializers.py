"""Alert rules and targets (administrators), events and deliveries (read per camera visibility).

Secrets (a webhook's signing secret, a broker's password) go in and never come out: responses say
whether one is set. Omitted on an update, the stored one stays; an empty string clears it.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cameras.models import Camera

from ..models import Delivery, Event, EventKind, Rule, Target

SECRETS = ("secret", "password")


class ModelCleanMixin:
    """The model's own `clean()` (per kind rules, schedules) answers as a 400 naming the field."""

    many_to_many: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            if name not in self.many_to_many:
                setattr(instance, name, value)
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class TargetSerializer(ModelCleanMixin, serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, style={"input_type": "password"}
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, style={"input_type": "password"}
    )
    recipients = serializers.ListField(
        child=serializers.EmailField(), required=False, help_text=_("Email targets: the addresses.")
    )
    has_secret = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "id",
            "name",
            "kind",
            "enabled",
            "url",
            "secret",
            "has_secret",
            "timeout_seconds",
            "host",
            "port",
            "use_tls",
            "username",
            "password",
            "has_password",
            "topic_prefix",
            "retain_status",
            "last_will",
            "ha_discovery",
            "ha_prefix",
            "recipients",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_has_secret(self, target: Target) -> bool:
        return bool(target.secret)

    def get_has_password(self, target: Target) -> bool:
        return bool(target.password)

    def to_representation(self, target: Target) -> dict:
        data = super().to_representation(target)
        data["recipients"] = target.recipient_list()
        return data

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if "recipients" in attrs:
            attrs["recipients"] = "\n".join(attrs["recipients"])
        return attrs

    def validate_kind(self, value: str) -> str:
        if self.instance is not None and value != self.instance.kind:
            raise serializers.ValidationError(_("A target's kind cannot change: create another target."))
        return value


class RuleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    many_to_many = ("cameras", "targets")

    kinds = serializers.ListField(child=serializers.ChoiceField(EventKind.choices), allow_empty=False)
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text=_("Days of the week, 0 (Monday) to 6 (Sunday); empty: every day."),
    )
    cameras = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Camera.objects.all())
    targets = serializers.PrimaryKeyRelatedField(many=True, queryset=Target.objects.all())

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "enabled",
            "kinds",
            "all_cameras",
            "cameras",
            "days",
            "start_time",
            "end_time",
            "targets",
            "cooldown_seconds",
            "send_recovery",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "start_time": {"help_text": _("Start of the daily window (the site's time zone); after end: overnight.")},
        }

    def validate_kinds(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_days(self, value: list[int]) -> list[int]:
        return sorted(set(value))


class EventSerializer(serializers.ModelSerializer):
    camera_ref = serializers.CharField(source="camera.address", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Event
        fields = ["id", "kind", "occurred_at", "camera", "camera_ref", "read", "subject", "detail", "evaluated_at"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="event.kind", read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    target_kind = serializers.CharField(source="target.kind", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "kind",
            "target",
            "target_name",
            "target_kind",
            "rule",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "next_attempt_at",
            "started_at",
            "finished_at",
            "duration_ms",
        ]
        read_only_fields = fields
