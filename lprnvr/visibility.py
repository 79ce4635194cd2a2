"""What a user may see and act on, said once per model (NetBox's `restrict(user, action)`).

Every model a user can reach has `visible_to(user)` and `manageable_by(user)` on its QuerySet. Rows
that belong to a camera follow the camera's own rule (`Camera.objects.visible_to` / `manageable_by`):
administrators reach every row, users their cameras' rows, viewers see those rows and act on none.
The base API viewset (`lprnvr.api.RestrictedViewSetMixin`) and the admin mixin
(`lprnvr.admin.RestrictedAdminMixin`) apply them, so no view restricts by hand.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def can_operate(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.can_operate)


def cameras_visible_to(user):
    return apps.get_model("cameras", "Camera").objects.visible_to(user)


def cameras_manageable_by(user):
    return apps.get_model("cameras", "Camera").objects.manageable_by(user)


class CameraScopedQuerySet(models.QuerySet):
    """Rows that belong to a camera: reachable as the camera is. `camera_field` is the path to it."""

    camera_field = "camera"

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(**{f"{self.camera_field}__in": cameras_visible_to(user)})

    def manageable_by(self, user):
        if not can_operate(user):
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(**{f"{self.camera_field}__in": cameras_manageable_by(user)})


class AdminOnlyQuerySet(models.QuerySet):
    """Rows only administrators reach (discovery results hold addresses and credentials)."""

    def visible_to(self, user):
        return self.all() if is_admin(user) else self.none()

    def manageable_by(self, user):
        return self.visible_to(user)


class OutOfScope(Exception):
    """An operation the user's role or camera assignment does not allow; `cameras` names the cameras
    out of their reach. Every door answers it as a 403 (API: JSON naming them; admin: a message)."""

    def __init__(self, message: str, *, cameras: list[str] | None = None):
        super().__init__(message)
        self.cameras = sorted(cameras or [])
