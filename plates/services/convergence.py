"""Periodic convergence: every camera brought in line with its desired list; stalled jobs requeued."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from .. import reconcile
from ..clients import isapi
from ..models import (
    FINAL,
    AnprCamera,
    PlateJob,
    PlateJobCamera,
    Source,
)
from .devices import anpr_for, auth_block, client_for_camera, record_auth_failure, remember_family
from .jobs import sync_cameras
from .runner import desired_for

# --- Periodic convergence -----------------------------------------------------------------------


def cameras_to_converge() -> list[int]:
    """Active cameras with a plate list here (or set to remove unexpected plates)."""
    return list(
        AnprCamera.objects.filter(camera__is_active=True)
        .filter(Q(camera__plate_assignments__isnull=False) | Q(remove_unexpected=True))
        .values_list("camera_id", flat=True)
        .distinct()
    )


def converge_camera(camera_id: int) -> PlateJob | None:
    """Read one camera; when it drifted from its desired list, create (and enqueue) a converge job.

    A camera that is off line is just noted: the next period tries again, so it converges when it
    comes back. A camera whose credentials were refused is left alone until they change.
    """
    camera = Camera.objects.filter(pk=camera_id, is_active=True).first()
    if camera is None:
        return None
    device = anpr_for(camera)
    blocked = auth_block(camera, device)
    if blocked:
        AnprCamera.objects.filter(pk=device.pk).update(last_sync_error=blocked)
        return None
    if PlateJobCamera.objects.filter(camera=camera).exclude(status__in=FINAL).exists():
        return None  # a job is on it already; it will converge the camera (or the next period will)
    client = client_for_camera(camera, device)
    try:
        state = reconcile.group(client.list_all())
    except isapi.ISAPIError as exc:
        remember_family(device, client)
        if isinstance(exc, isapi.BadCredentials):
            record_auth_failure(camera, device, exc)
        AnprCamera.objects.filter(pk=device.pk).update(last_sync_error=str(exc))
        return None
    remember_family(device, client)
    desired, removals = desired_for(camera)
    report = reconcile.drift(desired, removals, state)
    AnprCamera.objects.filter(pk=device.pk).update(
        drift=report,
        last_synced_at=timezone.now(),
        last_sync_error="",
        auth_failed_at=None,
        auth_fingerprint="",
        auth_error="",
        locked_until=None,
        plate_count=sum(len(v) for v in state.values()),
    )
    work = report["missing"] or report["to_remove"] or report["duplicates"] or report["mismatched"]
    if work or report["unexpected"]:
        counts = {key: len(report.get(key) or []) for key in ("missing", "unexpected", "duplicates", "mismatched")}
        alerts.emit(kind=EventKind.LIST_DRIFT, camera=camera, detail=counts)
    if not work and not (device.remove_unexpected and report["unexpected"]):
        return None
    with transaction.atomic():
        return sync_cameras(
            cameras=[camera], converge=True, remove_unexpected=device.remove_unexpected, source=Source.SCHEDULE
        )


def requeue_stalled() -> int:
    """Job cameras whose task message was lost (or whose worker died) are queued again; running
    them twice is harmless (idempotent, one lease per camera)."""
    from ..tasks import run_job_camera_task

    horizon = timezone.now() - timedelta(seconds=settings.PLATES_CAMERA_LEASE)
    stalled = list(
        PlateJobCamera.objects.exclude(status__in=FINAL)
        .filter(
            Q(next_attempt_at__lt=horizon)
            | Q(next_attempt_at__isnull=True, started_at__lt=horizon)
            | Q(next_attempt_at__isnull=True, started_at__isnull=True, job__created_at__lt=horizon)
        )
        .values_list("pk", flat=True)
    )
    for pk in stalled:
        run_job_camera_task.delay(pk)
    return len(stalled)


def converge_all() -> int:
    """Beat: requeue stalled jobs, then check every camera with a plate list against it."""
    from ..tasks import converge_camera_task

    requeue_stalled()
    ids = cameras_to_converge()
    for camera_id in ids:
        converge_camera_task.delay(camera_id)
    return len(ids)
