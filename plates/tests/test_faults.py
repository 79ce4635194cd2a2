"""Every device fault through the real worker, and that the job rows tell the truth."""

from datetime import timedelta

import pytest
from django.utils import timezone

from plates import services
from plates.models import AnprCamera, PlateJob, PlateJobCamera, PlateJobItem
from plates.tasks import converge_all_task

pytestmark = pytest.mark.celery


def wait_until(predicate, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def push(make_user):
    """Push plates through the REST API (as an admin) and wait for the job to finish."""
    from conftest import client_for

    client = client_for(make_user("admin", username="pusher"))

    def run(cameras, plates):
        r = client.post("/api/plates/push/", {"plates": plates, "cameras": [c.pk for c in cameras]}, format="json")
        assert r.status_code == 202, r.content
        return services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30)

    return run


@pytest.mark.parametrize("fault", ["busy", "5xx", "timeout", "reset"])
@pytest.mark.parametrize("family", ["A", "B"])
def test_transient_fault_is_retried_with_backoff(celery_worker, doubles, fault, family, push):
    cam, camera = doubles(family)
    cam.inject(fault, times=1, path="searchLPListAudit")
    job = push([camera], ["RTR001", "RTR002"])
    row = PlateJobCamera.objects.get(job=job)
    assert job.status == "succeeded", row.last_error
    assert row.status == "succeeded" and row.attempts == 2
    assert set(PlateJobItem.objects.filter(job_camera=row).values_list("status", "attempts")) == {("succeeded", 2)}
    assert cam.count("RTR001") == 1 and cam.count("RTR002") == 1


def test_busy_on_write_then_success_adds_each_plate_once(celery_worker, doubles, push):
    cam, camera = doubles("A")
    cam.inject("busy", times=2, path="licensePlateAuditData/record")
    job = push([camera], ["BSY001"])
    assert job.status == "succeeded"
    assert PlateJobCamera.objects.get(job=job).attempts == 3
    assert cam.count("BSY001") == 1


def test_transient_fault_that_lasts_fails_after_the_last_attempt(celery_worker, doubles, settings, push):
    cam, camera = doubles("A")
    cam.inject("busy", times=100)
    job = push([camera], ["BUSY01"])
    row = PlateJobCamera.objects.get(job=job)
    assert job.status == "failed"
    assert row.status == "failed" and row.attempts == settings.PLATES_RETRY_ATTEMPTS
    assert "Device Busy" in row.last_error and row.error_kind == "DeviceBusy"
    item = PlateJobItem.objects.get(job_camera=row)
    assert item.status == "failed" and item.attempts == settings.PLATES_RETRY_ATTEMPTS


def test_offline_camera_fails_then_converges_when_it_returns(celery_worker, doubles, settings, push):
    online, cam_ok = doubles("A")
    offline, cam_off = doubles("B")
    offline.stop()
    job = push([cam_ok, cam_off], ["BACK01", "BACK02"])
    assert job.status == "partial"
    rows = {r.camera_id: r for r in PlateJobCamera.objects.filter(job=job)}
    assert rows[cam_ok.pk].status == "succeeded"
    assert rows[cam_off.pk].status == "failed" and rows[cam_off.pk].attempts == settings.PLATES_RETRY_ATTEMPTS
    assert "unreachable" in rows[cam_off.pk].last_error
    assert online.count("BACK01") == 1

    converge_all_task.delay().get(timeout=30)  # still off line: noted, nothing lost
    wait_until(lambda: "unreachable" in AnprCamera.objects.get(camera=cam_off).last_sync_error)
    offline.start()
    converge_all_task.delay().get(timeout=30)
    wait_until(lambda: PlateJob.objects.filter(operation="converge", cameras__camera=cam_off).exists())
    converge = services.wait_for_job(PlateJob.objects.get(operation="converge", cameras__camera=cam_off), 30)
    assert converge.status == "succeeded" and converge.source == "schedule"
    assert sorted(offline.plates()) == ["BACK01", "BACK02"]
    assert AnprCamera.objects.get(camera=cam_off).family == "B"
    # The online camera had nothing to do: no job for it.
    assert not PlateJob.objects.filter(operation="converge", cameras__camera=cam_ok).exists()


