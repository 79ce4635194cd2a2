"""Export bounds, through real HTTP: per user at once and per hour, free space, the quota, and caches
cleaned before retention touches footage. Real ffmpeg builds the exports from real MP4 segments."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from accounts.services import issue_tokens
from cameras.tests.factories import CameraFactory
from recordings import exports, retention, storage
from recordings.models import Export, ExportStatus, MediaChannel, Segment

from .factories import make_sample_mp4, make_segment


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory) -> Path:
    return make_sample_mp4(tmp_path_factory.mktemp("media") / "sample.mp4")


@pytest.fixture
def footage(transactional_db, make_user, sample_mp4, settings, tmp_path):
    """A viewer assigned to a camera holding 40 s of real recorded video, and an HTTP session as them."""
    settings.MEDIA_RUN_DIR = tmp_path / "run"
    settings.DISK_FREE_FLOOR_BYTES = 0
    viewer = make_user("viewer")
    camera = CameraFactory(ip="127.0.0.81")
    viewer.cameras.add(camera)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    segments = [make_segment(camera, start + timedelta(seconds=4 * i), sample=sample_mp4) for i in range(10)]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {issue_tokens(viewer)['token']}"
    return {"viewer": viewer, "camera": camera, "start": start, "segments": segments, "http": http}


def _iso(t) -> str:
    return t.isoformat().replace("+00:00", "Z")


def export(live_server, footage, first: int, last: int) -> requests.Response:
    start = footage["start"]
    params = {
        "camera_ip": footage["camera"].address,
        "start": _iso(start + timedelta(seconds=4 * first)),
        "end": _iso(start + timedelta(seconds=4 * last)),
    }
    return footage["http"].get(f"{live_server.url}/api/nvr/export", params=params, timeout=60)


def test_exports_per_hour_are_bounded_and_a_cached_file_is_free(live_server, footage, settings):
    settings.EXPORTS_PER_USER_PER_HOUR = 2
    assert export(live_server, footage, 0, 2).status_code == 200
    assert export(live_server, footage, 2, 4).status_code == 200
    # The same range again is the cached file: served, not counted (players ask again to seek).
    again = export(live_server, footage, 0, 2)
    assert again.status_code == 200 and again.headers["Content-Type"] == "video/mp4"
    refused = export(live_server, footage, 4, 6)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "export_rate" and body["status"] == 429 and "last hour" in body["error"]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert Export.objects.filter(user=footage["viewer"], status=ExportStatus.DONE).count() == 2
    # An hour later the slot is free again.
    Export.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert export(live_server, footage, 4, 6).status_code == 200


def test_concurrent_exports_per_user_are_bounded(live_server, footage, settings, make_user):
    settings.EXPORTS_PER_USER_CONCURRENT = 1
    # One export of this viewer still running (what the bound counts: its row).
    Export.objects.create(user=footage["viewer"], camera=footage["camera"], start=footage["start"],
                          end=footage["start"] + timedelta(seconds=8), status=ExportStatus.RUNNING)  # fmt: skip
    refused = export(live_server, footage, 0, 2)
    assert refused.status_code == 429 and refused.json()["code"] == "export_concurrent"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another user is not held back by it.
    other = make_user("admin")
    footage["http"].headers["Authorization"] = f"Bearer {issue_tokens(other)['token']}"
    assert export(live_server, footage, 0, 2).status_code == 200


def test_export_refused_with_507_when_it_would_cross_the_free_space_floor(live_server, footage, settings, monkeypatch):
    needed = exports.estimate_bytes(
        footage["camera"].id, footage["start"], footage["start"] + timedelta(seconds=40)
    )  # fmt: skip
    # The disk held still (other programs write to the real one meanwhile): 10 GiB free.
    real = storage.disk_usage()
    free = 10 * 1024**3
    monkeypatch.setattr(storage, "disk_usage", lambda folder=None: type(real)(real.total, real.total - free, free))
    # Room for the floor now, but not for the floor plus this export.
    settings.DISK_FREE_FLOOR_BYTES = free - needed // 2
    response = export(live_server, footage, 0, 10)
    assert response.status_code == 507
    assert response.json()["code"] == "export_no_space" and response.json()["status"] == 507
    assert not list(storage.exports_dir().glob("*.mp4")) and not Export.objects.exists()


def test_exports_count_in_the_quota(live_server, footage, settings):
    segment_bytes = retention.segment_bytes()
    settings.RECORDINGS_QUOTA_BYTES = segment_bytes + segment_bytes // 2
    assert export(live_server, footage, 0, 4).status_code == 200
    built = next(storage.exports_dir().glob("range-*.mp4")).stat().st_size
    assert retention.used_bytes() == segment_bytes + built
    # The whole range would take the total past the quota: refused before ffmpeg starts.
    response = export(live_server, footage, 0, 10)
    assert response.status_code == 507 and response.json()["code"] == "export_over_quota"


def test_export_caches_go_before_any_footage(live_server, footage, settings):
    camera = footage["camera"]
    MediaChannel.objects.create(camera=camera, continuous=True, retention_days=30)
    Segment.objects.update(continuous=True)  # continuous footage, the kind quota pressure deletes
    assert export(live_server, footage, 0, 10).status_code == 200
    cache = next(storage.exports_dir().glob("range-*.mp4"))
    # Footage fits the quota less the export reserve; the export pushed the total over the quota, and
    # dropping the cache is enough to be under it again.
    settings.RECORDINGS_QUOTA_BYTES = int(retention.segment_bytes() / (1 - settings.EXPORTS_RESERVE_FRACTION)) + 10
    assert retention.excess_bytes() > 0
    stats = retention.apply_retention([camera.id])
    assert not cache.exists() and stats["caches"] == 1
    assert stats["deleted"] == 0 and Segment.objects.count() == 10
    assert all((storage.root() / s.path).exists() for s in Segment.objects.all())


def test_expired_caches_are_cleaned_and_downloads_count_too(footage, settings, make_user):
    from recordings.tests.factories import RecordingFactory

    rec = RecordingFactory(camera=footage["camera"], start_time=footage["start"],
                           end_time=footage["start"] + timedelta(seconds=8), status="completed")  # fmt: skip
    path = exports.export_recording(recording=rec, user=footage["viewer"])
    assert path.exists() and retention.cache_bytes() == path.stat().st_size
    settings.EXPORT_CACHE_SECONDS = 0
    assert exports.clean_exports() == 1 and not path.exists()
    rec.refresh_from_db()
    assert rec.file_path == ""


def test_the_concurrent_bound_holds_under_a_race(footage, settings):
    """Eight requests at once for one free slot: the user's row lock lets exactly one through."""
    import threading

    from django.db import connection

    settings.EXPORTS_PER_USER_CONCURRENT = 1
    results, barrier = [], threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            exports.claim(user=footage["viewer"], camera_id=footage["camera"].id, camera_ip="x",
                          start=footage["start"], end=footage["start"] + timedelta(seconds=4), kind="range")  # fmt: skip
            results.append("claimed")
        except exports.ExportLimit:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["claimed"] + ["refused"] * 7
