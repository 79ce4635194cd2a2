"""Exports: any time range of a camera (or a recording) as one fast-start MP4, built from its segments.

An export is a copy of recorded video on the same disk, so it is bounded like everything else that
writes there: per user (EXPORTS_PER_USER_CONCURRENT at once, EXPORTS_PER_USER_PER_HOUR built per
hour; a cached file served again costs nothing), checked against the free-space floor and the quota
before it starts (507), counted in the quota while it exists, and cleaned before retention deletes
any footage (see `retention.apply_retention`). Each build has an `Export` row: who, what, how big.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from lprnvr.errors import InsufficientStorage

from . import storage
from .clients import ffmpeg
from .models import Export, ExportStatus, Recording, RecordingStatus, Segment

log = logging.getLogger(__name__)

PART_SUFFIXES = (".part.mp4", ".txt")
EXPORT_TIMEOUT = 600.0  # seconds ffmpeg may take for one export


class ExportLimit(exceptions.Throttled):
    """429 with Retry-After: the user's export bound is reached."""

    default_code = "export_limit"


def _segments(camera_id: int, start: datetime, end: datetime):
    return Segment.objects.filter(camera_id=camera_id, end__gt=start, start__lt=end).order_by("start")


def estimate_bytes(camera_id: int, start: datetime, end: datetime) -> int:
    """An export is a stream copy: about the size of the segments it joins."""
    return _segments(camera_id, start, end).aggregate(total=Sum("size"))["total"] or 0


def check_room(needed: int) -> None:
    """507 if writing `needed` bytes would cross the free-space floor or the quota."""
    from .retention import used_bytes

    free = storage.disk_free(storage.exports_dir())
    if free - needed < settings.DISK_FREE_FLOOR_BYTES:
        raise InsufficientStorage(
            _("Not enough free disk space for this export (%(needed)d bytes needed, %(free)d free above the floor).")
            % {"needed": needed, "free": max(0, free - settings.DISK_FREE_FLOOR_BYTES)},
            code="export_no_space",
        )
    quota = settings.RECORDINGS_QUOTA_BYTES
    if quota and used_bytes() + needed > quota:
        raise InsufficientStorage(
            _("This export (%(needed)d bytes) would exceed the recordings quota.") % {"needed": needed},
            code="export_over_quota",
        )


def claim(*, user, camera_id: int | None, camera_ip: str, start: datetime, end: datetime, kind: str) -> Export:
    """Record a new export for the user, or refuse (429 with Retry-After) over their bounds.

    The user's row is locked while counting, so two requests at once cannot both take the last slot.
    """
    from accounts.models import User

    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(id=user.id).first()
        mine = Export.objects.filter(user=user)
        running = mine.filter(status=ExportStatus.RUNNING, created_at__gte=now - timedelta(seconds=EXPORT_TIMEOUT * 2))
        if running.count() >= settings.EXPORTS_PER_USER_CONCURRENT:
            raise ExportLimit(
                wait=5,
                detail=_("You already have %(n)d exports running (the maximum).")
                % {"n": settings.EXPORTS_PER_USER_CONCURRENT},
                code="export_concurrent",
            )
        hour = mine.filter(created_at__gte=now - timedelta(hours=1)).order_by("created_at")
        if hour.count() >= settings.EXPORTS_PER_USER_PER_HOUR:
            wait = (hour.first().created_at + timedelta(hours=1) - now).total_seconds()
            raise ExportLimit(
                wait=max(1.0, wait),
                detail=_("You have made %(n)d exports in the last hour (the maximum).")
                % {"n": settings.EXPORTS_PER_USER_PER_HOUR},
                code="export_rate",
            )
        return Export.objects.create(
            user=user, camera_id=camera_id, camera_ip=camera_ip, start=start, end=end, kind=kind
        )


def build(*, user, camera_id: int, camera_ip: str, start: datetime, end: datetime, output: Path, kind: str) -> Path:
    """Build an export within the user's bounds and the disk's room; FileNotFoundError if no video."""
    needed = estimate_bytes(camera_id, start, end)
    if not needed:
        raise FileNotFoundError("no recorded video in that time range")
    check_room(needed)
    row = claim(user=user, camera_id=camera_id, camera_ip=camera_ip, start=start, end=end, kind=kind)
    try:
        export(camera_id, start, end, output)
    except Exception as exc:
        Export.objects.filter(id=row.id).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    Export.objects.filter(id=row.id).update(
        status=ExportStatus.DONE, size=output.stat().st_size, finished_at=timezone.now()
    )
    return output