def test_offline_camera_converges_a_removal_too(celery_worker, doubles):
    cam, camera = doubles("A")
    cam.seed("GONE01")
    cam.seed("KEEP01")
    cam.stop()
    from django.db import transaction

    with transaction.atomic():
        job = services.remove_plates(cameras=[camera], numbers=["GONE01"])
    assert services.wait_for_job(job, 30).status == "failed"
    cam.start()
    converge_all_task.delay().get(timeout=30)
    wait_until(lambda: PlateJob.objects.filter(operation="converge").exists())
    services.wait_for_job(PlateJob.objects.get(operation="converge"), 30)
    assert cam.plates() == ["KEEP01"]  # unexpected plates are not ours to remove by default


def test_wrong_credentials_fail_at_once_and_are_not_retried(celery_worker, doubles, push):
    cam, camera = doubles("A", password="not-the-password")
    job = push([camera], ["CRED01"])
    row = PlateJobCamera.objects.get(job=job)
    assert job.status == "failed" and row.attempts == 1
    assert row.error_kind == "BadCredentials" and "401" in row.last_error
    assert cam.failed_logins == 1
    # Later jobs and the periodic sync do not try the refused password again.
    job2 = push([camera], ["CRED02"])
    assert "not retried" in PlateJobCamera.objects.get(job=job2).last_error
    assert services.converge_camera(camera.pk) is None
    assert cam.failed_logins == 1
    # New credentials are tried.
    camera.password = "cam-secret-1"
    camera.save()
    job3 = push([camera], ["CRED03"])
    assert job3.status == "succeeded"
    assert cam.count("CRED03") == 1


def test_lockout_reports_the_unlock_time(celery_worker, legacy, doubles):
    cam, camera = doubles("B", password="not-the-password", max_failures=1, lock_seconds=180)
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["LOCK01"]})
    result = r.json()["results"][camera.address]
    assert r.json()["status"] == "failed"
    assert result["unlock_time"] == 180
    assert "unlocks in 180 s" in result["error"]
    row = PlateJobCamera.objects.get()
    assert row.error_kind == "DeviceLocked" and row.attempts == 1
    device = AnprCamera.objects.get(camera=camera)
    assert device.locked_until is not None
    # Even with the right password we wait the lock out instead of hammering the camera: the lock
    # is on our address.
    camera.password = "cam-secret-1"
    camera.save()
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["LOCK02"]})
    assert "locked for" in r.json()["results"][camera.address]["error"]
    assert cam.failed_logins == 1 and len(cam.log) == 0
    # Once the lock is over, the new password is tried.
    AnprCamera.objects.filter(camera=camera).update(locked_until=timezone.now() - timedelta(seconds=1))
    cam.locked_until = 0
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["LOCK03"]})
    assert r.json()["status"] == "succeeded"
    assert cam.count("LOCK03") == 1
    device.refresh_from_db()
    assert device.auth_failed_at is None and device.locked_until is None


def test_bad_parameters_fail_the_plate_with_the_device_reason(celery_worker, doubles, push):
    cam, camera = doubles("B")
    original = cam._put_b

    def refuse_one(items):
        if any(i.get("LicensePlate") == "REFUSE1" for i in items):
            return 400, {"statusCode": 6, "statusString": "Invalid XML Content", "subStatusCode": "badParameters"}
        return original(items)

    cam._put_b = refuse_one
    job = push([camera], ["GOOD01", "REFUSE1", "GOOD02"])
    row = PlateJobCamera.objects.get(job=job)
    assert job.status == "failed" and row.attempts == 1
    items = {i.plate: i for i in PlateJobItem.objects.filter(job_camera=row)}
    assert items["GOOD01"].status == items["GOOD02"].status == "succeeded"
    assert items["REFUSE1"].status == "failed" and "badParameters" in items["REFUSE1"].last_error
    assert sorted(cam.plates()) == ["GOOD01", "GOOD02"]


