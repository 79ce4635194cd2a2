"""A job as clients see it: per camera, per plate."""

from __future__ import annotations

from django.urls import reverse

from ..models import PlateJob, PlateJobCamera, PlateJobItem


def job_url(job: PlateJob) -> str:
    return reverse("plates:job-detail", kwargs={"pk": job.pk})


def with_progress(jobs):
    """Annotate a job queryset with its progress counts (one query for a whole list)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    def count(model, job_path: str, **filters):
        rows = (
            model.objects.filter(**{job_path: OuterRef("pk")}, **filters)
            .order_by()
            .values(job_path)
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    done = ["succeeded", "failed"]
    return jobs.annotate(
        cameras_total=count(PlateJobCamera, "job"),
        cameras_done=count(PlateJobCamera, "job", status__in=done),
        plates_total=count(PlateJobItem, "job_camera__job"),
        plates_done=count(PlateJobItem, "job_camera__job", status__in=done),
    )


def progress(job: PlateJob) -> dict:
    if not hasattr(job, "plates_done"):
        job = with_progress(PlateJob.objects.filter(pk=job.pk)).get()
    return {k: getattr(job, k) for k in ("cameras_total", "cameras_done", "plates_total", "plates_done")}


def camera_result(row: PlateJobCamera, with_items: bool = True) -> dict:
    data = {
        "camera": row.camera_address,
        "camera_id": row.camera_id,
        "status": row.status,
        "attempts": row.attempts,
        "error": row.last_error,
        "error_kind": row.error_kind,
        "unlock_time": row.unlock_time,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "next_attempt_at": row.next_attempt_at,
        "result": row.result,
    }
    if with_items:
        data["plates"] = [
            {
                "plate": i.plate,
                "new_plate": i.new_plate,
                "action": i.action,
                "status": i.status,
                "attempts": i.attempts,
                "detail": i.detail,
                "error": i.last_error,
                "started_at": i.started_at,
                "finished_at": i.finished_at,
            }
            for i in row.items.all()
        ]
    return data


def legacy_results(job: PlateJob) -> dict:
    """The legacy endpoints' answer: cameras keyed by address, plates keyed by plate."""
    cameras = {}
    for row in job.cameras.all().prefetch_related("items"):
        cameras[row.camera_address] = {
            "status": row.status,
            "error": row.last_error or None,
            "attempts": row.attempts,
            "unlock_time": row.unlock_time,
            "plates": {
                i.plate: {
                    "status": i.status,
                    "detail": i.detail or None,
                    "error": i.last_error or None,
                    **({"new plate": i.new_plate} if i.new_plate else {}),
                }
                for i in row.items.all()
            },
        }
    return {"job": job.pk, "status": job.status, "url": job_url(job), "results": cameras}
