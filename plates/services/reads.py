"""Plate reads: store each read the cameras send exactly once, with its pictures and both verdicts.

The event listener (`manage.py run_events`) parses what a camera sends and calls `ingest_read` for
every ANPR alert, whichever door it came through (alert stream, camera push, backfill): the same read
arriving twice (`activePostCount` > 1, stream and push both, backfill overlapping the stream) is one row.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, OuterRef, Q, Sum, When
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts import services as alerts

from ..clients.isapi import normalise_plate
from ..clients.isapi_events import Alert
from ..models import (
    CameraPlate,
    CameraVerdict,
    OurVerdict,
    Plate,
    PlateRead,
    ReadSource,
    is_flagged,
    plate_key,
)

log = logging.getLogger(__name__)

#: Which picture a multipart part holds, by words in its name (firmware names vary in case and suffix).
PICTURE_PARTS = (("licenseplate", "plate"), ("plate", "plate"), ("detection", "scene"), ("scene", "scene"))
PICTURE_PARTS += (("vehicle", "vehicle"),)


def picture_kind(part_name: str) -> str:
    """`plate`, `scene` or `vehicle` for a picture part's name; "" for one we do not keep."""
    name = part_name.lower()
    for word, kind in PICTURE_PARTS:
        if word in name:
            return kind
    return ""


def our_verdict(*, camera: Camera, number: str, day: date) -> tuple[Plate | None, str]:
    """Our lists' verdict on `number` at `camera` on `day` (the camera's own date: it judges validity
    on its clock), with the matching plate of our lists (None when we have none by that number).
    One query: the plate and whether `camera`'s desired list holds it."""
    if not number:
        return None, OurVerdict.UNLISTED
    on_camera = CameraPlate.objects.filter(camera=camera, plate=OuterRef("pk"), desired=True)
    plate = Plate.objects.filter(number=number).annotate(on_camera=Exists(on_camera)).first()
    if plate is None:
        return None, OurVerdict.UNLISTED
    if not plate.on_camera or plate.delete_requested:
        return plate, OurVerdict.UNLISTED
    if not plate.is_valid_on(day):
        return plate, OurVerdict.EXPIRED
    return plate, OurVerdict.BLOCKED if plate.list_type == "block" else OurVerdict.ALLOWED


def reads_dir() -> Path:
    return Path(settings.READS_DIR)


def picture_file(read: PlateRead, kind: str) -> Path | None:
    """The picture's file on disk, or None when the read has none of that kind (or it is gone)."""
    relative = read.picture_path(kind)
    if not relative:
        return None
    path = reads_dir() / relative
    return path if path.is_file() else None


def _save_pictures(read: PlateRead, pictures: dict[str, bytes]) -> tuple[list[str], list[Path]]:
    """Write the pictures the read lacks and set their fields (not saved); returns (fields changed,
    files written). Oversize pictures are skipped. The names need no row id, so a new read's pictures
    go to disk before its one INSERT, and a repeat's before its one UPDATE."""
    changed: list[str] = []
    written: list[Path] = []
    limit = settings.READS_MAX_PICTURE_BYTES
    day = read.received_at.astimezone(timezone.get_current_timezone())
    token = secrets.token_hex(6)  # unique per store call: a repeat never overwrites the first's files
    for part_name, data in pictures.items():
        kind = picture_kind(part_name)
        field = f"{kind}_picture"
        if not kind or getattr(read, field) or field in changed or not data:
            continue
        if len(data) > limit:
            log.warning(
                "plate read on camera %s: picture %r skipped, %d bytes over the %d-byte limit",
                read.camera_id,
                part_name[:80],
                len(data),
                limit,
            )
            continue
        relative = f"{read.camera_id}/{day:%Y-%m-%d}/{day:%H%M%S}-{token}-{kind}.jpg"
        path = reads_dir() / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # never a half-written picture under its final name
        written.append(path)
        setattr(read, field, relative)
        read.picture_bytes += len(data)
        changed.append(field)
    if changed:
        changed.append("picture_bytes")
    return changed, written


