"""Events (what happened), rules (who wants to hear of it, when), targets (where it goes) and
deliveries (one row per event and target: status, attempts, last error, timings)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField
from lprnvr.visibility import AdminOnlyQuerySet, CameraScopedQuerySet


class EventKind(models.TextChoices):
    PLATE_BLOCKED = "plate_blocked", _("Blocked plate")
    PLATE_UNLISTED = "plate_unlisted", _("Unlisted plate")
    PLATE_EXPIRED = "plate_expired", _("Plate outside its validity")
    VERDICT_MISMATCH = "verdict_mismatch", _("Camera and lprnvr verdicts differ")
    CAMERA_DOWN = "camera_down", _("Camera stream down")
    CAMERA_UP = "camera_up", _("Camera stream back")
    RECORDING_DISK_FULL = "recording_disk_full", _("Recording stopped: disk full")
    JOB_FAILED = "job_failed", _("Plate job failed")
    JOB_PARTIAL = "job_partial", _("Plate job partly failed")
    LIST_DRIFT = "list_drift", _("Camera plate list drifted")
    CAMERA_LOCKED = "camera_locked", _("Camera locked our address")
    DISK_LOW = "disk_low", _("Free disk under the floor")
    SERVICE_DOWN = "service_down", _("Service without heartbeat")
    SERVICE_UP = "service_up", _("Service back")
    LOGIN_FAILURES = "login_failures", _("Repeated login failures")


#: Kinds a plate read raises (plates.services.reads calls `services.read_stored`).
PLATE_KINDS = frozenset(
    {EventKind.PLATE_BLOCKED, EventKind.PLATE_UNLISTED, EventKind.PLATE_EXPIRED, EventKind.VERDICT_MISMATCH}
)
#: "Back to normal" kinds and the "down" kind each one ends.
RECOVERY_OF = {EventKind.CAMERA_UP: EventKind.CAMERA_DOWN, EventKind.SERVICE_UP: EventKind.SERVICE_DOWN}


class Event(models.Model):
    """Something that happened, written by the part that knows (see `services.emit`)."""

    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices, db_index=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    read = models.ForeignKey(
        "plates.PlateRead",
        verbose_name=_("plate read"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the event is about when it is not a camera (an account, a service): cooldowns and down/up
    # pairs are per camera and subject.
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    evaluated_at = models.DateTimeField(_("rules evaluated"), null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["read", "kind"], condition=Q(read__isnull=False), name="alerts_event_read_kind_unique"
            ),
        ]
        indexes = [models.Index(fields=["evaluated_at", "occurred_at"], name="alerts_event_unevaluated")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    @property
    def cooldown_key(self) -> str:
        return f"{self.kind}|{self.camera_id or ''}|{self.subject}"


class Target(models.Model):
    """Where messages go: a webhook, an MQTT broker or email recipients (one row, fields by kind).

    One model rather than one per kind: a rule's actions and a delivery's target are then plain
    relations (no generic foreign keys), and the three kinds share name, switch and history.
    """

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        MQTT = "mqtt", _("MQTT")
        EMAIL = "email", _("Email")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Webhook
    url = models.URLField(_("URL"), max_length=2000, blank=True, default="")
    secret = EncryptedTextField(
        _("signing secret"), blank=True, default="", help_text=_("HMAC-SHA256 key of the signature header.")
    )
    timeout_seconds = models.FloatField(
        _("timeout (s)"), default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(120)]
    )
    # MQTT
    host = models.CharField(_("broker host"), max_length=253, blank=True, default="")
    port = models.PositiveIntegerField(
        _("broker port"), default=1883, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    use_tls = models.BooleanField(_("TLS"), default=False)
    username = models.CharField(_("username"), max_length=200, blank=True, default="")
    password = EncryptedTextField(_("password"), blank=True, default="")
    topic_prefix = models.CharField(_("topic prefix"), max_length=100, blank=True, default="lprnvr")
    retain_status = models.BooleanField(
        _("retain camera status"), default=True, help_text=_("Publish <prefix>/<camera>/status as a retained message.")
    )
    last_will = models.BooleanField(
        _("last will"), default=True, help_text=_("The broker publishes <prefix>/status = offline if we drop off.")
    )
    ha_discovery = models.BooleanField(_("Home Assistant discovery"), default=False)
    ha_prefix = models.CharField(_("discovery prefix"), max_length=100, blank=True, default="homeassistant")
    # Email
    recipients = models.TextField(_("recipients"), blank=True, default="", help_text=_("One address per line."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert target")
        verbose_name_plural = _("alert targets")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").splitlines() if a.strip()]

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.WEBHOOK:
            if not self.url:
                errors["url"] = _("A webhook needs a URL.")
            elif not self.url.lower().startswith(("http://", "https://")):
                errors["url"] = _("The URL must start with http:// or https://.")
        elif self.kind == self.Kind.MQTT:
            if not self.host:
                errors["host"] = _("An MQTT target needs the broker's host.")
            if any(c in self.topic_prefix for c in "+#") or self.topic_prefix.startswith("/"):
                errors["topic_prefix"] = _("A topic prefix may not hold + or # nor start with /.")
        elif self.kind == self.Kind.EMAIL:
            from django.core.validators import validate_email

            addresses = self.recipient_list()
            if not addresses:
                errors["recipients"] = _("An email target needs at least one recipient.")
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    errors["recipients"] = _("Not an email address: %(address)s") % {"address": address}
        if errors:
            raise ValidationError(errors)


class Rule(models.Model):
    """Event kinds x camera scope x an optional weekly schedule -> targets, with a cooldown."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    kinds = models.JSONField(_("event kinds"), default=list)
    all_cameras = models.BooleanField(
        _("all cameras"), default=True, help_text=_("Off: only the chosen cameras (events of no camera never match).")
    )
    cameras = models.ManyToManyField("cameras.Camera", verbose_name=_("cameras"), blank=True, related_name="+")
    # Weekly schedule in the site's TIME_ZONE: days 0 (Monday) to 6; none means every day. start > end
    # crosses midnight: "Mon 22:00-06:00" runs from Monday 22:00 to Tuesday 06:00.
    days = models.JSONField(_("days of week"), default=list, blank=True)
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    targets = models.ManyToManyField(Target, verbose_name=_("targets"), related_name="rules")
    cooldown_seconds = models.PositiveIntegerField(
        _("cooldown (s)"),
        default=300,
        help_text=_("After a message, the same kind from the same camera waits this long (0: every event)."),
    )
    send_recovery = models.BooleanField(
        _("send back-to-normal"),
        default=True,
        help_text=_("A camera or service back up is told wherever its 'down' message went."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def covers(self, camera_id: int | None, chosen: set[int]) -> bool:
        """Whether an event of this camera is in scope (`chosen`: the rule's cameras' ids)."""
        return self.all_cameras or (camera_id is not None and camera_id in chosen)

    def in_schedule(self, at: datetime) -> bool:
        """Whether `at` falls in the weekly schedule (the site's time zone)."""
        local = timezone.localtime(at)
        days = set(self.days or range(7))
        if self.start_time is None or self.end_time is None:
            return local.weekday() in days
        now = local.time()
        start, end = self.start_time, self.end_time
        if start < end:
            return local.weekday() in days and start <= now < end
        # Crosses midnight: the evening part belongs to today, the morning part to yesterday's window.
        if now >= start:
            return local.weekday() in days
        return now < end and (local.weekday() - 1) % 7 in days

    def clean(self) -> None:
        errors = {}
        kinds = self.kinds if isinstance(self.kinds, list) else None
        if not kinds:
            errors["kinds"] = _("Choose at least one event kind.")
        elif unknown := [k for k in kinds if k not in EventKind.values]:
            errors["kinds"] = _("Unknown event kinds: %(kinds)s") % {"kinds": ", ".join(map(str, unknown))}
        days = self.days if isinstance(self.days, list) else None
        if days is None or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days):
            errors["days"] = _("Days are numbers from 0 (Monday) to 6 (Sunday).")
        if (self.start_time is None) != (self.end_time is None):
            errors["end_time" if self.end_time is None else "start_time"] = _("Give both times or neither.")
        elif self.start_time is not None and self.start_time == self.end_time:
            errors["end_time"] = _("The window must not be empty.")
        if errors:
            raise ValidationError(errors)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class DeliveryQuerySet(CameraScopedQuerySet):
    camera_field = "event__camera"


class Delivery(models.Model):
    """One event to one target: its status, attempts, last error and timings."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries")
    target = models.ForeignKey(Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="deliveries")
    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    started_at = models.DateTimeField(_("last attempt started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.FloatField(_("last attempt (ms)"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "target"], name="alerts_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alerts_delivery_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_id} -> {self.target_id} ({self.status})"


class Cooldown(models.Model):
    """When a rule last fired for one kind, camera and subject (claimed with a conditional UPDATE)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300)
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="alerts_cooldown_once")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.key} @ {self.fired_at}"
