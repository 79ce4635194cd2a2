"""The index survives a recordings disk that is not there, and no file goes without a verdict.

An unmounted or missing root, or most indexed files gone at once, stops recording with a /health
failure naming it and keeps every index row; files missing one by one while the root is healthy
are dropped. A re-indexed file keeps the retention class it was written under. An ffprobe that
times out, crashes or is missing never deletes a segment; a broken file is quarantined.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from recordings import index, storage
from recordings.clients import ffmpeg
from recordings.models import MediaChannel, Segment
from recordings.supervisor import Supervisor
from tests.waiting import wait_for

from .conftest import SupervisorProcess
from .factories import make_sample_mp4, make_segment


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory) -> Path:
    return make_sample_mp4(tmp_path_factory.mktemp("media") / "sample.mp4")


@pytest.fixture
def indexed(db, settings, tmp_path, sample_mp4):
    """A healthy root (marker written by the supervisor's check) with four indexed real segments."""
    settings.MEDIA_RUN_DIR = tmp_path / "run"
    settings.DISK_FREE_FLOOR_BYTES = 0
    camera = CameraFactory()
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    segments = [make_segment(camera, start + timedelta(seconds=4 * i), sample=sample_mp4) for i in range(4)]
    sup = Supervisor()
    sup.check_storage()
    assert sup.fault is None and (storage.root() / storage.MARKER).is_file()
    return {"camera": camera, "segments": segments, "supervisor": sup}


def _health(live_server) -> requests.Response:
    """/health as an administrator (the checks' detail is for admins; anonymous callers get the status)."""
    from accounts.models import Role, User
    from accounts.services import issue_tokens

    admin = User.objects.filter(role=Role.ADMIN).first() or User.objects.create_user("health-admin", role=Role.ADMIN)
    anonymous = requests.get(f"{live_server.url}/health", timeout=10)
    response = requests.get(
        f"{live_server.url}/health", headers={"Authorization": f"Bearer {issue_tokens(admin)['token']}"}, timeout=10
    )
    assert anonymous.status_code == response.status_code and set(anonymous.json()) == {"status"}
    return response


def unmount(root: Path) -> Path:
    """What an unmounted disk looks like: the mount point is there, empty."""
    away = root.with_name("disk-elsewhere")
    root.rename(away)
    root.mkdir()
    return away


@pytest.mark.django_db(transaction=True)
def test_unmounted_root_keeps_the_index_and_health_says_why(indexed, live_server, admin_user):
    from accounts.services import issue_tokens

    sup = indexed["supervisor"]
    away = unmount(storage.root())
    sup.check_storage()
    assert sup.fault is not None and sup.fault.id == storage.MARKER_MISSING
    assert Segment.objects.count() == 4  # nothing dropped
    response = _health(live_server)
    assert response.status_code == 503
    assert "recordings" in response.json()["failing"]
    assert response.json()["checks"]["recordings"]["error"].startswith("recordings.E003")
    # A new recording is refused, naming why, rather than accepted onto the wrong disk.
    refused = requests.post(
        f"{live_server.url}/api/nvr/record/{indexed['camera'].address}",
        json={"duration": 60},
        headers={"Authorization": f"Bearer {issue_tokens(admin_user)['token']}"},
        timeout=10,
    )
    assert refused.status_code == 503 and refused.json()["code"] == "recordings_storage"
    assert "recordings.E003" in refused.json()["error"]
    # Mounted again: healthy, the same index, and recording may resume.
    shutil.rmtree(storage.root())
    away.rename(storage.root())
    sup.check_storage()
    assert sup.fault is None and Segment.objects.count() == 4
    assert _health(live_server).json()["checks"]["recordings"] == {"ok": True}


@pytest.mark.django_db(transaction=True)
def test_missing_root_and_a_required_mount(indexed, live_server, settings):
    sup = indexed["supervisor"]
    away = storage.root().with_name("gone")
    storage.root().rename(away)
    sup.check_storage()
    assert sup.fault.id == storage.ROOT_MISSING and Segment.objects.count() == 4
    assert not storage.root().exists()  # the check never creates it on the system disk
    assert _health(live_server).json()["checks"]["recordings"]["error"].startswith("recordings.E001")
    away.rename(storage.root())
    settings.RECORDINGS_REQUIRE_MOUNT = True  # a tmp folder is no mount point
    sup.check_storage()
    assert sup.fault.id == storage.NOT_A_MOUNT
    from recordings.checks import recordings_root

    assert [e.id for e in recordings_root(None)] == ["recordings.E002"]


@pytest.mark.django_db(transaction=True)
def test_most_files_gone_at_once_drops_nothing(indexed, live_server):
    sup = indexed["supervisor"]
    for seg in indexed["segments"][:3]:
        (storage.root() / seg.path).unlink()
    sup.reconciled = False
    sup.check_storage()
    assert sup.fault.id == storage.FILES_MISSING and Segment.objects.count() == 4
    response = _health(live_server)
    assert response.status_code == 503
    assert response.json()["checks"]["recordings"]["error"].startswith("recordings.E005")
    # The desired state is empty while the root is in doubt (nothing records).
    MediaChannel.objects.create(camera=indexed["camera"], continuous=True)
    sup.tick()
    assert not sup.channels or all(ch.proc is None for ch in sup.channels.values())
    # Deleted on purpose: the operator says so, and only then the rows go.
    with pytest.raises(CommandError):
        call_command("reconcile_recordings")
    call_command("reconcile_recordings", "--accept-missing")
    assert Segment.objects.count() == 1
    sup.check_storage()
    assert sup.fault is None
    assert _health(live_server).json()["checks"]["recordings"] == {"ok": True}


def test_a_file_missing_on_its_own_is_dropped(indexed):
    lost = indexed["segments"][0]
    (storage.root() / lost.path).unlink()
    stats = index.reconcile()
    assert stats["dropped_rows"] == 1
    assert set(Segment.objects.values_list("id", flat=True)) == {s.id for s in indexed["segments"][1:]}


def test_reindexed_file_keeps_the_class_it_was_written_under(indexed, sample_mp4):
    camera = indexed["camera"]
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    folder = storage.segment_dir(camera.id)
    written_continuous = folder / index.segment_name(start, continuous=True)
    written_for_recording = folder / index.segment_name(start + timedelta(seconds=4), continuous=False)
    shutil.copyfile(sample_mp4, written_continuous)
    shutil.copyfile(sample_mp4, written_for_recording)
    # Today's settings say the opposite of what each file was written under.
    MediaChannel.objects.create(camera=camera, continuous=True)
    stats = index.reconcile()
    assert stats["indexed"] == 2
    by_path = dict(Segment.objects.values_list("path", "continuous"))
    assert by_path[str(written_continuous.relative_to(storage.root()))] is True
    assert by_path[str(written_for_recording.relative_to(storage.root()))] is False


def test_indexing_a_continuous_segment_marks_its_file(indexed, sample_mp4):
    camera = indexed["camera"]
    start = timezone.now().replace(microsecond=0)
    path = storage.segment_dir(camera.id) / start.strftime("%Y%m%dT%H%M%SZ.mp4")  # as ffmpeg names it
    shutil.copyfile(sample_mp4, path)
    segment = index.index_segment(camera.id, path, start, 4.0, continuous=True)
    assert segment.path.endswith(".c.mp4") and segment.continuous
    assert not path.exists() and (storage.root() / segment.path).is_file()
    # Indexed again (the segment list is read again after a restart): the same row.
    assert index.index_segment(camera.id, path, start, 4.0, continuous=True).id == segment.id


def _fake_ffprobe(tmp_path: Path, body: str) -> str:
    script = tmp_path / "ffprobe"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    "ffprobe",
    ["sleep 5", "kill -SEGV $$", None],
    ids=["timeout", "crash", "missing"],
)
def test_ffprobe_without_a_verdict_never_deletes(indexed, settings, tmp_path, sample_mp4, ffprobe):
    settings.MEDIA_PROBE_TIMEOUT = 0.5
    settings.FFPROBE_BINARY = _fake_ffprobe(tmp_path, ffprobe) if ffprobe else str(tmp_path / "no-ffprobe")
    camera = indexed["camera"]
    path = storage.segment_dir(camera.id) / index.segment_name(timezone.now(), continuous=False)
    shutil.copyfile(sample_mp4, path)
    stats = index.reconcile()
    assert stats["unknown"] == 1 and stats["quarantined"] == 0
    assert path.is_file() and Segment.objects.count() == 4
    assert index.sweep_unindexed(camera.id, False) == 1 and path.is_file()
    # With a working ffprobe again, the next pass indexes it.
    settings.FFPROBE_BINARY = "ffprobe"
    assert index.reconcile()["indexed"] == 1