def _lock(camera: Camera, number: str) -> None:
    """Serialise ingestion of one plate on one camera (stream and push may bring it at the same time)."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"plate-read:{camera.pk}:{number}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def find_repeat(*, camera: Camera, uuid: str, number: str, when: datetime, timed_by_camera: bool) -> PlateRead | None:
    """The stored read this one repeats: the same camera UUID; else (one of the two has no UUID) the
    same plate on the same camera within READS_DEDUP_SECONDS. One query, the UUID match first."""
    window = timedelta(seconds=settings.READS_DEDUP_SECONDS)
    field = "camera_time" if timed_by_camera else "received_at"
    near = Q(number=number, **{f"{field}__range": (when - window, when + window)})
    if not uuid:
        return PlateRead.objects.filter(near, camera=camera).order_by("id").first()
    # Two different UUIDs are two reads, however close: only a UUID-less read repeats by time.
    reads = PlateRead.objects.filter(Q(uuid=uuid) | (near & Q(uuid="")), camera=camera)
    return reads.order_by(Case(When(uuid=uuid, then=0), default=1), "id").first()


def ingest_read(*, camera: Camera, alert: Alert, pictures: dict[str, bytes], source: str) -> tuple[PlateRead, bool]:
    """Store one read exactly once; returns (row, created). source: "stream" | "push" | "backfill".

    A repeat returns the stored row (created False) after filling the pictures it lacked and the
    camera UUID when only the repeat carried it. A picture over READS_MAX_PICTURE_BYTES is skipped
    and logged; the read is still stored. A new read costs one lock, one repeat query, one verdict
    query and one INSERT.
    """
    if source not in ReadSource.values:
        raise ValueError(f"unknown read source {source!r}")
    number = normalise_plate(alert.plate or "")[:64]
    uuid = (alert.uuid or "").strip()[:64]
    received = timezone.now()
    camera_time = alert.camera_time
    if camera_time is not None and timezone.is_naive(camera_time):
        camera_time = None  # a time without its offset cannot be placed: the receive time stands in
    written: list[Path] = []
    try:
        with transaction.atomic():
            _lock(camera, number)
            existing = find_repeat(
                camera=camera,
                uuid=uuid,
                number=number,
                when=camera_time or received,
                timed_by_camera=camera_time is not None,
            )
            if existing is not None:
                changed, written = _save_pictures(existing, pictures)
                if uuid and not existing.uuid:
                    existing.uuid = uuid
                    changed.append("uuid")
                if changed:
                    existing.save(update_fields=changed)
                return existing, False
            read = _new_read(camera, alert, source, number, uuid, camera_time, received)
            _changed, written = _save_pictures(read, pictures)
            read.save(force_insert=True)
            alerts.read_stored(read)  # no query unless a rule watches plates; the rules run on the notify queue
            return read, True
    except IntegrityError:
        for path in written:  # the row that named them was not stored
            path.unlink(missing_ok=True)
        # The same UUID stored meanwhile under another plate spelling (the lock is per plate).
        if not uuid:
            raise
        return PlateRead.objects.get(camera=camera, uuid=uuid), False
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _new_read(camera, alert, source, number, uuid, camera_time, received) -> PlateRead:
    """The row for a new read, both verdicts judged, not saved yet."""
    offset = camera_time.utcoffset() if camera_time is not None else None
    day = camera_time.date() if camera_time is not None else timezone.localdate(received)
    plate, ours = our_verdict(camera=camera, number=number, day=day)
    theirs = CameraVerdict.from_list_type(alert.list_type)
    return PlateRead(
        camera=camera,
        camera_time=camera_time,
        camera_utc_offset=int(offset.total_seconds() // 60) if offset is not None else None,
        received_at=received,
        plate_as_read=(alert.plate or "")[:64],
        number=number,
        plate_key=plate_key(number)[:64],
        original_plate=(alert.original_plate or "")[:64],
        confidence=alert.confidence if alert.confidence is not None and 0 <= alert.confidence <= 32767 else None,
        direction=(alert.direction or "")[:16],
        lane=alert.lane if alert.lane is not None and 0 <= alert.lane <= 32767 else None,
        camera_list_type=(alert.list_type or "")[:32],
        camera_verdict=theirs,
        vehicle=dict(alert.vehicle or {}),
        plate=plate,
        our_verdict=ours,
        flagged=is_flagged(theirs, ours),
        source=source,
        uuid=uuid,
    )


def _drop_pictures(read: PlateRead) -> int:
    """Delete a read's picture files (the row stays); returns the bytes freed."""
    for kind in PlateRead.PICTURE_KINDS:
        relative = read.picture_path(kind)
        if relative:
            (reads_dir() / relative).unlink(missing_ok=True)
            setattr(read, f"{kind}_picture", "")
    freed, read.picture_bytes = read.picture_bytes, 0
    return freed


