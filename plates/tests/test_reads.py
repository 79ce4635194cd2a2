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
