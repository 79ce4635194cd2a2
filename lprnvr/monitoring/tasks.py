"""The workers' heartbeat: beat sends this task to every queue (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from . import heartbeats


@shared_task(name="monitoring.worker_heartbeat", bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str) -> None:
    """Some worker on this machine consumes `queue` (its node name in the detail, when Celery says it)."""
    heartbeats.beat(service=heartbeats.worker_service(queue), detail={"queue": queue, "node": self.request.hostname})
