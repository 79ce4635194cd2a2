"""Plate reads: both verdicts, the flag, exactly-once storage and the pictures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from plates.clients.isapi_events import Alert
from plates.models import CameraPlate, CameraVerdict, OurVerdict, PlateRead, is_flagged, plate_key
from plates.services.reads import ingest_read, picture_kind

from .factories import PlateFactory

pytestmark = pytest.mark.django_db

CAMERA_TZ = timezone(timedelta(hours=-5))
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 1000 + b"\xff\xd9"


def alert(plate="ABC123", *, at=None, uuid="", list_type="allowList", **kw) -> Alert:
    at = at or datetime(2026, 6, 1, 8, 30, 0, tzinfo=CAMERA_TZ)
    return Alert(event_type="ANPR", camera_time=at, uuid=uuid, plate=plate, list_type=list_type, **kw)


def on_list(camera, number, *, list_type="allow", valid_from=None, valid_until=None, desired=True):
    plate = PlateFactory(number=number, list_type=list_type, valid_from=valid_from, valid_until=valid_until)
    CameraPlate.objects.create(camera=camera, plate=plate, desired=desired)
    return plate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("allowList", "allow"),
        ("whiteList", "allow"),
        ("blockList", "block"),
        ("blackList", "block"),
        ("otherList", "other"),
        ("vipList", "other"),
        ("", "none"),
    ],
)
def test_camera_verdict_from_list_type(raw, expected):
    assert CameraVerdict.from_list_type(raw) == expected


@pytest.mark.parametrize(
    ("camera", "ours", "flagged"),
    [
        ("allow", "allowed", False),
        ("allow", "blocked", True),
        ("allow", "expired", True),
        ("allow", "unlisted", True),
        ("block", "blocked", False),
        ("block", "allowed", True),
        ("block", "expired", True),
        ("block", "unlisted", True),
        ("other", "unlisted", False),
        ("other", "expired", False),
        ("other", "allowed", True),
        ("other", "blocked", True),
        ("none", "unlisted", False),
        ("none", "expired", False),
        ("none", "allowed", True),
        ("none", "blocked", True),
    ],
)
def test_flagged_when_verdicts_differ(camera, ours, flagged):
    assert is_flagged(camera, ours) is flagged


@pytest.mark.parametrize(
    ("setup", "list_type", "ours", "flagged"),
    [
        ({"list_type": "allow"}, "allowList", "allowed", False),
        ({"list_type": "block"}, "blackList", "blocked", False),
        ({"list_type": "block"}, "allowList", "blocked", True),
        ({"list_type": "allow", "valid_until": date(2026, 5, 31)}, "otherList", "expired", False),
        ({"list_type": "allow", "valid_until": date(2026, 5, 31)}, "allowList", "expired", True),
        ({"list_type": "allow", "valid_from": date(2026, 6, 2)}, "", "expired", False),
        ({"list_type": "allow", "valid_until": date(2026, 6, 1)}, "allowList", "allowed", False),
        ({"list_type": "allow", "desired": False}, "allowList", "unlisted", True),
        (None, "otherList", "unlisted", False),
        (None, "allowList", "unlisted", True),
        ({"list_type": "allow"}, "", "allowed", True),
    ],
)
def test_our_verdict_at_that_moment(camera, setup, list_type, ours, flagged):
    plate = on_list(camera, "ABC123", **setup) if setup is not None else None
    read, created = ingest_read(camera=camera, alert=alert(list_type=list_type), pictures={}, source="stream")
    assert created
    assert (read.our_verdict, read.flagged) == (ours, flagged)
    assert read.plate == plate


def test_validity_is_judged_on_the_camera_date(camera):
    # 23:30 at UTC-5 on 1 June is 2 June in UTC: the camera still judges it as 1 June.
    on_list(camera, "ABC123", valid_until=date(2026, 6, 1))
    late = alert(at=datetime(2026, 6, 1, 23, 30, tzinfo=CAMERA_TZ))
    read, _ = ingest_read(camera=camera, alert=late, pictures={}, source="stream")
    assert read.our_verdict == OurVerdict.ALLOWED


def test_plate_on_another_camera_only_is_unlisted_here(camera):
    from cameras.tests.factories import CameraFactory

    plate = on_list(CameraFactory(), "ABC123")
    read, _ = ingest_read(camera=camera, alert=alert(), pictures={}, source="stream")
    assert (read.plate, read.our_verdict, read.flagged) == (plate, "unlisted", True)


def test_fields_stored_as_sent(camera):
    a = alert(
        "abc-123",
        uuid="u-1",
        original_plate="ABC 123",
        confidence=97,
        direction="reverse",
        lane=2,
        vehicle={"type": "car", "color": "white", "brand": "1024"},
    )
    read, _ = ingest_read(camera=camera, alert=a, pictures={}, source="push")
    read.refresh_from_db()
    assert read.plate_as_read == "abc-123" and read.number == "ABC123" and read.plate_key == "A8C123"
    assert read.camera_utc_offset == -300
    assert read.camera_time == datetime(2026, 6, 1, 13, 30, tzinfo=UTC)
    assert (read.confidence, read.direction, read.lane, read.source) == (97, "reverse", 2, "push")
    assert read.vehicle["color"] == "white" and read.camera_list_type == "allowList"


def test_plate_key_folds_ocr_confusions():
    assert plate_key("BO1-SZ8") == plate_key("8O1S28") == "801528"
    assert plate_key("b0i5z") == "80152"


def test_same_uuid_is_stored_once_and_fills_pictures(camera):
    first, created = ingest_read(camera=camera, alert=alert(uuid="U1"), pictures={}, source="stream")
    again, created_again = ingest_read(
        camera=camera,
        alert=alert(uuid="U1", active_post_count=2),
        pictures={"licensePlatePicture.jpg": JPEG, "detectionPicture.jpg": JPEG},
        source="push",
    )
    assert created and not created_again and again.pk == first.pk
    assert PlateRead.objects.count() == 1
    again.refresh_from_db()
    assert again.plate_picture and again.scene_picture and again.picture_bytes == 2 * len(JPEG)
    assert again.source == "stream"


def test_same_uuid_at_another_time_is_still_one_read(camera):
    ingest_read(camera=camera, alert=alert(uuid="U1"), pictures={}, source="stream")
    later = alert(uuid="U1", at=datetime(2026, 6, 1, 9, 30, tzinfo=CAMERA_TZ))
    _, created = ingest_read(camera=camera, alert=later, pictures={}, source="backfill")
    assert not created and PlateRead.objects.count() == 1


def test_no_uuid_within_the_window_is_one_read(camera, settings):
    settings.READS_DEDUP_SECONDS = 5
    first, _ = ingest_read(camera=camera, alert=alert(), pictures={}, source="stream")
    near = alert("ABC 123", at=datetime(2026, 6, 1, 8, 30, 4, tzinfo=CAMERA_TZ))
    again, created = ingest_read(camera=camera, alert=near, pictures={}, source="backfill")
    assert not created and again.pk == first.pk


def test_no_uuid_outside_the_window_is_another_read(camera, settings):
    settings.READS_DEDUP_SECONDS = 5
    ingest_read(camera=camera, alert=alert(), pictures={}, source="stream")
    far = alert(at=datetime(2026, 6, 1, 8, 30, 6, tzinfo=CAMERA_TZ))
    _, created = ingest_read(camera=camera, alert=far, pictures={}, source="stream")
    assert created and PlateRead.objects.count() == 2


def test_backfill_without_uuid_then_stream_with_uuid_is_one_read(camera):
    first, _ = ingest_read(camera=camera, alert=alert(), pictures={}, source="backfill")
    again, created = ingest_read(camera=camera, alert=alert(uuid="U9"), pictures={}, source="stream")
    assert not created and again.pk == first.pk
    first.refresh_from_db()
    assert first.uuid == "U9"


def test_two_uuids_close_together_are_two_reads(camera):
    ingest_read(camera=camera, alert=alert(uuid="U1"), pictures={}, source="stream")
    _, created = ingest_read(camera=camera, alert=alert(uuid="U2"), pictures={}, source="stream")
    assert created and PlateRead.objects.count() == 2


def test_other_plate_or_camera_in_the_window_is_another_read(camera):
    from cameras.tests.factories import CameraFactory

    ingest_read(camera=camera, alert=alert(), pictures={}, source="stream")
    assert ingest_read(camera=camera, alert=alert("XYZ9"), pictures={}, source="stream")[1]
    assert ingest_read(camera=CameraFactory(), alert=alert(), pictures={}, source="stream")[1]


def test_pictures_on_disk(camera, settings):
    pictures = {"licensePlatePicture.jpg": JPEG, "detectionPicture.jpg": JPEG + b"1", "vehiclePicture.jpg": JPEG}
    read, _ = ingest_read(camera=camera, alert=alert(), pictures=pictures, source="push")
    read.refresh_from_db()
    assert (settings.READS_DIR / read.plate_picture).read_bytes() == JPEG
    assert (settings.READS_DIR / read.scene_picture).read_bytes() == JPEG + b"1"
    assert read.vehicle_picture and read.picture_bytes == 3 * len(JPEG) + 1


def test_oversize_picture_is_skipped_and_logged_the_read_kept(camera, settings, caplog):
    settings.READS_MAX_PICTURE_BYTES = 2000
    big = b"\xff\xd8" + b"x" * 3000
    read, created = ingest_read(
        camera=camera,
        alert=alert(),
        pictures={"licensePlatePicture.jpg": JPEG, "detectionPicture.jpg": big},
        source="stream",
    )
    read.refresh_from_db()
    assert created and read.plate_picture and read.scene_picture == ""
    assert "over the 2000-byte limit" in caplog.text
    assert not list(settings.READS_DIR.rglob("*scene*"))


def test_unknown_source_is_refused(camera):
    with pytest.raises(ValueError):
        ingest_read(camera=camera, alert=alert(), pictures={}, source="carrier-pigeon")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("licensePlatePicture.jpg", "plate"),
        ("detectionPicture.jpg", "scene"),
        ("vehiclePicture.jpg", "vehicle"),
        ("anpr.xml", ""),
    ],
)
def test_picture_kind(name, kind):
    assert picture_kind(name) == kind


def test_read_without_camera_time_uses_receive_time(camera):
    a = Alert(event_type="ANPR", camera_time=None, plate="ABC123")
    first, _ = ingest_read(camera=camera, alert=a, pictures={}, source="stream")
    again, created = ingest_read(camera=camera, alert=a, pictures={}, source="push")
    assert first.camera_time is None and not created and again.pk == first.pk


# --- Retention ---------------------------------------------------------------------------------


def _aged(camera, *, days: float, uuid: str) -> PlateRead:
    from django.utils import timezone as djtz

    read, _ = ingest_read(
        camera=camera,
        alert=alert(uuid=uuid, at=None),
        pictures={"licensePlatePicture.jpg": JPEG, "detectionPicture.jpg": JPEG},
        source="stream",
    )
    PlateRead.objects.filter(pk=read.pk).update(received_at=djtz.now() - timedelta(days=days))
    read.refresh_from_db()
    return read


def test_retention_deletes_old_reads_with_their_pictures(camera, settings):
    from plates.tasks import reads_retention_task

    settings.READS_RETENTION_DAYS = 30
    old, young = _aged(camera, days=31, uuid="old"), _aged(camera, days=29, uuid="young")
    old_files = [settings.READS_DIR / old.plate_picture, settings.READS_DIR / old.scene_picture]
    assert all(p.is_file() for p in old_files)
    stats = reads_retention_task()
    assert stats == {"deleted": 1, "freed": 2 * len(JPEG)}
    assert list(PlateRead.objects.values_list("uuid", flat=True)) == ["young"]
    assert not any(p.exists() for p in old_files)
    assert (settings.READS_DIR / young.plate_picture).is_file()
    assert reads_retention_task() == {"deleted": 0, "freed": 0}  # idempotent


def test_retention_keeps_pictures_under_the_byte_cap_oldest_first(camera, settings):
    from plates.services.reads import apply_reads_retention

    settings.READS_MAX_BYTES = 3 * len(JPEG)
    reads = [_aged(camera, days=d, uuid=f"r{d}") for d in (3, 2, 1)]
    assert apply_reads_retention()["freed"] == 4 * len(JPEG)  # 6 pictures: the two oldest reads' go
    after = {r.uuid: r for r in PlateRead.objects.all()}
    assert after["r3"].picture_bytes == 0 and after["r3"].plate_picture == ""
    assert after["r2"].picture_bytes == 0
    assert after["r1"].picture_bytes == 2 * len(JPEG) and PlateRead.objects.count() == 3
    assert not (settings.READS_DIR / reads[0].plate_picture).exists()
    assert apply_reads_retention() == {"deleted": 0, "freed": 0}


def test_retention_respects_the_recordings_free_space_floor(camera, settings, monkeypatch):
    from plates.services.reads import apply_reads_retention
    from recordings import storage

    _aged(camera, days=2, uuid="a")
    _aged(camera, days=1, uuid="b")
    asked = []
    # A fixed free figure (the disk is shared with other writers): one picture short of the floor.
    monkeypatch.setattr(storage, "disk_free", lambda folder=None: asked.append(folder) or 10**9)
    settings.DISK_FREE_FLOOR_BYTES = 10**9 + len(JPEG)
    stats = apply_reads_retention()
    assert stats["freed"] >= len(JPEG)
    assert PlateRead.objects.get(uuid="a").picture_bytes == 0
    assert PlateRead.objects.get(uuid="b").picture_bytes == 2 * len(JPEG)
    assert asked == [settings.READS_DIR]  # the floor of the disk the pictures are on


def test_beat_schedules_reads_retention(settings):
    from lprnvr.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["plates-reads-retention"]["task"] == "plates.reads_retention"
    app.loader.import_default_modules()
    assert "plates.reads_retention" in app.tasks


def test_check_warns_when_reads_dir_is_not_writable(settings, tmp_path, monkeypatch):
    from plates import checks

    settings.READS_DIR = tmp_path / "reads" / "not-yet"
    assert checks.reads_dir_writable(None) == []  # made on first use: its existing parent is what counts
    asked = []
    monkeypatch.setattr(checks.os, "access", lambda path, mode: asked.append(path) and False)
    problems = checks.reads_dir_writable(None)
    assert [p.id for p in problems] == [checks.READS_DIR_NOT_WRITABLE] and asked == [tmp_path]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("uuid", ["", "RACE-1"])
def test_the_same_read_from_stream_and_push_at_once_is_stored_once(camera, uuid):
    import threading

    from django.db import connection

    barrier = threading.Barrier(4)
    results = []

    def deliver(source):
        try:
            barrier.wait()
            a = alert(uuid=uuid)
            results.append(
                ingest_read(camera=camera, alert=a, pictures={"licensePlatePicture.jpg": JPEG}, source=source)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(s,)) for s in ("stream", "push", "stream", "backfill")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and PlateRead.objects.count() == 1
    assert sorted(created for _row, created in results) == [False, False, False, True]
    assert len({row.pk for row, _created in results}) == 1


def test_retention_runs_through_the_real_worker(celery_worker, camera, settings):
    from plates.tasks import reads_retention_task

    settings.READS_RETENTION_DAYS = 30
    _aged(camera, days=40, uuid="old")
    assert reads_retention_task.delay().get(timeout=30) == {"deleted": 1, "freed": 2 * len(JPEG)}
    assert not PlateRead.objects.exists()


def test_retention_drops_the_pictures_of_a_deleted_camera(camera, settings):
    from cameras.tests.factories import CameraFactory
    from plates.services.reads import apply_reads_retention

    gone = CameraFactory()
    kept = _aged(camera, days=1, uuid="kept")
    _aged(gone, days=1, uuid="gone")
    gone_id = gone.pk
    gone.delete()  # its reads go by CASCADE; their files stay until this pass
    assert (settings.READS_DIR / str(gone_id)).is_dir()
    assert apply_reads_retention()["freed"] == 2 * len(JPEG)
    assert not (settings.READS_DIR / str(gone_id)).exists()
    assert (settings.READS_DIR / kept.plate_picture).is_file()


def test_a_camera_found_to_be_anpr_gets_an_armed_source_once(camera, settings):
    from plates.models import AnprEventSource, EventMode
    from plates.services import devices

    class Detected:
        family = "A"

    device = devices.anpr_for(camera)
    assert not AnprEventSource.objects.filter(camera=camera).exists()  # not known to be ANPR yet
    devices.remember_family(device, Detected())
    source = AnprEventSource.objects.get(camera=camera)
    assert source.enabled and source.mode == EventMode.ARMING
    AnprEventSource.objects.filter(camera=camera).update(enabled=False)  # an administrator turned it off
    device.family = ""
    devices.remember_family(device, Detected())
    assert AnprEventSource.objects.get(camera=camera).enabled is False  # never turned back on

    settings.EVENTS_AUTO_ENABLE = False
    other = type(camera).objects.create(name="other", ip="127.0.0.77", http_port=80)
    devices.remember_family(devices.anpr_for(other), Detected())
    assert not AnprEventSource.objects.filter(camera=other).exists()
