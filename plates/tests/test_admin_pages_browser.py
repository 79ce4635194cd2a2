"""Headless Chromium (Debian's) as a `user`: from the plate list, push a plate to its camera (a
Hikvision double) and see the job's page say Succeeded, a real Celery worker having run it.
The plate list, the drift list and a gate's drift page fit 1440 px. Screenshots (1440x900) go to $LPRNVR_SCREENSHOTS, by default var/screenshots/ (kept as artefacts)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cameras.tests.factories import CameraFactory
from plates.models import AnprCamera, PlateJob
from plates.tests.factories import PlateFactory

pytestmark = [pytest.mark.browser, pytest.mark.celery]
SCRIPT = Path(__file__).with_name("browser") / "push_plate.js"
SHOTS = Path(os.environ.get("LPRNVR_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots")


def test_user_pushes_a_plate_to_its_camera_and_sees_the_job_finish(celery_worker, live_server, make_user, doubles):
    assert shutil.which("node") and Path("/usr/bin/chromium").exists(), "node and chromium are test dependencies"
    SHOTS.mkdir(parents=True, exist_ok=True)
    cam, gate = doubles("A")
    gate.name = "Main gate"
    gate.save()
    others = CameraFactory(name="Not yours", ip="127.0.0.64", http_port=9)
    generic = CameraFactory(name="Lobby dome", ip="127.0.0.65", http_port=9, brand="generic")
    for camera in (gate, others):
        AnprCamera.objects.create(camera=camera)
    drift = {"missing": ["MISS01"], "unexpected": ["ODD001", "ODD002"], "duplicates": [], "mismatched": []}
    AnprCamera.objects.filter(camera=gate).update(
        drift={**drift, "to_remove": []}, last_sync_error="camera answered 503 Service Unavailable " * 4
    )
    user = make_user("user", username="gate-user")
    user.cameras.add(gate, generic)
    PlateFactory(number="PUSH01", created_by=user)
    PlateFactory(number="HELD01").assignments.create(camera=gate)
    done = subprocess.run(
        ["node", str(SCRIPT), live_server.url, user.username, "correct-horse-9", "PUSH01", "Main gate", str(SHOTS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert result.get("ok"), (result, done.stderr[-2000:])
    assert result["offered"] == [f"Main gate ({gate.address})"]  # not the generic camera, not another's
    assert "Main gate" in result["cameraColumn"]  # HELD01's camera, by name
    job = PlateJob.objects.get()
    assert result["jobUrl"] == f"/admin/plates/platejob/{job.pk}/change/"
    assert result["status"] == "Succeeded" and job.requested_by == user
    assert any("PUSH01" in row and "Succeeded" in row for row in result["rows"])
    assert cam.plates() == ["PUSH01"]
    assert result["height"] < 3 * 900
    assert result["listWidth"] <= 1440 and result["driftListWidth"] <= 1440 and result["driftWidth"] <= 1440
    assert "Drift" in result["driftListHeaders"] and "Missing on the camera (1)" in result["driftTables"]
    assert (SHOTS / "push-job-finished.png").exists() and (SHOTS / "push-choose-cameras.png").exists()