def export(camera_id: int, start: datetime, end: datetime, output: Path) -> float:
    """One fast-start MP4 of [start, end] from the indexed segments; returns its duration in seconds."""
    segments = list(_segments(camera_id, start, end))
    if not segments:
        raise FileNotFoundError("no recorded video in that time range")
    root = storage.root()
    output.parent.mkdir(parents=True, exist_ok=True)
    unique = uuid.uuid4().hex  # two requests for the same export must not share temporary files
    concat = output.with_suffix(f".{unique}.txt")
    concat.write_text("".join(f"file '{root / s.path}'\n" for s in segments))
    offset = max(0.0, (start - segments[0].start).total_seconds())
    duration = (min(end, segments[-1].end) - max(start, segments[0].start)).total_seconds()
    tmp = output.with_suffix(f".{unique}.part.mp4")
    try:
        ffmpeg.run_export(
            ffmpeg.export_argv(concat, tmp, start_offset=offset, duration=duration, binary=settings.FFMPEG_BINARY),
            timeout=EXPORT_TIMEOUT,
        )
        tmp.replace(output)
    finally:
        concat.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return duration


def _cached(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < settings.EXPORT_CACHE_SECONDS
    except FileNotFoundError:
        return False


def export_recording(*, recording: Recording, user) -> Path:
    """The recording as one fast-start MP4, built once from its segments (rebuilt while it still grows)."""
    end = recording.end_time or timezone.now()
    if recording.is_active:
        end = min(end, timezone.now())
    output = storage.exports_dir() / f"recording-{recording.id}.mp4"
    final = recording.status != RecordingStatus.RECORDING
    if final and recording.file_path and Path(recording.file_path).is_file():
        return Path(recording.file_path)
    build(
        user=user, camera_id=recording.camera_id, camera_ip=recording.camera_ip, start=recording.start_time,
        end=end, output=output, kind="recording",
    )  # fmt: skip
    if final:
        Recording.objects.filter(id=recording.id).update(file_path=str(output), file_size=output.stat().st_size)
    return output


def export_range(*, camera, user, start: datetime, end: datetime, kind: str = "range") -> Path:
    """Any range of a camera; the same range asked again within EXPORT_CACHE_SECONDS is the same file.
    `kind` names what asked in the Export row ("range" from the recordings page, "clip" for a plate read)."""
    output = storage.exports_dir() / f"range-{camera.id}-{int(start.timestamp())}-{int(end.timestamp())}.mp4"
    if _cached(output):
        return output
    return build(
        user=user, camera_id=camera.id, camera_ip=camera.address, start=start, end=end, output=output, kind=kind
    )


def clean_exports(*, everything: bool = False) -> int:
    """Exported MP4s are caches: drop those older than EXPORT_CACHE_SECONDS (every finished one when
    `everything`, as retention does before touching footage) and those of recordings that are gone."""
    folder = storage.exports_dir()
    Export.objects.filter(created_at__lt=timezone.now() - timedelta(days=2)).delete()
    if not folder.exists():
        return 0
    live_ids = set(Recording.objects.values_list("id", flat=True))
    removed = 0
    now = time.time()
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if path.name.endswith(PART_SUFFIXES):
            if age > EXPORT_TIMEOUT * 2:  # left by a killed worker
                path.unlink(missing_ok=True)
                removed += 1
            continue  # an export being written
        stem = path.stem.split("-")
        gone = stem[0] == "recording" and len(stem) > 1 and stem[1].isdigit() and int(stem[1]) not in live_ids
        if everything or gone or age > settings.EXPORT_CACHE_SECONDS:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        kept = [int(p.stem.split("-")[1]) for p in folder.glob("recording-*.mp4") if p.stem.split("-")[1].isdigit()]
        Recording.objects.filter(file_path__startswith=str(folder)).exclude(id__in=kept).update(file_path="")
    return removed


def drop_camera_exports(camera_id: int) -> int:
    removed = 0
    for path in storage.exports_dir().glob(f"range-{camera_id}-*.mp4"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
