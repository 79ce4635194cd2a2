"""Playback from an instant: the signed VOD playlist over real segment files, played by ffmpeg/ffprobe
over HTTP as given (no headers), across segment boundaries and a hole."""

from __future__ import annotations

import itertools
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings

from cameras.tests.factories import CameraFactory
from conftest import client_for
from recordings import playback
from recordings.clients import ffmpeg

from .factories import make_sample_mp4, make_segment

T0 = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return make_sample_mp4(tmp_path_factory.mktemp("vod") / "sample.mp4", seconds=4)  # a keyframe every 1 s


@pytest.fixture
def footage(sample, make_user):
    """Segments 0-12 s, a hole 12-20 s, segments 20-28 s; a user who may see the camera."""
    camera = CameraFactory(name="Gate", ip="127.0.0.91")
    for s in (0, 4, 8, 20, 24):
        make_segment(camera, T0 + timedelta(seconds=s), seconds=4, sample=sample, continuous=True)
    user = make_user("user", username="vod-user")
    user.cameras.add(camera)
    return camera, user


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def ask(user, camera, at: datetime):
    return client_for(user).get(f"/api/nvr/playback/{camera.address}", {"start": iso(at)})


def frames(url: str) -> list[float]:
    """Presentation times of every decoded video frame of a playlist URL."""
    done = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
         "-of", "json", url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [float(f["pts_time"]) for f in json.loads(done.stdout)["frames"]]


def program_date_time(playlist: str) -> datetime:
    line = next(x for x in playlist.splitlines() if x.startswith("#EXT-X-PROGRAM-DATE-TIME:"))
    return datetime.fromisoformat(line.split(":", 1)[1])


@pytest.mark.django_db(transaction=True)
def test_playback_starts_within_a_second_and_plays_across_segments_and_the_hole(footage, live_server):
    camera, user = footage
    at = T0 + timedelta(seconds=5.5)  # 1.5 s into the second segment: its keyframe at 5.0 s
    response = ask(user, camera, at)
    assert response.status_code == 200, response.content
    body = response.json()
    url = live_server.url + body["url"]
    assert datetime.fromisoformat(body["first_frame"]) == T0 + timedelta(seconds=5)
    assert datetime.fromisoformat(body["plays_from"]) == at

    playlist = requests.get(url, timeout=10)  # no headers: the token is the credential
    assert playlist.status_code == 200
    text = playlist.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#EXT-X-START:TIME-OFFSET=0.500,PRECISE=YES" in text
    assert text.count("#EXTINF") == 4 and text.count("#EXT-X-DISCONTINUITY") == 1

    # The first frame ffprobe decodes, in wall-clock time: the playlist's date plus its pts.
    pts = frames(url)
    first_wall = program_date_time(text) + timedelta(seconds=pts[0] - ffmpeg.TS_BASE_SECONDS)
    assert abs((first_wall - at).total_seconds()) <= 1
    # 3 s of the second segment, the third, then (after the hole) two more: 15 s at 25 fps.
    assert abs(len(pts) - 15 * 25) <= 3
    assert all(b > a for a, b in itertools.pairwise(pts))  # no step back at any boundary

    # ffmpeg plays it through (three segment boundaries, one of them the hole) and decodes it all.
    done = subprocess.run(
        [settings.FFMPEG_BINARY, "-nostdin", "-v", "error", "-i", url, "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error" not in done.stderr.lower(), done.stderr[-2000:]


@pytest.mark.django_db(transaction=True)
def test_an_instant_in_a_hole_plays_from_the_next_recorded_moment(footage, live_server):
    camera, user = footage
    body = ask(user, camera, T0 + timedelta(seconds=15)).json()
    assert datetime.fromisoformat(body["plays_from"]) == T0 + timedelta(seconds=20)
    text = requests.get(live_server.url + body["url"], timeout=10).text
    assert "#EXT-X-START" not in text and text.count("#EXTINF") == 2


def test_no_video_from_then_on_is_a_404_in_words(footage):
    camera, user = footage
    response = ask(user, camera, T0 + timedelta(hours=1))
    assert response.status_code == 404
    assert response.json()["error"]


@pytest.mark.parametrize("params", [{}, {"start": "soon"}, {"start": "2026-02-30T10:00:00Z"}])
def test_a_bad_start_is_a_400_naming_it(footage, params):
    camera, user = footage
    response = client_for(user).get(f"/api/nvr/playback/{camera.address}", params)
    assert response.status_code == 400
    assert "start" in response.json()["fields"]


def test_playback_files_are_refused_to_others_and_after_the_user_loses_the_camera(footage, make_user):
    from django.core.cache import cache

    camera, user = footage
    url = ask(user, camera, T0 + timedelta(seconds=1)).json()["url"]
    anonymous = client_for(None)
    assert anonymous.get(url).status_code == 200
    segment = next(x for x in anonymous.get(url).content.decode().splitlines() if x.endswith(".ts"))
    base = url.rsplit("/", 1)[0]
    assert anonymous.get(f"{base}/{segment}")["Content-Type"] == "video/mp2t"
    # A name that is no segment of this camera, a forged or foreign token: refused.
    other = CameraFactory(ip="127.0.0.92")
    foreign = make_segment(other, T0, seconds=4)
    assert anonymous.get(f"{base}/{foreign.id}_0_0.ts").status_code == 404
    assert anonymous.get(f"{base}/../../x.ts").status_code == 404
    assert anonymous.get(url.replace("/vod/", "/vod/x")).status_code == 403
    outsider = make_user("viewer", username="vod-outsider")
    token = playback.signed_token(camera_id=camera.id, user=outsider, start=T0)
    assert anonymous.get(f"/api/nvr/vod/{token}/index.m3u8").status_code == 403
    # The user loses the camera: the URL handed out before stops working.
    user.cameras.remove(camera)
    cache.clear()
    assert anonymous.get(url).status_code == 403
    assert anonymous.get(f"{base}/{segment}").status_code == 403
    # ... and the playback endpoint does not tell that the camera exists.
    assert ask(user, camera, T0).status_code == 404


def test_playback_urls_expire(footage, settings):
    import time

    camera, user = footage
    url = ask(user, camera, T0).json()["url"]
    settings.PLAYBACK_URL_TTL = 0
    time.sleep(1.1)
    assert client_for(None).get(url).status_code == 403
