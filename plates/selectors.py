"""Reads for the plate APIs, always restricted to what the user may see or act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from cameras.models import Camera
from lprnvr.api import as_id

from .models import AnprCamera, Plate, PlateBackup, PlateJob, PlateJobCamera


@dataclass
class CameraResolution:
    cameras: list[Camera] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


def resolve_cameras_for(user, refs: list) -> CameraResolution:
    """Cameras named by id, `ip`, `ip:http_port` or `ip:http_port:channel`; which are unknown (or
    invisible to the user) and which the user may see but not act on."""
    out = CameraResolution()
    visible = Camera.objects.visible_to(user)
    manageable = set(Camera.objects.manageable_by(user).values_list("pk", flat=True))
    for ref in refs:
        text = str(ref).strip()
        if text.isdigit():  # an id (or digits that are none: unknown)
            found = list(visible.filter(pk=pk)) if (pk := as_id(text)) else []
        else:
            found = list(visible.by_ref(text))
        if not found:
            out.unknown.append(text)
            continue
        for camera in found:
            if camera.pk not in manageable:
                out.forbidden.append(text)
                break
        else:
            out.cameras.extend(c for c in found if c not in out.cameras)
    return out


def plates_visible_to(user) -> QuerySet[Plate]:
    if user.is_admin:
        return Plate.objects.all()
    cameras = Camera.objects.visible_to(user)
    return Plate.objects.filter(Q(assignments__camera__in=cameras) | Q(created_by=user)).distinct()


def jobs_visible_to(user) -> QuerySet[PlateJob]:
    if user.is_admin:
        return PlateJob.objects.all()
    cameras = Camera.objects.visible_to(user)
    ids = PlateJobCamera.objects.filter(camera__in=cameras).values("job_id")
    return PlateJob.objects.filter(Q(requested_by=user) | Q(pk__in=ids)).distinct()


def job_cameras_visible_to(user, job: PlateJob) -> QuerySet[PlateJobCamera]:
    rows = job.cameras.all()
    if user.is_admin:
        return rows
    return rows.filter(camera__in=Camera.objects.visible_to(user))


def anpr_cameras_visible_to(user) -> QuerySet[AnprCamera]:
    return AnprCamera.objects.filter(camera__in=Camera.objects.visible_to(user)).select_related("camera")


def backups_visible_to(user) -> QuerySet[PlateBackup]:
    if user.is_admin:
        return PlateBackup.objects.all()
    return PlateBackup.objects.filter(camera__in=Camera.objects.visible_to(user))
