"""Alert events the plates app raises, against the Hikvision double: a job failed or partly failed,
a camera that locked our address, a list that drifted (lprnvr/alerts evaluates and delivers them)."""

from __future__ import annotations

import pytest
from django.db import transaction

from lprnvr.alerts.models import Event, EventKind
from plates import services

pytestmark = pytest.mark.django_db(transaction=True)


def push(cameras, numbers):
    with transaction.atomic():
        job = services.push_plates(cameras=cameras, numbers=numbers)
    return services.run_job_inline(job)


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    """Jobs run inline here; their task messages (and the alerts' evaluations) are not sent."""
    from lprnvr.alerts import tasks as alert_tasks
    from plates import tasks as plate_tasks

    monkeypatch.setattr(plate_tasks.run_job_camera_task, "apply_async", lambda *a, **k: None)
    monkeypatch.setattr(alert_tasks.evaluate_event_task, "delay", lambda *a, **k: None)


def test_a_failed_job_and_a_partly_failed_one(doubles, settings):
    settings.PLATES_RETRY_ATTEMPTS = 1
    _good_cam, good = doubles("A")
    bad_cam, bad = doubles("A")
    bad_cam.stop()
    job = push([bad], ["FAIL01"])
    assert job.status == "failed"
    [event] = Event.objects.filter(kind=EventKind.JOB_FAILED)
    assert event.camera == bad and event.subject == f"#{job.pk}"
    assert event.detail["operation"] == "add" and event.detail["failed"][0]["camera"] == bad.address
    job = push([good, bad], ["PART01"])
    assert job.status == "partial"
    [event] = Event.objects.filter(kind=EventKind.JOB_PARTIAL)
    assert event.camera is None and event.detail["cameras"] == 2  # two cameras: the event is the job's
    assert [f["camera"] for f in event.detail["failed"]] == [bad.address]
    push([good], ["OK01"])
    assert Event.objects.count() == 2  # a job that succeeded is no news


def test_a_camera_that_locks_our_address(doubles):
    _cam, camera = doubles("B", password="not-the-password", max_failures=1, lock_seconds=180)
    job = push([camera], ["LOCK01"])
    assert job.status == "failed"
    [event] = Event.objects.filter(kind=EventKind.CAMERA_LOCKED)
    assert event.camera == camera and event.detail["locked_until"]


def test_the_periodic_check_reports_drift(doubles):
    cam, camera = doubles("A")
    push([camera], ["KEEP01"])
    cam.seed("STRAY01")
    services.converge_camera(camera.pk)
    [event] = Event.objects.filter(kind=EventKind.LIST_DRIFT)
    assert event.camera == camera
    assert event.detail == {"missing": 0, "unexpected": 1, "duplicates": 0, "mismatched": 0}
