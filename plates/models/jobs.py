"""Jobs (`PlateJob` > `PlateJobCamera` > `PlateJobItem`): every attempt to make a camera match its
list, with who asked, when, and what each camera answered: the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lprnvr.jobs import BackgroundJob
from lprnvr.visibility import CameraScopedQuerySet, cameras_visible_to, can_operate


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIAL = "partial", _("Partly failed")  # jobs only: some cameras failed


FINAL = (Status.SUCCEEDED, Status.FAILED, Status.PARTIAL)


class Operation(models.TextChoices):
    ADD = "add", _("Add")
    DELETE = "delete", _("Delete")
    RENAME = "rename", _("Rename")
    SYNC = "sync", _("Sync (report drift)")
    CONVERGE = "converge", _("Converge")
    RESTORE = "restore", _("Restore backup")


class Source(models.TextChoices):
    LEGACY = "legacy", _("Legacy API")
    API = "api", _("REST API")
    ADMIN = "admin", _("Admin")
    SCHEDULE = "schedule", _("Schedule")
    COMMAND = "command", _("Command line")


class PlateJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlateJobQuerySet:
        """Jobs the user asked for, and jobs that touched a camera they see."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        touched = PlateJobCamera.objects.filter(camera__in=cameras_visible_to(user)).values("job_id")
        return self.filter(Q(requested_by=user) | Q(pk__in=touched))

    def manageable_by(self, user) -> PlateJobQuerySet:
        """Jobs are never changed by hand; acting on one (none today) is the operators' on their jobs."""
        if not can_operate(user):
            return self.none()
        return self.visible_to(user)


class PlateJob(BackgroundJob):
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.API)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plate_jobs",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(_("parameters"), default=dict, blank=True)

    FINISHED = FINAL

    objects = PlateJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate job")
        verbose_name_plural = _("plate jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return _("Job #%(id)s: %(operation)s (%(status)s)") % {
            "id": self.pk,
            "operation": self.get_operation_display(),
            "status": self.get_status_display(),
        }


class PlateJobCamera(models.Model):
    job = models.ForeignKey(PlateJob, verbose_name=_("job"), on_delete=models.CASCADE, related_name="cameras")
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.SET_NULL, null=True, related_name="plate_jobs"
    )
    camera_address = models.CharField(_("camera address"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    error_kind = models.CharField(_("error kind"), max_length=40, blank=True, default="")
    unlock_time = models.PositiveIntegerField(null=True, blank=True, help_text=_("Seconds until the camera unlocks."))
    result = models.JSONField(_("result"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("job camera")
        verbose_name_plural = _("job cameras")
        ordering = ["job", "id"]

    def __str__(self) -> str:
        return _("%(camera)s: %(status)s") % {"camera": self.camera_address, "status": self.get_status_display()}


class PlateJobItemQuerySet(CameraScopedQuerySet):
    camera_field = "job_camera__camera"


class PlateJobItem(models.Model):
    job_camera = models.ForeignKey(
        PlateJobCamera, verbose_name=_("job camera"), on_delete=models.CASCADE, related_name="items"
    )
    action = models.CharField(_("action"), max_length=10, choices=Operation.choices)
    plate = models.CharField(_("plate"), max_length=16)
    new_plate = models.CharField(_("new plate"), max_length=16, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    detail = models.CharField(_("detail"), max_length=200, blank=True, default="")
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = PlateJobItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("job plate")
        verbose_name_plural = _("job plates")
        ordering = ["job_camera", "id"]

    def __str__(self) -> str:
        return _("%(action)s %(plate)s: %(status)s") % {
            "action": self.get_action_display(),
            "plate": self.plate,
            "status": self.get_status_display(),
        }
