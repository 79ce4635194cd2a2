"""Celery tasks for plates: thin, ids in; the services do the work. Routed to the "plates" queue."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="plates.run_job_camera", bind=True, max_retries=None, acks_late=True, ignore_result=True)
def run_job_camera_task(self, job_camera_id: int) -> None:
    """One camera's part of a job. Transient device failures come back as RetryLater: retried with
    exponential backoff and jitter (the service counts attempts and gives up at PLATES_RETRY_ATTEMPTS).
    Its outcome is in the job rows, so no result is stored in the backend."""
    try:
        services.run_job_camera(job_camera_id)
    except services.RetryLater as exc:
        raise self.retry(countdown=exc.delay, exc=exc) from None


@shared_task(name="plates.converge_camera", acks_late=True)
def converge_camera_task(camera_id: int) -> int | None:
    job = services.converge_camera(camera_id)
    return job.pk if job else None


@shared_task(name="plates.converge_all")
def converge_all_task() -> int:
    """Beat: bring every camera with a plate list in line with it (offline ones when they return)."""
    return services.converge_all()


@shared_task(name="plates.backup_camera", acks_late=True)
def backup_camera_task(camera_id: int) -> int | None:
    from .services import backups

    backup = backups.backup_camera_by_id(camera_id)
    return backup.pk if backup else None


@shared_task(name="plates.backup_all")
def backup_all_task() -> int:
    """Beat, daily: back up every ANPR camera's list (one task per camera)."""
    from .services import backups

    ids = backups.anpr_camera_ids()
    for camera_id in ids:
        backup_camera_task.delay(camera_id)
    return len(ids)


@shared_task(name="plates.reads_retention")
def reads_retention_task() -> dict:
    """Beat: plate reads and their pictures within READS_RETENTION_DAYS, READS_MAX_BYTES and the disk floor."""
    from .services.reads import apply_reads_retention

    return apply_reads_retention()


@shared_task(name="plates.schedule_tick")
def schedule_tick_task() -> int | None:
    """Beat, every minute: weekly schedules and visitor passes opening and closing."""
    from .services import schedule

    job = schedule.tick()
    return job.pk if job else None
