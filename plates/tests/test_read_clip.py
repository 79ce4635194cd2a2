"""The video at the moment of a read: a real RTSP server, the real `run_media` supervisor recording
24/7, a read inside the footage, and its clip (from the ANPR camera and an overview camera) over HTTP."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings

from cameras.tests.factories import CameraFactory
from plates.clients.isapi_events import Alert
from plates.models import AnprCamera
from plates.services.reads import ingest_read
from recordings.models import Export, MediaChannel, Segment
from recordings.tests.conftest import (  # noqa: F401 (fixtures)
    ffprobe_duration,
    media_env,
    rtsp_server,
    supervisor,
    wait_for,
)

pytestmark = pytest.mark.media


def probe(path) -> dict:
    out = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         "-show_packets", "-read_intervals", "%+#1", "-select_streams", "v:0", str(path)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def frames(path, size: tuple[int, int], count: int | None = None) -> list[bytes]:
    """The decoded grey pictures of a video (the clock overlay makes each second's pictures unique)."""
    limit = ["-frames:v", str(count)] if count else []
    out = subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-i", str(path), *limit, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    step = size[0] * size[1]
    return [out[i : i + step] for i in range(0, len(out) - step + 1, step)]


def test_clip_around_a_read_on_a_24_7_camera(rtsp_server, supervisor, make_user, live_server, tmp_path, settings):  # noqa: F811
    settings.READS_CLIP_BEFORE = 3
    settings.READS_CLIP_AFTER = 3
    settings.DISK_FREE_FLOOR_BYTES = 0
    gate = CameraFactory(ip="127.0.0.1", http_port=8101, rtsp_url=rtsp_server.url(1))
    overview = CameraFactory(ip="127.0.0.1", http_port=8102, rtsp_url=rtsp_server.url(2))
    AnprCamera.objects.create(camera=gate).overview_cameras.add(overview)
    for camera in (gate, overview):
        MediaChannel.objects.create(camera=camera, continuous=True)
    viewer = make_user("viewer")
    viewer.cameras.add(gate, overview)

    # A read 4 s into the gate's first indexed segment, once the overview has footage then too.
    first = wait_for(lambda: Segment.objects.filter(camera=gate).order_by("start").first(), 45, message="a segment")
    at = first.start + timedelta(seconds=4)
    wait_for(
        lambda: (
            Segment.objects.filter(camera=overview, start__lte=at - timedelta(seconds=3)).exists()
            and Segment.objects.filter(camera=overview, end__gte=at + timedelta(seconds=3)).exists()
        ),
        45,
        message="overview footage around the read",
    )
    read, _ = ingest_read(
        camera=gate,
        alert=Alert(event_type="ANPR", camera_time=at, uuid="clip-1", plate="CLIP01", list_type="allowList"),
        pictures={},
        source="stream",
    )
    from accounts.services import issue_tokens

    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {issue_tokens(viewer)['token']}"
        detail = http.get(f"{live_server.url}/api/plates/reads/{read.pk}/", timeout=10).json()
        assert [c["camera"] for c in detail["clips"]] == [gate.address, overview.address]
        for clip in detail["clips"]:
            url = clip["url"] if clip["url"].startswith("http") else live_server.url + clip["url"]
            response = http.get(url, timeout=120)
            assert response.status_code == 200, response.content[:300]
            assert response.headers["Content-Type"] == "video/mp4"
            path = tmp_path / f"clip-{clip['camera'].replace(':', '-')}.mp4"
            path.write_bytes(response.content)
            info = probe(path)
            # Fast start: the moov atom before the media data, so a browser plays it before the end arrives.
            head = response.content[:4096]
            assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))
            assert info["streams"][0]["codec_name"] == "h264"
            assert info["packets"][0]["flags"].startswith("K")  # it starts on a keyframe: playable at once
            duration = float(info["format"]["duration"])
            assert 6 - 0.5 <= duration <= 6 + 1.0, duration
            # Its first picture is the recorded one within 1 s of the window's start (copy mode seeks to
            # the keyframe at or before it; 1 s GOPs here): found among the segment's decoded frames.
            camera = gate if not clip["overview"] else overview
            window_start = at - timedelta(seconds=3)
            segment = Segment.objects.filter(camera=camera, start__lte=window_start, end__gt=window_start).get()
            size = (info["streams"][0]["width"], info["streams"][0]["height"])
            first_frame = frames(path, size, count=1)[0]
            recorded = frames(Path(settings.RECORDINGS_DIR) / segment.path, size)
            fps = len(recorded) / segment.duration
            times = [i / fps for i, frame in enumerate(recorded) if frame == first_frame]
            target = (window_start - segment.start).total_seconds()
            assert times and min(abs(t - target) for t in times) <= 1.0, (times, target)
        # The same window again is the cached file (exports' cache): no second build.
        again = http.get(f"{live_server.url}/api/plates/reads/{read.pk}/clip/", timeout=10)
        assert again.status_code == 200
        assert Export.objects.filter(kind="clip").count() == 2
    # No footage at that time: 404 naming why.
    read.camera_time = at - timedelta(hours=3)
    read.save(update_fields=["camera_time"])
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {issue_tokens(viewer)['token']}"
        gone = http.get(f"{live_server.url}/api/plates/reads/{read.pk}/clip/", timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == "not_recorded"
