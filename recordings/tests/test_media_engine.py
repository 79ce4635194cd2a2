"""The media engine end to end: real ffmpeg, a real RTSP server on 127.0.0.1, the real supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from cameras.tests.factories import CameraFactory
from conftest import client_for
from recordings import storage
from recordings.clients import ffmpeg
from recordings.models import MediaChannel, ProcessState, Recording, RecordingStatus, Segment
from tests.waiting import wait_for

pytestmark = pytest.mark.media
SECRET = "cam-Secret-77"


def make_camera(server, n: int = 1, **kwargs):
    # The RTSP URL override: the test server listens on 127.0.0.1 only, on a free port.
    url = server.url(n).replace("rtsp://", f"rtsp://admin:{SECRET}@")  # the server ignores credentials
    return CameraFactory(ip="127.0.0.1", http_port=8000 + n, rtsp_url=url, **kwargs)


def ffmpeg_pids(camera_id: int) -> list[int]:
    marker = f"{storage.instance_id()}/{camera_id}"
    return [pid for pid, m in ffmpeg.find_leftovers() if m == marker]


def channel_state(camera_id: int) -> MediaChannel | None:
    return MediaChannel.objects.filter(camera_id=camera_id).first()


def disk_segments(camera_id: int) -> set[str]:
    folder = storage.segment_dir(camera_id)
    return {str(p.relative_to(settings.RECORDINGS_DIR)) for p in folder.glob("*.mp4")}


def test_ten_second_recording_is_a_valid_ten_second_mp4(rtsp_server, supervisor, make_user, ffprobe_duration):
    user = make_user("user")
    camera = make_camera(rtsp_server)
    user.cameras.add(camera)
    client = client_for(user)

    response = client.post(f"/api/nvr/record/{camera.address}", {"duration": 10}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["message"] == "Recording started"
    rec_id = response.json()["recording_id"]

    status = wait_for(lambda: client.get(f"/api/nvr/status/{camera.address}").json()["is_recording"], 20, message="rec")
    assert status
    rec = wait_for(
        lambda: Recording.objects.filter(id=rec_id, status=RecordingStatus.COMPLETED).first(),
        45,
        message=f"recording completed; supervisor log:\n{supervisor.log()}",
    )
    assert 9 <= rec.duration_sec <= 11

    listed = client.get("/api/nvr/recordings", {"camera_ip": camera.address}).json()["recordings"]
    assert [r["id"] for r in listed] == [rec_id]
    assert set(listed[0]) >= {"camera_ip", "user", "start_time", "end_time", "file_path", "duration_sec", "file_size"}

    download = client.get(f"/api/nvr/recordings/{rec_id}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "video/mp4"
    body = b"".join(download.streaming_content)
    out = Path(settings.MEDIA_RUN_DIR) / "downloaded.mp4"
    out.write_bytes(body)
    assert abs(ffprobe_duration(out) - 10) <= 1
    # Fast start: the moov atom comes before the media data.
    assert body.find(b"moov") < body.find(b"mdat")

    part = client.get(f"/api/nvr/recordings/{rec_id}/download", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:200]

    # Nothing else wants the camera: its process stops, and nobody's video is left unindexed.
    wait_for(lambda: not ffmpeg_pids(camera.id), 20, message="process stop")
    wait_for(lambda: channel_state(camera.id).state == ProcessState.IDLE, 10, message="idle state")


def test_live_playlist_playable_only_to_allowed_users(rtsp_server, supervisor, make_user, live_server):
    viewer = make_user("viewer")
    stranger = make_user("user")
    camera = make_camera(rtsp_server)
    viewer.cameras.add(camera)

    response = client_for(viewer).get(f"/api/cameras/stream/{camera.address}")
    assert response.status_code == 200, (response.content, supervisor.log())
    hls_url = response.json()["hls_url"]
    assert "rtsp" not in hls_url
    # A path here (ALLOWED_HOSTS=*: the Host header is not trusted); absolute with PUBLIC_BASE_URL
    # or named ALLOWED_HOSTS (lprnvr/tests/test_deployment.py).
    assert hls_url.startswith("/api/cameras/streams/")

    anonymous = client_for(None)
    playlist = anonymous.get(hls_url)
    assert playlist.status_code == 200
    assert "no-cache" in playlist["Cache-Control"]
    text = b"".join(playlist.streaming_content).decode()
    assert "#EXTINF" in text
    base = hls_url.rsplit("/", 1)[0]
    segment = next(line for line in text.splitlines() if line.endswith(".m4s"))
    assert anonymous.get(f"{base}/init.mp4").status_code == 200
    assert anonymous.get(f"{base}/{segment}").status_code == 200

    # A player given the URL (ffprobe standing in for ffplay/VLC) plays it: over real HTTP.
    probe = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
         live_server.url + urlsplit(hls_url).path],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert probe.returncode == 0 and "h264" in probe.stdout, probe.stderr

    # The stranger: 404 on the API, 404 on the files by camera, 403 with a forged or borrowed-and-tampered link.
    as_stranger = client_for(stranger)
    assert as_stranger.get(f"/api/cameras/stream/{camera.address}").status_code == 404
    assert as_stranger.get(f"/api/cameras/streams/{camera.address}/index.m3u8").status_code == 404
    assert as_stranger.get(f"/api/cameras/streams/{camera.address}/{segment}").status_code == 404
    token = hls_url.split("/")[-2]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert anonymous.get(f"/api/cameras/streams/{forged}/index.m3u8").status_code == 403
    assert anonymous.get(f"/api/cameras/streams/{forged}/{segment}").status_code == 403
    # No path traversal, whatever the encoding.
    for bad in ("../../../etc/passwd", "..%2F..%2Fsecret_key", "sub/index.m3u8", "index.m3u8%00"):
        assert anonymous.get(f"{base}/{bad}").status_code in (400, 403, 404)
    # Once the viewer loses the camera, the link stops working.
    viewer.cameras.remove(camera)
    from django.core.cache import cache

    cache.clear()
    assert anonymous.get(hls_url).status_code == 403

    # The JWT holder's own route works for the allowed user.
    viewer.cameras.add(camera)
    assert client_for(viewer).get(f"/api/cameras/streams/{camera.address}/index.m3u8").status_code == 200


def test_resilience_ffmpeg_kill_server_restart_supervisor_kill(rtsp_server, supervisor, make_user, ffprobe_duration):
    admin = make_user("admin")
    camera = make_camera(rtsp_server)
    client = client_for(admin)
    assert client.post(f"/api/nvr/record/{camera.address}", {}, format="json").status_code == 201
    pid = wait_for(lambda: ffmpeg_pids(camera.id), 20, message="ffmpeg start")[0]
    wait_for(lambda: Segment.objects.filter(camera=camera).count() >= 1, 25, message="first segment")

    # A viewer arriving and leaving does not restart the process (no gap in the recording).
    assert client.get(f"/api/cameras/stream/{camera.address}").status_code == 200
    assert client.delete(f"/api/cameras/stream/{camera.address}").status_code == 200
    time.sleep(2)
    assert ffmpeg_pids(camera.id) == [pid]

    # 1. SIGKILL ffmpeg: the supervisor starts another; only the segment in progress is lost.
    os.kill(pid, signal.SIGKILL)
    new_pid = wait_for(lambda: [p for p in ffmpeg_pids(camera.id) if p != pid], 15, message="ffmpeg restart")[0]
    assert new_pid != pid

    # 2. The RTSP server dies: the camera backs off with its error visible, and recovers when it returns.
    rtsp_server.stop()
    wait_for(lambda: channel_state(camera.id).state in (ProcessState.BACKOFF, ProcessState.DOWN), 30, message="backoff")
    assert channel_state(camera.id).last_error
    assert SECRET not in channel_state(camera.id).last_error
    status = client.get(f"/api/nvr/status/{camera.address}").json()
    assert status["is_recording"] is True and status["process"] in ("backoff", "down")
    rtsp_server.start()
    wait_for(lambda: channel_state(camera.id).state == ProcessState.RUNNING, 30, message="running again")
    before = Segment.objects.filter(camera=camera).count()
    wait_for(lambda: Segment.objects.filter(camera=camera).count() > before, 25, message="segments after reconnect")

    # 3. SIGKILL the supervisor: its ffmpeg goes too; a new one resumes the recording and reconciles the index.
    supervisor.kill()
    wait_for(lambda: not ffmpeg_pids(camera.id), 15, message="ffmpeg to die with the supervisor")
    supervisor.start()
    wait_for(lambda: ffmpeg_pids(camera.id), 20, message="recording resumed")
    count = Segment.objects.filter(camera=camera).count()
    wait_for(lambda: Segment.objects.filter(camera=camera).count() > count, 25, message="segments after restart")

    # Stop: the index matches the disk exactly, and every indexed file is a complete MP4.
    assert client.delete(f"/api/nvr/record/{camera.address}").status_code == 200
    wait_for(lambda: not ffmpeg_pids(camera.id), 20, message="stop")
    time.sleep(1.5)  # one more supervisor pass indexes the closing segment
    indexed = set(Segment.objects.filter(camera=camera).values_list("path", flat=True))
    assert indexed == disk_segments(camera.id)
    for seg in Segment.objects.filter(camera=camera):
        assert abs(ffprobe_duration(Path(settings.RECORDINGS_DIR) / seg.path) - seg.duration) < 1.5
    rec = wait_for(lambda: Recording.objects.filter(status=RecordingStatus.COMPLETED).first(), 10, message="done")
    assert rec.duration_sec > 20
    # The camera's password never reached a log.
    assert SECRET not in supervisor.log()
    assert SECRET not in Path(settings.MEDIA_RUN_DIR, "logs", f"cam{camera.id}.log").read_text()


def test_live_only_keeps_no_recording_files_and_stops_after_release(rtsp_server, supervisor, make_user):
    user = make_user("user")
    camera = make_camera(rtsp_server)
    user.cameras.add(camera)
    client = client_for(user)
    assert client.get(f"/api/cameras/stream/{camera.address}").status_code == 200
    assert client.get("/stats").json()["active_streams"] == 1
    # Editing the camera (URL, credentials) restarts its process with the new settings.
    pid = wait_for(lambda: ffmpeg_pids(camera.id), 10, message="ffmpeg")[0]
    camera.name = "renamed"
    camera.save()
    wait_for(lambda: [p for p in ffmpeg_pids(camera.id) if p != pid], 20, message="restart after edit")
    assert client.get(f"/api/cameras/stream/{camera.address}").status_code == 200
    assert client.delete(f"/api/cameras/stream/{camera.address}").status_code == 200
    wait_for(lambda: not ffmpeg_pids(camera.id), 15, message="stop after last viewer")
    time.sleep(1)
    assert Segment.objects.filter(camera=camera).count() == 0
    assert disk_segments(camera.id) == set()
    assert not storage.hls_dir(camera.id).exists() or not any(storage.hls_dir(camera.id).iterdir())


def test_continuous_recording_needs_no_viewer_or_recording(rtsp_server, supervisor, make_user):
    admin = make_user("admin")
    camera = make_camera(rtsp_server)
    client = client_for(admin)
    response = client.put(
        f"/api/nvr/continuous/{camera.address}", {"continuous": True, "retention_days": 2}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"continuous": True, "retention_days": 2}
    wait_for(lambda: ffmpeg_pids(camera.id), 20, message="continuous start")
    wait_for(lambda: Segment.objects.filter(camera=camera, continuous=True).exists(), 25, message="continuous segment")
    assert client.get(f"/api/nvr/status/{camera.address}").json()["continuous"] is True
    client.put(f"/api/nvr/continuous/{camera.address}", {"continuous": False}, format="json")
    wait_for(lambda: not ffmpeg_pids(camera.id), 20, message="stop")
    time.sleep(1)
    # The footage stays for its retention days, indexed and on disk.
    assert Segment.objects.filter(camera=camera).exists()
    assert set(Segment.objects.filter(camera=camera).values_list("path", flat=True)) == disk_segments(camera.id)


def test_disk_full_stops_running_recordings_cleanly(rtsp_server, supervisor, media_env, make_user, tmp_path):
    from .conftest import SupervisorProcess

    admin = make_user("admin")
    camera = make_camera(rtsp_server)
    client = client_for(admin)
    response = client.post(f"/api/nvr/record/{camera.address}", {"duration": 600}, format="json")
    assert response.status_code == 201
    wait_for(lambda: Segment.objects.filter(camera=camera).exists(), 25, message="first segment")
    # The disk fills up: a supervisor that sees it under its free-space floor takes over.
    supervisor.stop()
    full = SupervisorProcess({**media_env, "DISK_FREE_FLOOR_BYTES": str(10**18)}, tmp_path / "full.log").start()
    try:
        rec = wait_for(
            lambda: Recording.objects.filter(status=RecordingStatus.STOPPED_DISK_FULL).first(), 30, message="disk full"
        )
        assert rec.stopped_reason == "disk full" and rec.end_time is not None
        assert rec.file_size > 0 and rec.duration_sec > 0  # what was recorded is kept
        wait_for(lambda: not ffmpeg_pids(camera.id), 20, message="process stop")
        time.sleep(1.5)  # one more pass indexes (or drops) what the stopped process closed
        assert set(Segment.objects.filter(camera=camera).values_list("path", flat=True)) == disk_segments(camera.id)
        # And the API refuses new recordings while the disk is full.
        from django.test import override_settings

        with override_settings(DISK_FREE_FLOOR_BYTES=10**18):
            assert client.post(f"/api/nvr/record/{camera.address}", {}, format="json").status_code == 507
    finally:
        full.stop()