def test_a_broken_file_is_quarantined_not_deleted(indexed):
    camera = indexed["camera"]
    path = storage.segment_dir(camera.id) / index.segment_name(timezone.now(), continuous=False)
    path.write_bytes(b"\0" * 5000)  # the segment in progress when ffmpeg was killed: no moov atom
    stats = index.reconcile()
    assert stats["quarantined"] == 1 and not path.exists()
    assert (storage.quarantine_dir() / path.parent.name / path.name).is_file()
    assert Segment.objects.count() == 4


def test_files_of_a_camera_row_that_is_gone_stay_on_disk(indexed, sample_mp4):
    folder = storage.root() / "cam999999"
    folder.mkdir()
    orphan = folder / index.segment_name(timezone.now(), continuous=True)
    shutil.copyfile(sample_mp4, orphan)
    assert index.reconcile()["orphaned"] == 1 and orphan.is_file()


def _ffmpeg_pids(camera_id: int) -> list[int]:
    marker = f"{storage.instance_id()}/{camera_id}"
    return [pid for pid, m in ffmpeg.find_leftovers() if m == marker]


@pytest.mark.media
def test_supervisor_on_an_unmounted_root_records_nothing_drops_nothing(
    rtsp_server, media_env, sample_mp4, tmp_path, live_server
):
    """The real supervisor, a continuous camera on the real RTSP server, and its disk not mounted at start."""
    camera = CameraFactory(ip="127.0.0.1", http_port=8001, rtsp_url=rtsp_server.url(1))
    MediaChannel.objects.create(camera=camera, continuous=True)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    for i in range(3):
        make_segment(camera, start + timedelta(seconds=4 * i), sample=sample_mp4, continuous=True)
    storage.prepare_root()
    away = unmount(storage.root())
    proc = SupervisorProcess(media_env, tmp_path / "run_media.log").start()
    try:
        wait_for(lambda: "recordings storage fault" in proc.log(), 30, message="the fault in the log")
        time.sleep(3)
        assert not _ffmpeg_pids(camera.id), proc.log()
        assert Segment.objects.filter(camera=camera).count() == 3
        channel = MediaChannel.objects.get(camera=camera)
        assert channel.state == "down" and "recordings.E003" in channel.last_error
        health = _health(live_server)
        assert health.status_code == 503 and "recordings" in health.json()["failing"]
        # The disk is mounted again: recording starts within the next check, on the right disk.
        shutil.rmtree(storage.root())
        away.rename(storage.root())
        wait_for(lambda: _ffmpeg_pids(camera.id), 40, message=f"recording resumed:\n{proc.log()}")
        wait_for(lambda: Segment.objects.filter(camera=camera).count() > 3, 40, message="a new segment")
        assert Segment.objects.filter(camera=camera, continuous=True).count() == Segment.objects.count()
        assert _health(live_server).json()["checks"]["recordings"] == {"ok": True}
    finally:
        proc.stop()
        wait_for(lambda: not _ffmpeg_pids(camera.id), 15, message="ffmpeg exit")
