"""The workers' heartbeat: beat sends this task to every queue (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from . import heartbeats


@shared_task(name="monitoring.worker_heartbeat", bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str) -> None:
    """Some worker consumes `queue`: record it under that worker's node name."""
    heartbeats.beat(
        service=heartbeats.worker_service(queue),
        host=self.request.hostname or heartbeats.this_host(),
        detail={"queue": queue},
    )
