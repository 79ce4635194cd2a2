"""Headless Chromium on the dashboard with the real media supervisor: a camera whose RTSP server is
killed shows as down (reconnecting, then down, with the reason in words) within 10 s, without a reload,
and as recording again once the server is back. Screenshots go under var/ (LPRNVR_SCREENSHOTS to move them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cameras.models import Brand
from cameras.tests.factories import CameraFactory
from recordings.models import MediaChannel
from recordings.tests.conftest import media_env, rtsp_server, supervisor  # noqa: F401  (the media fixtures)

pytestmark = [pytest.mark.media, pytest.mark.browser]
SCRIPT = Path(__file__).with_name("browser") / "dashboard_camera_down.js"


def screenshot_dir(settings) -> Path:
    folder = Path(os.environ.get("LPRNVR_SCREENSHOTS") or Path(settings.VAR_DIR) / "screenshots" / "dashboard")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dashboard_shows_a_camera_going_down_and_back(rtsp_server, supervisor, make_user, live_server, settings):  # noqa: F811
    assert shutil.which("node") and Path("/usr/bin/chromium").exists(), "node and chromium are test dependencies"
    settings.DASHBOARD_REFRESH_SECONDS = 1
    shots = screenshot_dir(settings)
    user = make_user("user", username="dash-user")
    camera = CameraFactory(
        name="Yard", ip="127.0.0.1", http_port=8091, brand=Brand.GENERIC, rtsp_url=rtsp_server.url(1)
    )
    MediaChannel.objects.create(camera=camera, continuous=True)  # 24/7: the supervisor runs it without a viewer
    CameraFactory(name="Not yours", ip="127.0.0.2", http_port=8092)
    user.cameras.add(camera)
    node = subprocess.Popen(
        ["node", str(SCRIPT), live_server.url, user.username, "correct-horse-9", str(camera.pk), str(shots), "10"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def event() -> dict:
        line = node.stdout.readline()
        return json.loads(line) if line.strip() else {}

    try:
        up = event()
        assert up.get("event") == "up", (up, node.stderr.read()[-2000:] if node.poll() is not None else "")
        rtsp_server.stop()  # SIGKILL: the camera is gone
        node.stdin.write("killed\n")
        node.stdin.flush()
        down = event()
        assert down.get("event") == "down", down
        rtsp_server.start()  # the same port: the camera is back
        node.stdin.write("restarted\n")
        node.stdin.flush()
        back = event()
        out, err = node.communicate(timeout=120)
    finally:
        if node.poll() is None:
            node.kill()
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    assert result.get("ok"), (result, err[-2000:], supervisor.log()[-3000:])
    assert back.get("event") == "back"
    assert result["cameras"] == [str(camera.pk)]  # the user's camera only
    assert result["down"]["state"] in ("reconnecting", "down") and result["downState"] == "down"
    assert "cannot be reached" in result["downText"] or "did not answer" in result["downText"], result["downText"]
    assert result["reloads"] == 0
    for name in ("dashboard-up.png", "dashboard-down.png", "dashboard-back.png"):
        assert (shots / name).exists()
    print(f"down after {result['down']['seconds']:.1f} s, back after {result['back']['seconds']:.1f} s; {shots}")
