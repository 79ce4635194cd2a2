"""Plates and the list each camera should hold (`CameraPlate`: must be there, or must not)."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import CameraScopedQuerySet, cameras_manageable_by, cameras_visible_to, can_operate

from ..clients.isapi import PlateSpec, normalise_plate

PLATE_RE = re.compile(r"^[^\W_]{2,16}$")


def clean_plate(value: str) -> str:
    """The normalised plate number, or ValueError saying why it is not one."""
    if not isinstance(value, str):
        raise ValueError(_("A plate must be a string."))
    number = normalise_plate(value)
    if not PLATE_RE.match(number):
        raise ValueError(_("A plate is 2 to 16 letters or digits."))
    return number


class ListType(models.TextChoices):
    ALLOW = "allow", _("Allow list")
    BLOCK = "block", _("Block list")


class PlateQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlateQuerySet:
        """Plates on (or to be taken off) the lists of cameras the user sees, and plates they created."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        on_theirs = CameraPlate.objects.filter(camera__in=cameras_visible_to(user)).values("plate_id")
        return self.filter(Q(pk__in=on_theirs) | Q(created_by=user))

    def manageable_by(self, user) -> PlateQuerySet:
        """Plates whose row the user may change or delete: visible, and on no camera they may not
        manage (the row's list type and validity go to every camera that holds the plate)."""
        if not can_operate(user):
            return self.none()
        if user.is_admin:
            return self.all()
        elsewhere = CameraPlate.objects.exclude(camera__in=cameras_manageable_by(user)).values("plate_id")
        return self.visible_to(user).exclude(pk__in=elsewhere)

    # The queryset form of `Plate.is_valid_on`: open ends (no date) are unbounded.
    def valid_on(self, day: date) -> PlateQuerySet:
        return self.exclude(valid_from__gt=day).exclude(valid_until__lt=day)

    def expired_on(self, day: date) -> PlateQuerySet:
        return self.filter(valid_until__lt=day)

    def future_on(self, day: date) -> PlateQuerySet:
        return self.filter(valid_from__gt=day)


class Plate(models.Model):
    number = models.CharField(_("plate"), max_length=16, unique=True, help_text=_("Normalised: A-Z and 0-9."))
    list_type = models.CharField(_("list"), max_length=5, choices=ListType.choices, default=ListType.ALLOW)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=200, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    # Deleted, still on (or still to be taken off) some camera: the row goes once none holds it.
    delete_requested = models.BooleanField(
        _("being deleted"), default=False, help_text=_("Removed from every camera; the row goes once they confirm.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    cameras = models.ManyToManyField("cameras.Camera", through="CameraPlate", related_name="plates", blank=True)

    objects = PlateQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate")
        verbose_name_plural = _("plates")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        try:
            self.number = clean_plate(self.number)
        except ValueError as exc:
            raise ValidationError({"number": str(exc)}) from exc
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})

    def spec(self) -> PlateSpec:
        return PlateSpec(self.number, self.list_type, self.valid_from, self.valid_until)

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class CameraPlate(models.Model):
    """One line of a camera's desired list: the plate must be there (`desired`) or must not.

    `direct`: put on this camera by itself (the legacy endpoints, the API by camera): the camera's
    implicit list, with the plate row's own list type and validity. A line that named lists reach
    carries the list type and window derived from them (`derived_*`, see `services.derivation`).
    """

    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, related_name="plate_assignments"
    )
    plate = models.ForeignKey(Plate, verbose_name=_("plate"), on_delete=models.CASCADE, related_name="assignments")
    desired = models.BooleanField(
        _("desired"), default=True, help_text=_("Off: the plate must be removed (kept until the camera confirms).")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Database defaults: lines are also written by INSERT ... SELECT (`services.jobs.assign_plates`).
    direct = models.BooleanField(
        _("on this camera by itself"), default=True, db_default=True, help_text=_("Not only through a named list.")
    )
    derived_type = models.CharField(
        _("derived list"), max_length=5, choices=ListType.choices, blank=True, default="", db_default=""
    )
    derived_from = models.DateField(_("derived valid from"), null=True, blank=True)
    derived_until = models.DateField(_("derived valid until"), null=True, blank=True)

    objects = CameraScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera plate")
        verbose_name_plural = _("camera plates")
        constraints = [models.UniqueConstraint(fields=["camera", "plate"], name="camera_plate_unique")]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.camera_id}{'' if self.desired else ' (remove)'}"

    def spec(self) -> PlateSpec:
        """What the camera must hold for this line: derived from named lists, or the plate's own."""
        if self.derived_type:
            return PlateSpec(self.plate.number, self.derived_type, self.derived_from, self.derived_until)
        return self.plate.spec()
