"""A job as clients see it: per camera, per plate."""

from __future__ import annotations

from django.urls import reverse

from ..models import PlateJob, PlateJobCamera, PlateJobItem


def job_url(job: PlateJob) -> str:
    return reverse("plates:job-detail", kwargs={"pk": job.pk})


def progress(job: PlateJob) -> dict:
    items = PlateJobItem.objects.filter(job_camera__job=job)
    total = items.count()
    done = items.filter(status__in=["succeeded", "failed"]).count()
    cams = job.cameras.all()
    return {
        "cameras_total": cams.count(),
        "cameras_done": cams.filter(status__in=["succeeded", "failed"]).count(),
        "plates_total": total,
        "plates_done": done,
    }


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
