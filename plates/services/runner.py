"""Running one camera's part of a job: one attempt under the camera's lease and device session,
its retries, and the job's end. What each operation does is in `operations`."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from ..clients import isapi
from ..models import FINAL, AnprCamera, PlateJob, PlateJobCamera, PlateJobItem, Status
from .devices import (
    AuthBlocked,
    CameraLease,
    LeaseLost,
    anpr_for,
    backoff,
    claim_camera,
    device_session,
    release_camera,
)
from .operations import HANDLERS
from .progress import JobItems

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised by `run_job_camera` when the task should run again after `delay` seconds."""

    def __init__(self, delay: float, reason: str = ""):
        super().__init__(reason)
        self.delay = delay


def run_job_camera(job_camera_id: int) -> None:
    """One attempt at one camera's part of a job. Idempotent; raises RetryLater for the task to retry."""
    jc = PlateJobCamera.objects.select_related("job", "camera").filter(pk=job_camera_id).first()
    if jc is None or jc.status in FINAL:
        return
    job, camera = jc.job, jc.camera
    if camera is None:
        _finish_camera(jc, Status.FAILED, "the camera was deleted", "CameraDeleted")
        return
    token = claim_camera(camera.pk)
    if token is None:
        PlateJobCamera.objects.filter(pk=jc.pk).update(last_error="waiting for another job on this camera")
        raise RetryLater(1.0 + random.random(), "camera busy with another job")
    try:
        _run_attempt(jc, job, camera, CameraLease(camera.pk, token))
    finally:
        release_camera(camera.pk, token)
        finish_job_if_done(job.pk)


def _run_attempt(jc: PlateJobCamera, job: PlateJob, camera: Camera, lease: CameraLease | None = None) -> None:
    device = anpr_for(camera)
    items = JobItems(jc, lease)
    try:
        with device_session(camera, device) as client:
            _start_attempt(jc, job, items)
            try:
                HANDLERS[job.operation](client, jc, job, camera, device, items)
            finally:
                items.flush()
    except AuthBlocked as exc:
        items.interrupt(Status.FAILED, str(exc))
        _finish_camera(jc, Status.FAILED, str(exc), "BadCredentials", unlock_time=exc.unlock_time)
        return
    except LeaseLost as exc:
        # Another job holds the camera (this attempt outlived its lease): stop, and come back after it.
        _retry_later(jc, items, exc, "LeaseLost")
    except isapi.TransientError as exc:
        if jc.attempts >= settings.PLATES_RETRY_ATTEMPTS:
            message = (
                f"{exc}; gave up after {jc.attempts} attempts (the periodic sync applies it when the camera is back)"
            )
            items.interrupt(Status.FAILED, message)
            _finish_camera(jc, Status.FAILED, message, type(exc).__name__)
            return
        _retry_later(jc, items, exc, type(exc).__name__)
    except isapi.PermanentError as exc:
        unlock = exc.unlock_time if isinstance(exc, isapi.BadCredentials) else None
        items.interrupt(Status.FAILED, str(exc))
        _finish_camera(jc, Status.FAILED, str(exc), type(exc).__name__, unlock_time=unlock)
        return
    AnprCamera.objects.filter(pk=device.pk).exclude(last_sync_error="").update(last_sync_error="")
    items.interrupt(Status.FAILED, "not confirmed by the camera")  # anything left open is a bug: say so
    failed = PlateJobItem.objects.filter(job_camera=jc, status=Status.FAILED).count()
    if failed:
        total = PlateJobItem.objects.filter(job_camera=jc).count()
        _finish_camera(jc, Status.FAILED, f"{failed} of {total} plates failed", "ItemsFailed")
    else:
        _finish_camera(jc, Status.SUCCEEDED, "", "")


def _start_attempt(jc: PlateJobCamera, job: PlateJob, items: JobItems) -> None:
    now = timezone.now()
    PlateJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now, status=Status.RUNNING)
    jc.attempts += 1
    jc.status = Status.RUNNING
    jc.started_at = jc.started_at or now
    jc.next_attempt_at = None
    jc.save(update_fields=["attempts", "status", "started_at", "next_attempt_at"])
    items.start_attempt()


def _retry_later(jc: PlateJobCamera, items: JobItems, exc: Exception, kind: str) -> None:
    delay = backoff(jc.attempts)
    items.interrupt(Status.RETRYING, str(exc))
    PlateJobCamera.objects.filter(pk=jc.pk).update(
        status=Status.RETRYING,
        last_error=str(exc),
        error_kind=kind,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    raise RetryLater(delay, str(exc)) from None


def _finish_camera(jc: PlateJobCamera, status: str, error: str, kind: str, unlock_time: int | None = None) -> None:
    # Errors come from our client and never carry credentials.
    log = logger.info if status == Status.SUCCEEDED else logger.warning
    log("plate job %s camera %s: %s%s", jc.job_id, jc.camera_address, status, f" ({error})" if error else "")
    PlateJobCamera.objects.filter(pk=jc.pk).update(
        status=status,
        last_error=error,
        error_kind=kind,
        unlock_time=unlock_time,
        finished_at=timezone.now(),
        next_attempt_at=None,
    )


def finish_job_if_done(job_id: int) -> None:
    with transaction.atomic():
        job = PlateJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINAL:
            return
        rows = list(PlateJobCamera.objects.filter(job=job).values_list("status", "attempts", "camera_address"))
        statuses = [s for s, _a, _c in rows]
        if any(s not in FINAL for s in statuses):
            return
        failed = [address for s, _a, address in rows if s != Status.SUCCEEDED]
        job.attempts = max((a for _s, a, _c in rows), default=0)
        job.error = (
            f"{len(failed)} of {len(rows)} cameras failed: {', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}"
            if failed
            else ""
        )
        if all(s == Status.SUCCEEDED for s in statuses):
            job.status = Status.SUCCEEDED
        elif any(s == Status.SUCCEEDED for s in statuses):
            job.status = Status.PARTIAL
        else:
            job.status = Status.FAILED
        job.finished_at = timezone.now()
        job.started_at = job.started_at or job.finished_at
        job.save(update_fields=["status", "finished_at", "started_at", "attempts", "error"])
        if job.status in (Status.FAILED, Status.PARTIAL):
            report_job_failure(job)


def report_job_failure(job: PlateJob) -> None:
    """A failed or partly failed job as an alert event: the camera when it was the only one."""
    parts = list(PlateJobCamera.objects.filter(job=job).select_related("camera"))
    failed = [p for p in parts if p.status == Status.FAILED]
    kind = EventKind.JOB_FAILED if job.status == Status.FAILED else EventKind.JOB_PARTIAL
    detail = {
        "job": job.pk,
        "operation": job.operation,
        "failed": [{"camera": p.camera_address, "error": p.last_error[:300]} for p in failed[:20]],
        "cameras": len(parts),
    }
    camera = parts[0].camera if len(parts) == 1 else None
    alerts.emit(kind=kind, camera=camera, subject=f"#{job.pk}", detail=detail)