def _oldest_pictures(needed: int) -> int:
    """Drop the pictures of the oldest reads until `needed` bytes are freed; returns the bytes freed."""
    freed = 0
    while freed < needed:
        batch = list(PlateRead.objects.filter(picture_bytes__gt=0).order_by("received_at", "id")[:200])
        if not batch:
            break
        for read in batch:
            if freed >= needed:
                break
            freed += _drop_pictures(read)
            read.save(update_fields=[f"{k}_picture" for k in PlateRead.PICTURE_KINDS] + ["picture_bytes"])
    return freed


def delete_camera_reads(*, camera_id: int) -> int:
    """Every plate read of a camera and its pictures (deleting the camera with its footage: an explicit
    choice, never a side effect); returns the reads deleted."""
    deleted, _by_model = PlateRead.objects.filter(camera_id=camera_id).delete()
    shutil.rmtree(reads_dir() / str(camera_id), ignore_errors=True)
    return deleted


def _drop_orphan_folders() -> int:
    """The picture folders of cameras deleted since (their reads went with them, by CASCADE)."""
    root = reads_dir()
    if not root.is_dir():
        return 0
    names = {p.name: p for p in root.iterdir() if p.is_dir() and p.name.isascii() and p.name.isdigit()}
    live = {str(pk) for pk in Camera.objects.filter(pk__in=[int(n) for n in names]).values_list("pk", flat=True)}
    freed = 0
    for name, folder in names.items():
        if name in live:
            continue
        for path in folder.rglob("*"):
            if path.is_file():
                freed += path.stat().st_size
        shutil.rmtree(folder, ignore_errors=True)
    return freed


def apply_reads_retention(*, now: datetime | None = None) -> dict:
    """Reads older than READS_RETENTION_DAYS go with their pictures; then, oldest first, pictures go
    (the rows stay: a read is a few hundred bytes) until they are under READS_MAX_BYTES and the disk
    is above the free-space floor the recordings keep. Idempotent: a second pass finds nothing."""
    from recordings.retention import floor_shortfall

    now = now or timezone.now()
    stats = {"deleted": 0, "freed": 0}
    cutoff = now - timedelta(days=settings.READS_RETENTION_DAYS)
    while True:
        old = list(PlateRead.objects.filter(received_at__lt=cutoff).order_by("received_at", "id")[:500])
        if not old:
            break
        for read in old:
            stats["freed"] += _drop_pictures(read)
        PlateRead.objects.filter(pk__in=[r.pk for r in old]).delete()
        stats["deleted"] += len(old)
    if settings.READS_MAX_BYTES:
        total = PlateRead.objects.aggregate(total=Sum("picture_bytes"))["total"] or 0
        stats["freed"] += _oldest_pictures(total - settings.READS_MAX_BYTES)
    stats["freed"] += _drop_orphan_folders()
    shortfall = floor_shortfall(reads_dir())
    if shortfall > 0:
        stats["freed"] += _oldest_pictures(shortfall)
    if stats["deleted"] or stats["freed"]:
        log.info("plate reads retention: %(deleted)d reads deleted, %(freed)d picture bytes freed", stats)
    return stats


# --- The video at that moment ----------------------------------------------------------------------


def clip_cameras(read: PlateRead) -> list[Camera]:
    """The cameras whose footage belongs to a read: its ANPR camera, then the gate's overview cameras."""
    overview = Camera.objects.filter(overview_of__camera_id=read.camera_id).order_by("ip", "http_port", "channel")
    return [read.camera, *[c for c in overview if c.pk != read.camera_id]]


def clip_window(read: PlateRead) -> tuple[datetime, datetime]:
    """READS_CLIP_BEFORE seconds before the read to READS_CLIP_AFTER after it (the camera's time when
    it sent one: a backfilled read arrives late, its time does not)."""
    at = read.read_at
    return at - timedelta(seconds=settings.READS_CLIP_BEFORE), at + timedelta(seconds=settings.READS_CLIP_AFTER)


def clip_for_read(*, read: PlateRead, camera: Camera, user) -> Path:
    """The read's clip from `camera` (one of `clip_cameras(read)`): an export of the recorded segments
    around it, bounded and cached as every export is (recordings.exports). FileNotFoundError when
    nothing was recorded then; the export's own 429/507 when the user's bound or the disk says no."""
    from recordings import exports

    start, end = clip_window(read)
    return exports.export_range(camera=camera, user=user, start=start, end=end, kind="clip")
