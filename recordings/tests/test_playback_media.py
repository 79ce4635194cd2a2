"""Timeline and playback end to end: the real RTSP server, the real `run_media` recording 24/7 across an
outage of the camera, then the timeline and a playback played by ffmpeg over HTTP."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from conftest import client_for
from recordings import storage
from recordings.clients import ffmpeg
from recordings.models import MediaChannel, ProcessState, Segment
from tests.waiting import wait_for

pytestmark = pytest.mark.media
SEGMENT_SECONDS = 2


@pytest.fixture
def short_segments(media_env, settings):
    """Segments of 2 s (the supervisor child and this process agree), so a test sees many boundaries."""
    media_env["MEDIA_SEGMENT_SECONDS"] = str(SEGMENT_SECONDS)
    settings.MEDIA_SEGMENT_SECONDS = SEGMENT_SECONDS


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def segment_count(camera) -> int:
    return Segment.objects.filter(camera=camera).count()


def test_timeline_and_playback_across_an_outage(short_segments, rtsp_server, supervisor, make_user, live_server):
    viewer = make_user("viewer", username="tl-media-viewer")
    camera = CameraFactory(name="Gate", ip="127.0.0.1", http_port=8201, rtsp_url=rtsp_server.url(1))
    viewer.cameras.add(camera)
    MediaChannel.objects.create(camera=camera, continuous=True)
    wait_for(lambda: segment_count(camera) >= 5, 60, message=f"segments; supervisor log:\n{supervisor.log()[-3000:]}")

    # The camera goes away for a while, then comes back.
    rtsp_server.stop()
    down_at = timezone.now()
    wait_for(
        lambda: MediaChannel.objects.get(camera=camera).state in (ProcessState.BACKOFF, ProcessState.DOWN),
        30,
        message="backoff",
    )
    time.sleep(4)
    before = segment_count(camera)
    rtsp_server.start()
    up_at = timezone.now()
    wait_for(lambda: segment_count(camera) >= before + 4, 60, message="segments after the outage")
    MediaChannel.objects.filter(camera=camera).update(continuous=False)
    wait_for(lambda: MediaChannel.objects.get(camera=camera).state == ProcessState.IDLE, 30, message="stop")
    time.sleep(1.5)  # one more supervisor pass indexes the closing segment

    segments = list(Segment.objects.filter(camera=camera).order_by("start"))
    window = {"start": iso(segments[0].start - timedelta(minutes=1)), "end": iso(timezone.now())}
    response = client_for(viewer).get(f"/api/nvr/timeline/{camera.address}", window)
    assert response.status_code == 200, response.content
    body = response.json()
    spans = [(parse(s["start"]), parse(s["end"])) for s in body["spans"]]
    assert len(spans) == 2, (body["spans"], [(s.start, s.end) for s in segments])
    assert sum(s["segments"] for s in body["spans"]) == len(segments)
    assert all(s["continuous"] for s in body["spans"])
    # The hole between the spans is the outage: it holds the time the camera was away.
    assert spans[0][1] <= down_at + timedelta(seconds=1)
    assert spans[1][0] >= up_at - timedelta(seconds=1)
    hole = [parse(g["start"]) for g in body["gaps"]]
    assert spans[0][1] in hole

    # Playback from an instant 1.3 s into the third segment, on through the outage to the end.
    at = segments[2].start + timedelta(seconds=1.3)
    answer = client_for(viewer).get(f"/api/nvr/playback/{camera.address}", {"start": iso(at)}).json()
    url = live_server.url + answer["url"] if answer["url"].startswith("/") else answer["url"]
    playlist = subprocess.run(["curl", "-sf", url], capture_output=True, text=True, timeout=30, check=True).stdout
    assert playlist.count("#EXTINF") == len(segments) - 2
    assert playlist.count("#EXT-X-DISCONTINUITY") == 1
    done = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
         "-of", "json", url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    pts = [float(f["pts_time"]) for f in json.loads(done.stdout)["frames"]]
    first_date = next(x for x in playlist.splitlines() if x.startswith("#EXT-X-PROGRAM-DATE-TIME:"))
    first_wall = datetime.fromisoformat(first_date.split(":", 1)[1]) + timedelta(
        seconds=pts[0] - ffmpeg.TS_BASE_SECONDS
    )
    print(
        f"playback: first frame {(first_wall - at).total_seconds():+.3f} s from the instant asked; "
        f"{len(pts) / 25:.2f} s decoded of {answer['duration']:.2f} s listed"
    )  # README figures (pytest -s)
    # It starts at the keyframe at or before the instant: within 1 s with the double's 1 s GOP; when the
    # machine is so loaded that the live encoder stretched a GOP, within that GOP (never re-encoded).
    keys = ffmpeg.keyframe_times(storage.root() / segments[2].path, binary=settings.FFPROBE_BINARY)
    offset = (at - segments[2].start).total_seconds()
    expected = max([k for k in keys if k <= offset + 0.001], default=0.0)
    gop = max([b - a for a, b in itertools.pairwise(keys)], default=1.0)
    assert abs((first_wall - segments[2].start).total_seconds() - expected) <= 0.1, (first_wall, expected, keys)
    assert -max(1.0, gop) - 0.1 <= (first_wall - at).total_seconds() <= 0.1, (first_wall, at, keys)
    # Every boundary crossed without a stall: frames decoded for the playlist's whole duration (25 fps).
    assert abs(len(pts) / 25 - answer["duration"]) <= 1.5, (len(pts), answer["duration"])
    played = subprocess.run(
        [settings.FFMPEG_BINARY, "-nostdin", "-v", "error", "-i", url, "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr[-2000:]
