"""The per-camera lease lives as long as the attempt works, and a job with nothing to do finishes
(issue 10, lower findings)."""

from __future__ import annotations

import time

import pytest

from plates import services
from plates.models import AnprCamera, PlateJob, PlateJobCamera
from plates.services import devices, progress


@pytest.fixture
def slow_camera(db, doubles, settings):
    settings.PLATES_BATCH_SIZE = 1
    settings.PLATES_CAMERA_LEASE = 1  # renewed every quarter of it
    cam, camera = doubles("A", latency=0.15)
    return cam, camera


def test_the_lease_is_renewed_while_a_long_attempt_works(slow_camera, monkeypatch):
    cam, camera = slow_camera
    plates = [f"LSE{n:03d}" for n in range(8)]
    job = services.push_plates(cameras=[camera], numbers=plates)
    (jc,) = PlateJobCamera.objects.filter(job=job)
    started, stolen = time.monotonic(), []
    report = progress.JobItems.report

    def report_and_try_to_take_the_camera(self, outcomes):
        report(self, outcomes)
        # Past the lease's length, another job still cannot take the camera: it was renewed.
        if time.monotonic() - started > 1.2:
            stolen.append(devices.claim_camera(camera.pk))

    monkeypatch.setattr(progress.JobItems, "report", report_and_try_to_take_the_camera)
    services.run_job_camera(jc.pk)
    assert time.monotonic() - started > 1.5  # the attempt outlived the lease's first term
    assert stolen and stolen == [None] * len(stolen)
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert all(cam.count(p) == 1 for p in plates)
    assert AnprCamera.objects.get(pk=camera.pk).lease_owner == ""  # released at the end


def test_an_attempt_whose_lease_was_taken_stops_and_retries_later(slow_camera, monkeypatch):
    cam, camera = slow_camera
    plates = [f"LST{n:03d}" for n in range(8)]
    job = services.push_plates(cameras=[camera], numbers=plates)
    (jc,) = PlateJobCamera.objects.filter(job=job)
    keep = devices.CameraLease.keep

    def taken_by_another(self):
        AnprCamera.objects.filter(pk=self.camera_id).update(lease_owner="another-job")
        self._renewed = 0.0  # due for renewal now
        keep(self)

    monkeypatch.setattr(devices.CameraLease, "keep", taken_by_another)
    with pytest.raises(services.RetryLater):
        services.run_job_camera(jc.pk)
    jc.refresh_from_db()
    assert jc.status == "retrying" and jc.error_kind == "LeaseLost"
    assert sum(cam.count(p) for p in plates) < len(plates)  # it stopped instead of going on
    # The other holder's lease is left alone.
    assert AnprCamera.objects.get(pk=camera.pk).lease_owner == "another-job"


def test_a_job_with_no_cameras_finishes_at_once(db, make_user):
    user = make_user("admin")
    for job in (
        services.push_plates(cameras=[], numbers=["NOCAM1"], user=user),
        services.remove_plates(cameras=[], numbers=["NOCAM1"], user=user),
        services.sync_cameras(cameras=[], user=user),
    ):
        job.refresh_from_db()
        assert job.status == "succeeded" and job.finished_at is not None
    assert not PlateJob.objects.exclude(status="succeeded").exists()
