"""Sites and gates: where cameras stand. A site has a time zone (its schedules are read in it); a
gate belongs to a site; a camera is a lane of a gate, facing entry, exit or both. A user assigned a
gate or a site reaches its cameras (`CameraQuerySet.visible_to`)."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lprnvr.visibility import can_operate


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Not a time zone name (e.g. Europe/Madrid)."))


class Direction(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")
    BOTH = "both", _("Entry and exit")


class SiteQuerySet(models.QuerySet):
    def visible_to(self, user) -> SiteQuerySet:
        """Sites the user is assigned, and the sites of the gates they see (admins: all)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(
            Q(pk__in=user.sites.values("pk")) | Q(pk__in=Gate.objects.visible_to(user).values("site_id"))
        )

    def manageable_by(self, user) -> SiteQuerySet:
        """Sites and gates are laid out by administrators."""
        return self.all() if can_operate(user) and user.is_admin else self.none()


class Site(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone]
    )

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class GateQuerySet(models.QuerySet):
    def visible_to(self, user) -> GateQuerySet:
        """Gates the user is assigned, every gate of a site they are assigned, and the gates one of
        their own cameras is a lane of (admins: all). Their lanes are what they reach (see
        `CameraQuerySet.visible_to`), so assigning a gate or a site is assigning its cameras."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(
            Q(pk__in=user.gates.values("pk"))
            | Q(site__in=user.sites.values("pk"))
            | Q(pk__in=user.cameras.filter(gate__isnull=False).values("gate_id"))
        )

    def manageable_by(self, user) -> GateQuerySet:
        """Gates a user may act on (put lists and passes on): the visible ones, for operators."""
        return self.visible_to(user) if can_operate(user) else self.none()


class Gate(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="gates")
    name = models.CharField(_("name"), max_length=200)

    objects = GateQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="gate_name_unique_in_site")]

    def __str__(self) -> str:
        return f"{self.site.name} / {self.name}"
