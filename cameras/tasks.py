"""Discovery tasks: thin, ids in, routed to the "discovery" queue by their `cameras.discovery.` names."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cameras.discovery.run_job", acks_late=True, ignore_result=True)
def run_discovery_job_task(job_id: int) -> None:
    from . import services

    services.run_discovery_job(job_id=job_id)


@shared_task(name="cameras.discovery.requeue_stale", ignore_result=True)
def requeue_stale_discovery_jobs() -> int:
    from . import services

    return services.requeue_stale_jobs()
