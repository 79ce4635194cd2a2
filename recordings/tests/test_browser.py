"""Headless Chromium (Debian's) plays a live stream in the admin live grid, through hls.js from npm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cameras.tests.factories import CameraFactory

pytestmark = [pytest.mark.media, pytest.mark.browser]
SCRIPT = Path(__file__).with_name("browser") / "play_live.js"


def test_admin_live_grid_plays_in_chromium(rtsp_server, supervisor, make_user, live_server):
    assert shutil.which("node") and Path("/usr/bin/chromium").exists(), "node and chromium are test dependencies"
    admin = make_user("admin", username="grid-admin")
    CameraFactory(name="Gate", ip="127.0.0.1", http_port=8081, rtsp_url=rtsp_server.url(1))
    done = subprocess.run(
        ["node", str(SCRIPT), live_server.url, admin.username, "correct-horse-9"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert result.get("ok"), (result, done.stderr[-2000:], supervisor.log()[-2000:])
    assert result["hlsJs"] is True


def test_admin_live_grid_renews_its_stream_token(rtsp_server, supervisor, make_user, live_server, settings):
    """Stream URLs expire (MEDIA_URL_TTL): the page fetches new ones and plays on without a refusal."""
    settings.MEDIA_URL_TTL = 6
    admin = make_user("admin", username="grid-admin")
    CameraFactory(name="Gate", ip="127.0.0.1", http_port=8081, rtsp_url=rtsp_server.url(1))
    result, stderr = run_node("play_live.js", live_server.url, admin.username, "correct-horse-9", "16")
    assert result.get("ok"), (result, stderr, supervisor.log()[-2000:])
    assert result["tokens"] >= 3  # the first URL and at least two renewals (every 5 s)
    assert result["refused"] == []


def run_node(script: str, *args: str) -> tuple[dict, str]:
    done = subprocess.run(
        ["node", str(Path(__file__).with_name("browser") / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), done.stderr[-2000:]


@pytest.mark.django_db(transaction=True)
def test_admin_recordings_player_plays_a_recording(make_user, live_server, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from .factories import RecordingFactory, make_sample_mp4, make_segment

    admin = make_user("admin", username="player-admin")
    camera = CameraFactory(name="Yard")
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    make_segment(camera, start, seconds=4, sample=make_sample_mp4(tmp_path / "sample.mp4"))
    RecordingFactory(
        camera=camera, user=admin, start_time=start, end_time=start + timedelta(seconds=4), status="completed"
    )
    result, stderr = run_node("play_recording.js", live_server.url, admin.username, "correct-horse-9")
    assert result.get("ok"), (result, stderr)
    assert result["rows"] == 1 and 3 <= result["duration"] <= 5


@pytest.mark.django_db(transaction=True)
def test_timeline_plays_from_a_clicked_instant(make_user, live_server, tmp_path):
    """The strip shows the recorded span and the plate read; a click plays from that instant (hls.js on
    the signed VOD playlist), within 1 s of it; the screenshot is kept (LPRNVR_SCREENSHOTS)."""
    from datetime import timedelta

    from django.utils import timezone

    from plates.models import PlateRead

    from .factories import make_sample_mp4, make_segment

    viewer = make_user("viewer", username="timeline-viewer")
    camera = CameraFactory(name="Yard")
    viewer.cameras.add(camera)
    sample = make_sample_mp4(tmp_path / "sample.mp4")
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    for i in range(10):
        make_segment(camera, start + timedelta(seconds=4 * i), seconds=4, sample=sample, continuous=True)
    PlateRead.objects.create(camera=camera, number="TL123", camera_time=start + timedelta(seconds=8))
    shots = Path(os.environ.get("LPRNVR_SCREENSHOTS") or tmp_path)  # as the plate pages' browser tests
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "timeline.png"
    typed = timezone.localtime(start - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S")
    result, stderr = run_node("play_timeline.js", live_server.url, viewer.username, "correct-horse-9", typed, str(shot))
    assert result.get("ok"), (result, stderr)
    print("timeline playback:", result)  # the figures for the README (pytest -s)
    assert result["spans"] == 1 and result["markers"] == 1
    assert abs(result["firstWall"] - result["clicked"]) <= 1000, result
    assert result["advanced"] > 2 and not result["message"] and not result["pageErrors"], result


@pytest.mark.django_db(transaction=True)
def test_four_cameras_play_in_step(make_user, live_server, tmp_path):
    """2x2: four cameras from one clicked instant stay within 0.5 s of each other (wall-clock time),
    though their segments start at different moments."""
    from datetime import timedelta

    from django.utils import timezone

    from .factories import make_sample_mp4, make_segment

    user = make_user("user", username="timeline-user")
    sample = make_sample_mp4(tmp_path / "sample.mp4")
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    for n in range(4):
        camera = CameraFactory(name=f"Cam {n}")
        user.cameras.add(camera)
        for i in range(8):  # each camera's segments offset by n seconds
            make_segment(camera, start + timedelta(seconds=4 * i + n), seconds=4, sample=sample, continuous=True)
    shots = Path(os.environ.get("LPRNVR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    typed = timezone.localtime(start - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S")
    result, stderr = run_node(
        "play_timeline.js",
        live_server.url,
        user.username,
        "correct-horse-9",
        typed,
        str(shots / "timeline-2x2.png"),
        "sync",
    )
    assert result.get("ok"), (result, stderr)
    print("timeline 2x2:", result)  # the figures for the README (pytest -s)
    assert max(result["spreads"]) <= 500, result
    assert not result["pageErrors"], result
