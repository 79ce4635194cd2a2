"""Headless Chromium on the camera page: "Test connection" and "Take a snapshot" answer in the page,
against the RTSP double (the stream) and the Hikvision double (ISAPI deviceInfo and picture)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cameras.tests.doubles.hikvision import HikvisionCamera
from cameras.tests.factories import CameraFactory
from recordings.tests.conftest import rtsp_server  # noqa: F401  (the one RTSP double's fixture)

pytestmark = [pytest.mark.media, pytest.mark.browser]
SCRIPT = Path(__file__).with_name("browser") / "camera_check.js"


@pytest.mark.parametrize(("locale", "password"), [("en-US", "cam-secret-1"), ("es-ES", "wrong")])
def test_camera_page_checks_answer_in_the_page(rtsp_server, make_user, live_server, settings, locale, password):  # noqa: F811
    assert shutil.which("node") and Path("/usr/bin/chromium").exists(), "node and chromium are test dependencies"
    shots = Path(os.environ.get("LPRNVR_SCREENSHOTS") or Path(settings.VAR_DIR) / "screenshots" / "cameras")
    shots.mkdir(parents=True, exist_ok=True)
    admin = make_user("admin", username="cam-admin")
    with HikvisionCamera("A") as hik:
        camera = CameraFactory(
            name="Gate Hik", ip="127.0.0.1", http_port=hik.port, password=password, rtsp_url=rtsp_server.url(1)
        )
        done = subprocess.run(
            [
                "node",
                str(SCRIPT),
                live_server.url,
                admin.username,
                "correct-horse-9",
                str(camera.pk),
                str(shots),
                locale,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert result.get("ok"), (result, done.stderr[-2000:])
    assert result["reloads"] == 0 and result["lang"] == locale[:2]
    assert password not in result["testText"]
    if password == "cam-secret-1":
        assert result["testOk"] == "true", result["testText"]
        assert result["snapshot"] == {"hidden": False, "width": result["snapshot"]["width"]}
        assert result["snapshot"]["width"] > 0 or hik.pictures_taken == 1
    else:  # ISAPI refuses: said in the page (the stream itself has no credentials here)
        assert result["testOk"] == "false" and result["snapshotError"], result
        assert hik.failed_logins == 2  # one login per press, never retried
    assert (shots / f"camera-page-{locale[:2]}.png").exists()
