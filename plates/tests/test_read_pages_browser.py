"""Headless Chromium (Debian's) on the plate-read pages: the gate monitor shows a read stored while it
is open within 2 s (the feed's long poll), in English and Spanish; the log opens the read, says in
words that nothing was recorded then, and filters. Screenshots (1440x900) go to
$LPRNVR_SCREENSHOTS (a temporary folder by default)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.utils import timezone

from cameras.tests.doubles.hikvision import HikvisionCamera
from cameras.tests.factories import CameraFactory
from plates.clients.isapi_events import Alert
from plates.models import AnprCamera, AnprEventSource, EventState, ListType
from plates.services.reads import ingest_read
from plates.tests.factories import PlateFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser]
SCRIPT = Path(__file__).with_name("browser") / "gate_monitor.js"


@pytest.fixture(scope="session")
def jpegs(tmp_path_factory):
    """A plate crop and a scene picture, real JPEGs (ffmpeg's test pattern)."""
    folder = tmp_path_factory.mktemp("pictures")
    out = {}
    for name, size, source in (("plate", "240x60", "color=c=0xf5d90a:"), ("scene", "640x360", "testsrc=")):
        path = folder / f"{name}.jpg"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}size={size}", "-frames:v", "1", str(path)],
            check=True,
            timeout=30,
        )
        out[name] = path.read_bytes()
    return out


@pytest.fixture
def gate_double():
    with HikvisionCamera("A", heartbeat_seconds=0.5) as cam:
        yield cam


def read(camera, plate: str, *, list_type: str, uuid: str, jpegs: dict, direction: str = "forward"):
    alert = Alert(
        event_type="ANPR",
        camera_time=timezone.now(),
        uuid=uuid,
        plate=plate,
        confidence=97,
        direction=direction,
        list_type=list_type,
        vehicle={"type": "car", "color": "white"},
    )
    pictures = {"licensePlatePicture.jpg": jpegs["plate"], "detectionPicture.jpg": jpegs["scene"]}
    return ingest_read(camera=camera, alert=alert, pictures=pictures, source="stream")[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_gate_monitor_shows_a_new_read_within_2_s(
    make_user, live_server, listener, gate_double, tmp_path, jpegs, locale, settings
):
    # Short long polls: the page's last one ends soon after the browser closes, before the test
    # database goes (a read is still answered as soon as it is stored).
    settings.READS_FEED_WAIT = 1
    settings.MEDIA_READY_TIMEOUT = 0.5  # no media here: the live cells' stream requests give up soon
    assert shutil.which("node") and Path("/usr/bin/chromium").exists(), "node and chromium are test dependencies"
    shots = Path(os.environ.get("LPRNVR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    viewer = make_user("viewer", username="gate-viewer")
    # The main gate is the Hikvision double, armed by the real `run_events`: the new read travels the
    # whole way (alertStream, parser, ingest, feed, page).
    cam = gate_double
    gate = CameraFactory(
        name="Main gate", ip=cam.host, http_port=cam.port, username=cam.username, password=cam.password,
        brand="hikvision",
    )  # fmt: skip
    AnprEventSource.objects.create(camera=gate)
    exit_gate = CameraFactory(name="Exit gate", ip="127.0.0.82", http_port=9)
    hidden = CameraFactory(name="Not yours", ip="127.0.0.83", http_port=9)
    for camera in (gate, exit_gate, hidden):
        AnprCamera.objects.create(camera=camera)
    wait_for(lambda: AnprEventSource.objects.get(camera=gate).state == EventState.CONNECTED, message="armed")
    viewer.cameras.add(gate, exit_gate)
    PlateFactory(number="ABC1234").assignments.create(camera=gate, desired=True)
    PlateFactory(number="BAD666", list_type=ListType.BLOCK).assignments.create(camera=exit_gate, desired=True)
    read(exit_gate, "XYZ987", list_type="", uuid="u-old-1", jpegs=jpegs, direction="reverse")
    read(exit_gate, "BAD666", list_type="allowList", uuid="u-old-2", jpegs=jpegs)  # flagged: we block it
    read(hidden, "SECRET1", list_type="allowList", uuid="u-hidden", jpegs=jpegs)
    node = subprocess.Popen(
        ["node", str(SCRIPT), live_server.url, viewer.username, "correct-horse-9", "ABC1234", str(shots), locale],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(node.stdout.readline() or "{}").get("ready"), node.stderr.read()[-2000:]
        emitted_at = time.time()
        # The camera says allow; our list allows it too: allowed by both (green).
        pictures = {"licensePlatePicture.jpg": jpegs["plate"], "detectionPicture.jpg": jpegs["scene"]}
        cam.emit_read("ABC1234", list_type="allowList", pictures=pictures, push=False)
        seen = json.loads(node.stdout.readline() or "{}")
        out, err = node.communicate(timeout=120)
    finally:
        node.kill()
        time.sleep(1.5)  # the closed page's last long poll (READS_FEED_WAIT) ends
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    assert result.get("ok"), (result, err[-2000:])
    assert seen["seen"] / 1000 - emitted_at <= 2.0, seen["seen"] / 1000 - emitted_at  # the double's emit to the page
    assert result["gates"] == 2  # the viewer's two gates, not the camera it is not assigned to
    assert "ov-allowed" in result["latestClass"]
    assert result["lang"] == locale[:2]
    assert result["rows"] == 3  # SECRET1 is on a camera the viewer does not see
    assert not result["blackPlayer"] and result["clip"]  # nothing recorded: said in words
    assert "match=fuzzy" in result["csv"] and "plate=ABCI234" not in result["csv"]
    assert (shots / f"gate-monitor-{locale[:2]}.png").exists() and (shots / f"plate-reads-{locale[:2]}.png").exists()


@pytest.mark.django_db(transaction=True)
def test_read_log_plays_the_clip_of_a_recorded_read(make_user, live_server, tmp_path, jpegs, settings):
    from datetime import timedelta

    from recordings.tests.factories import make_sample_mp4, make_segment

    settings.DISK_FREE_FLOOR_BYTES = 0
    user = make_user("user", username="clip-user")
    gate = CameraFactory(name="Main gate", ip="127.0.0.84", http_port=9)
    AnprCamera.objects.create(camera=gate)
    user.cameras.add(gate)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    sample = make_sample_mp4(tmp_path / "sample.mp4")
    for i in range(6):
        make_segment(gate, at - timedelta(seconds=12 - 4 * i), sample=sample)
    stored = read(gate, "CLIP01", list_type="allowList", uuid="u-clip", jpegs=jpegs)
    type(stored).objects.filter(pk=stored.pk).update(camera_time=at)
    done = subprocess.run(
        [
            "node",
            str(Path(__file__).with_name("browser") / "play_clip.js"),
            live_server.url,
            user.username,
            "correct-horse-9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert result.get("ok"), (result, done.stderr[-2000:])
    assert result["duration"] > 5  # the window around the read, cut from the segments