def test_cameras_run_in_parallel(celery_worker, doubles, push):
    pairs = [doubles("A", latency=0.2) for _ in range(4)]
    job = push([c for _, c in pairs], ["PAR001"])
    assert job.status == "succeeded"
    # Each camera needs about 3 round trips of 0.2 s (+ the digest challenge); 4 in a row would take >= 3 s.
    assert (job.finished_at - job.started_at).total_seconds() < 2.5


def test_a_lost_task_message_only_delays_the_job(celery_worker, doubles, settings):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    cam, camera = doubles("A")
    with transaction.atomic():
        plates = services.upsert_plates(["LOST01"])
        services.assign_plates([camera], plates, desired=True)
        job = services.create_job(
            operation="add",
            cameras=[camera],
            items=[("add", "LOST01", "")],
            enqueue=False,  # the message is lost
        )
    PlateJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    converge_all_task.delay().get(timeout=30)
    assert services.wait_for_job(job, 30).status == "succeeded"
    assert cam.count("LOST01") == 1
    assert not PlateJob.objects.filter(operation="converge").exists()  # the job did it, no second writer


def test_converge_retried_after_a_fault_records_each_plate_once(celery_worker, doubles):
    from django.db import transaction

    cam, camera = doubles("B")
    with transaction.atomic():
        services.assign_plates([camera], services.upsert_plates(["CNV001", "CNV002"]), desired=True)
    cam.inject("busy", times=1, path="licensePlateAuditData/record")
    with transaction.atomic():
        job = services.sync_cameras(cameras=[camera], converge=True)
    job = services.wait_for_job(job, 30)
    row = PlateJobCamera.objects.get(job=job)
    assert job.status == "succeeded" and row.attempts == 2
    assert sorted(PlateJobItem.objects.filter(job_camera=row).values_list("plate", "status")) == [
        ("CNV001", "succeeded"),
        ("CNV002", "succeeded"),
    ]
    assert sorted(cam.plates()) == ["CNV001", "CNV002"]


def test_rows_say_retrying_while_waiting_to_retry(celery_worker, doubles, settings):
    settings.PLATES_RETRY_BASE_DELAY = 2.0
    settings.PLATES_RETRY_MAX_DELAY = 2.0
    cam, camera = doubles("A")
    cam.inject("busy", times=1, path="searchLPListAudit")
    from django.db import transaction

    with transaction.atomic():
        job = services.push_plates(cameras=[camera], numbers=["WAIT01"])
    wait_until(lambda: PlateJobCamera.objects.get(job=job).status == "retrying")
    row = PlateJobCamera.objects.get(job=job)
    assert row.attempts == 1 and "Device Busy" in row.last_error and row.next_attempt_at > timezone.now()
    item = PlateJobItem.objects.get(job_camera=row)
    assert item.status == "retrying" and item.attempts == 1 and "Device Busy" in item.last_error
    assert PlateJob.objects.get(pk=job.pk).status == "running"
    job = services.wait_for_job(job, 30)
    assert job.status == "succeeded"
    assert PlateJobItem.objects.get(job_camera=row).attempts == 2


def test_offline_camera_through_the_legacy_endpoint(celery_worker, legacy, doubles):
    _up, camera_up = doubles("B")
    down, camera_down = doubles("A")
    down.stop()
    r = legacy("/AddPlate", {"camaras": [camera_up.address, camera_down.address], "plates": ["LEG001"]})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "partial"
    assert body["results"][camera_up.address]["plates"]["LEG001"]["status"] == "succeeded"
    failed = body["results"][camera_down.address]
    assert failed["status"] == "failed" and "unreachable" in failed["error"]
    assert failed["plates"]["LEG001"]["status"] == "failed"
    down.start()
    assert services.converge_camera(camera_down.pk) is not None
    wait_until(lambda: down.count("LEG001") == 1)
