"""Segments shared by recordings, retention, quota, disk full, per-user and stream limits, the ffmpeg argv."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from conftest import client_for
from lprnvr.alerts.models import Event, EventKind
from recordings import retention, services, storage
from recordings.clients import ffmpeg
from recordings.models import LiveViewer, MediaChannel, Recording, RecordingStatus, Segment

from .factories import RecordingFactory, make_segment


def _files(camera) -> set[str]:
    return {p.name for p in storage.segment_dir(camera.id).glob("*.mp4")}


@pytest.mark.django_db
def test_deleting_a_recording_keeps_video_another_recording_covers(admin_user):
    camera = CameraFactory()
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    segments = [make_segment(camera, t0 + timedelta(seconds=10 * i), seconds=10) for i in range(6)]
    first = RecordingFactory(camera=camera, start_time=t0, end_time=t0 + timedelta(seconds=30))
    second = RecordingFactory(camera=camera, start_time=t0 + timedelta(seconds=25), end_time=t0 + timedelta(seconds=45))

    response = client_for(admin_user).delete(f"/api/nvr/recordings/{first.id}")
    assert response.status_code == 200 and response.json() == {"message": "Recording deleted"}
    kept = set(Segment.objects.values_list("id", flat=True))
    # [t0, t0+20) only the first recording kept; [t0+20, t0+50) the second still covers; the rest nothing ever kept.
    assert kept == {segments[2].id, segments[3].id, segments[4].id}
    assert len(_files(camera)) == 3

    client_for(admin_user).delete(f"/api/nvr/recordings/{second.id}")
    assert not Segment.objects.exists() and not _files(camera)


@pytest.mark.django_db
def test_continuous_retention_keeps_recent_video_and_drops_old():
    camera = CameraFactory()
    MediaChannel.objects.create(camera=camera, continuous=True, retention_days=1)
    now = timezone.now().replace(microsecond=0)
    old = make_segment(camera, now - timedelta(days=2), continuous=True)
    recent = make_segment(camera, now - timedelta(hours=2), continuous=True)
    kept_by_recording = make_segment(camera, now - timedelta(days=3), continuous=True)
    RecordingFactory(camera=camera, start_time=kept_by_recording.start, end_time=kept_by_recording.end)

    retention.apply_retention([camera.id])
    assert set(Segment.objects.values_list("id", flat=True)) == {recent.id, kept_by_recording.id}
    assert not (Path(settings.RECORDINGS_DIR) / old.path).exists()

    # Turning continuous recording off stops recording, it does not throw away what retention keeps.
    MediaChannel.objects.filter(camera=camera).update(continuous=False)
    retention.apply_retention([camera.id])
    assert set(Segment.objects.values_list("id", flat=True)) == {recent.id, kept_by_recording.id}


@pytest.mark.django_db
def test_quota_drops_oldest_continuous_first_then_stops_recordings_cleanly(settings):
    camera = CameraFactory()
    MediaChannel.objects.create(camera=camera, continuous=True, retention_days=30)
    now = timezone.now().replace(microsecond=0)
    segs = [make_segment(camera, now - timedelta(minutes=10 - i), continuous=True) for i in range(5)]
    settings.RECORDINGS_QUOTA_BYTES = 3 * segs[0].size
    settings.EXPORTS_RESERVE_FRACTION = 0  # the whole quota for footage here (the reserve: test_exports)
    retention.apply_retention([camera.id])
    assert list(Segment.objects.order_by("start").values_list("id", flat=True)) == [s.id for s in segs[2:]]

    # Only recordings left and still over the quota: the running recording stops, marked disk full.
    rec = RecordingFactory(camera=camera, start_time=now - timedelta(hours=1), end_time=None)
    settings.RECORDINGS_QUOTA_BYTES = segs[0].size
    stats = retention.apply_retention([camera.id])
    assert stats["stopped_recordings"] == 1
    assert Event.objects.get(kind=EventKind.RECORDING_DISK_FULL).camera == camera  # an alert event
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.STOPPED_DISK_FULL and rec.end_time is not None
    assert rec.file_size > 0
    assert Segment.objects.count() == 3  # recorded video is never deleted to make room


@pytest.mark.django_db
def test_full_disk_refuses_new_recordings_with_507(settings, make_user):
    user = make_user("user")
    camera = CameraFactory()
    user.cameras.add(camera)
    settings.DISK_FREE_FLOOR_BYTES = 10**18
    response = client_for(user).post(f"/api/nvr/record/{camera.address}", {"duration": 60}, format="json")
    assert response.status_code == 507
    assert response.json()["code"] == "insufficient_storage"
    assert not Recording.objects.exists()


@pytest.mark.django_db
def test_max_recordings_per_user(settings, make_user):
    settings.MAX_RECORDINGS_PER_USER = 1
    user = make_user("user")
    cameras = [CameraFactory(), CameraFactory()]
    user.cameras.add(*cameras)
    client = client_for(user)
    assert client.post(f"/api/nvr/record/{cameras[0].address}", {}, format="json").status_code == 201
    response = client.post(f"/api/nvr/record/{cameras[1].address}", {"duration": 5}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "max_recordings"
    batch = client.post("/api/nvr/records/batch", {"ips": [cameras[1].address, "127.9.9.9"]}, format="json")
    assert [r["status"] for r in batch.json()["results"]] == ["error", "error"]


@pytest.mark.django_db
def test_max_streams(settings, make_user):
    settings.MAX_STREAMS = 1
    settings.MEDIA_READY_TIMEOUT = 0
    user = make_user("user")
    busy, other = CameraFactory(), CameraFactory()
    user.cameras.add(busy, other)
    LiveViewer.objects.create(camera=busy, user=make_user("admin"))
    response = client_for(user).get(f"/api/cameras/stream/{other.address}")
    assert response.status_code == 429 and response.json()["code"] == "max_streams"
    # Joining a stream already running does not count against the limit (it is 503 here: no supervisor).
    assert client_for(user).get(f"/api/cameras/stream/{busy.address}").status_code == 503


@pytest.mark.django_db
def test_bad_input_names_the_field(admin_user):
    camera = CameraFactory()
    client = client_for(admin_user)
    response = client.post(f"/api/nvr/record/{camera.address}", {"duration": "abc"}, format="json")
    assert response.status_code == 400 and "duration" in response.json()["fields"]
    response = client.get("/api/nvr/recordings", {"start_date": "yesterday"})
    assert response.status_code == 400 and "start_date" in response.json()["fields"]
    response = client.post("/api/cameras/streams/batch", {"ips": "x"}, format="json")
    assert response.status_code == 400 and "ips" in response.json()["fields"]


@pytest.mark.django_db
def test_lease_expiry_and_stats(settings, make_user):
    from recordings.selectors import media_stats
    from recordings.supervisor import desired_camera_ids

    camera = CameraFactory()
    admin, outsider = make_user("admin"), make_user("viewer")
    lease = LiveViewer.objects.create(camera=camera, user=make_user("user"))
    assert desired_camera_ids() == {camera.id}
    assert media_stats(admin)["active_streams"] == 1
    assert media_stats(outsider)["active_streams"] == 0  # counts only the cameras one may see
    LiveViewer.objects.filter(id=lease.id).update(
        last_seen=timezone.now() - timedelta(seconds=settings.STREAM_TIMEOUT + 1)
    )
    assert desired_camera_ids() == set()
    assert media_stats(admin)["active_streams"] == 0
    MediaChannel.objects.create(camera=camera, state="down", last_error="Connection refused")
    assert media_stats(admin)["media_processes"] == {"starting": 0, "running": 0, "backoff": 0, "down": 1}


def test_channel_argv_copies_video_and_fixes_only_audio(tmp_path):
    info = ffmpeg.StreamInfo(video_codec="h264", has_b_frames=True, audio_codec="pcm_mulaw")
    url = "rtsp://admin:p%40ss@127.0.0.1:554/Streaming/Channels/101"
    argv = ffmpeg.channel_argv(url, info=info, marker="x/1", segment_dir=tmp_path, hls_dir=tmp_path)
    assert argv[argv.index("-rtsp_transport") + 1] == "tcp"
    assert "-timeout" in argv and "-use_wallclock_as_timestamps" in argv
    assert argv.count("-i") == 1  # one RTSP connection
    assert argv.count("-c:v") == 2 and all(argv[i + 1] == "copy" for i, a in enumerate(argv) if a == "-c:v")
    assert "libx264" not in argv
    assert argv[argv.index("-c:a") + 1] == "aac"  # G.711 cannot go into MP4: transcoded, video untouched
    assert argv[argv.index("-hls_segment_type") + 1] == "fmp4"  # B-frames break MPEG-TS HLS
    dropped = ffmpeg.channel_argv(
        url, info=info, marker="x/1", segment_dir=tmp_path, hls_dir=tmp_path, unsupported_audio="drop"
    )
    assert "0:a:0" not in dropped
    aac = ffmpeg.StreamInfo(video_codec="h264", audio_codec="aac")
    copied = ffmpeg.channel_argv(url, info=aac, marker="x/1", segment_dir=tmp_path, hls_dir=tmp_path)
    assert copied[copied.index("-c:a") + 1] == "copy"
    shown = ffmpeg.redact_argv(argv)
    assert "p%40ss" not in shown and "admin" not in shown
    assert "s3cr3t" not in ffmpeg.redact("rtsp://127.0.0.1/user=admin&password=s3cr3t&channel=1")


def test_probe_refuses_video_mp4_cannot_hold(tmp_path):
    import subprocess

    sample = tmp_path / "mjpeg.avi"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "1",
         "-c:v", "mjpeg", str(sample)],
        check=True, timeout=60,
    )  # fmt: skip
    with pytest.raises(ffmpeg.UnsupportedStream):
        ffmpeg.probe(str(sample))


@pytest.mark.django_db
def test_hls_file_names_are_checked(camera):
    folder = storage.hls_dir(camera.id)
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_text("#EXTM3U\n")
    assert services.hls_file(camera.id, "index.m3u8") == (folder / "index.m3u8").resolve()
    for bad in ("../index.m3u8", "..", "index.m3u8/..", "a/b.m4s", "x.py", ""):
        assert services.hls_file(camera.id, bad) is None


@pytest.mark.django_db
def test_disabled_camera_is_refused_at_once(admin_user):
    camera = CameraFactory(is_active=False)
    response = client_for(admin_user).get(f"/api/cameras/stream/{camera.address}")
    assert response.status_code == 409 and response.json()["code"] == "camera_disabled"
