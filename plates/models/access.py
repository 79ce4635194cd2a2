"""Named plate lists (residents, contractors, banned) assigned to gates or single cameras.

A camera's desired list (`CameraPlate`) is derived from the lists that reach it (see
`services.derivation`): block wins over allow, and a plate on several allow lists is valid from the
earliest start to the latest end of the windows that apply. The plates put on a camera one by one (the
legacy endpoints, the REST API by camera) stay that camera's own entries (`CameraPlate.direct`): its
implicit list, which keeps the plate row's own list type and validity as before.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import cameras_manageable_by, cameras_visible_to, can_operate

from .lists import ListType, Plate


class PlateListQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlateListQuerySet:
        """Lists that reach a camera the user sees, and lists they created (admins: all)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        reaching = ListAssignment.objects.reaching(cameras_visible_to(user)).values("plate_list_id")
        return self.filter(Q(pk__in=reaching) | Q(created_by=user))

    def manageable_by(self, user) -> PlateListQuerySet:
        """Lists a user may change: visible, and reaching no camera they may not manage (a change
        goes to every camera the list reaches)."""
        if not can_operate(user):
            return self.none()
        if user.is_admin:
            return self.all()
        out_of_reach = cameras_not_in(cameras_manageable_by(user))
        elsewhere = ListAssignment.objects.reaching(out_of_reach).values("plate_list_id")
        return self.visible_to(user).exclude(pk__in=elsewhere)


def cameras_not_in(cameras):
    from cameras.models import Camera

    return Camera.objects.exclude(pk__in=cameras.values("pk"))


class PlateList(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=5, choices=ListType.choices, default=ListType.ALLOW)
    notes = models.TextField(_("notes"), blank=True, default="")
    # Weekly windows in the site's time zone (`plates.schedules`); empty: always on.
    schedule = models.JSONField(_("weekly schedule"), default=list, blank=True)
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
    plates = models.ManyToManyField(Plate, through="ListEntry", related_name="lists", blank=True)

    objects = PlateListQuerySet.as_manager()

    class Meta:
        verbose_name = _("plate list")
        verbose_name_plural = _("plate lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListEntryQuerySet(models.QuerySet):
    def visible_to(self, user) -> ListEntryQuerySet:
        return self.filter(plate_list__in=PlateList.objects.visible_to(user))

    def manageable_by(self, user) -> ListEntryQuerySet:
        return self.filter(plate_list__in=PlateList.objects.manageable_by(user))


class ListEntry(models.Model):
    """A plate on a named list, with its own owner, notes and optional validity window (dates)."""

    plate_list = models.ForeignKey(PlateList, verbose_name=_("list"), on_delete=models.CASCADE, related_name="entries")
    plate = models.ForeignKey(Plate, verbose_name=_("plate"), on_delete=models.CASCADE, related_name="list_entries")
    owner = models.CharField(_("owner"), max_length=200, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    schedule = models.JSONField(_("weekly schedule"), default=list, blank=True)

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        constraints = [models.UniqueConstraint(fields=["plate_list", "plate"], name="list_entry_unique")]

    def __str__(self) -> str:
        return f"{self.plate_id} @ {self.plate_list_id}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})


class ListAssignmentQuerySet(models.QuerySet):
    def reaching(self, cameras) -> ListAssignmentQuerySet:
        """Assignments that reach any of these cameras: to the camera itself, or to its gate."""
        ids = cameras.values("pk")
        return self.filter(Q(camera__in=ids) | Q(gate__lanes__in=ids)).distinct()

    def visible_to(self, user) -> ListAssignmentQuerySet:
        return self.filter(plate_list__in=PlateList.objects.visible_to(user))

    def manageable_by(self, user) -> ListAssignmentQuerySet:
        return self.filter(plate_list__in=PlateList.objects.manageable_by(user))


class ListAssignment(models.Model):
    """A list put on a gate (every lane of it) or on one camera."""

    plate_list = models.ForeignKey(
        PlateList, verbose_name=_("list"), on_delete=models.CASCADE, related_name="assignments"
    )
    gate = models.ForeignKey(
        "cameras.Gate", verbose_name=_("gate"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    camera = models.ForeignKey(
        "cameras.Camera", verbose_name=_("camera"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = ListAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("list assignment")
        verbose_name_plural = _("list assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(gate__isnull=False, camera__isnull=True) | Q(gate__isnull=True, camera__isnull=False),
                name="list_assignment_gate_xor_camera",
            ),
            models.UniqueConstraint(fields=["plate_list", "gate"], name="list_assignment_gate_unique"),
            models.UniqueConstraint(fields=["plate_list", "camera"], name="list_assignment_camera_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plate_list_id} -> {self.gate or self.camera}"

    def cameras(self):
        from cameras.models import Camera

        return Camera.objects.filter(pk=self.camera_id) if self.camera_id else Camera.objects.filter(gate=self.gate_id)


class VisitorPassQuerySet(models.QuerySet):
    def visible_to(self, user) -> VisitorPassQuerySet:
        """Passes on a gate the user sees, and passes they created (admins: all)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        from cameras.models import Gate

        on_theirs = VisitorPass.gates.through.objects.filter(gate__in=Gate.objects.visible_to(user))
        return self.filter(Q(pk__in=on_theirs.values("visitorpass_id")) | Q(created_by=user))

    def manageable_by(self, user) -> VisitorPassQuerySet:
        """Passes whose every gate the user may act on."""
        if not can_operate(user):
            return self.none()
        if user.is_admin:
            return self.all()
        from cameras.models import Gate

        elsewhere = VisitorPass.gates.through.objects.exclude(gate__in=Gate.objects.manageable_by(user))
        return self.visible_to(user).exclude(pk__in=elsewhere.values("visitorpass_id"))

    def active_at(self, moment) -> VisitorPassQuerySet:
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class VisitorPass(models.Model):
    """ "This plate, these gates, from now for 4 hours": on the gates' lanes while it lasts, taken off
    every one of them when it ends (the minute beat, `services.schedule.tick`)."""

    plate = models.ForeignKey(Plate, verbose_name=_("plate"), on_delete=models.CASCADE, related_name="passes")
    gates = models.ManyToManyField("cameras.Gate", verbose_name=_("gates"), related_name="visitor_passes")
    visitor = models.CharField(_("visitor"), max_length=200, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    starts_at = models.DateTimeField(_("from"), db_index=True)
    ends_at = models.DateTimeField(_("until"), db_index=True)
    # Set by the beat that took the pass off the cameras (its end has been applied).
    ended_at = models.DateTimeField(_("taken off"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = VisitorPassQuerySet.as_manager()

    class Meta:
        verbose_name = _("visitor pass")
        verbose_name_plural = _("visitor passes")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="pass_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.plate_id} {self.starts_at:%Y-%m-%d %H:%M}"
