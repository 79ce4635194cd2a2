"""The index of recorded video: segment files on disk <-> `Segment` rows.

A segment's retention class is part of its file name: `<start>.mp4` was written for a recording,
`<start>.c.mp4` while the camera recorded continuously. Re-indexing a file (after a crash, or a lost
database row) reads the class from the name, never from today's camera settings.

Nothing here deletes video: a file ffprobe calls broken is moved to the quarantine folder, a file
ffprobe could not judge (timeout, crash) stays where it is for the next pass, and index rows are
dropped only for files missing one by one while the root is healthy (see `storage.root_fault`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

from . import storage
from .clients import ffmpeg
from .models import MediaChannel, Recording, RecordingStatus, Segment

log = logging.getLogger(__name__)

CONTINUOUS_SUFFIX = ".c.mp4"
NAME_FORMAT = "%Y%m%dT%H%M%SZ"


def segment_start_from_name(name: str) -> datetime | None:
    stem = name[: -len(CONTINUOUS_SUFFIX)] if name.endswith(CONTINUOUS_SUFFIX) else name.removesuffix(".mp4")
    if stem == name:
        return None
    try:
        return datetime.strptime(stem, NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def is_continuous_name(name: str) -> bool:
    """The retention class a segment file was written under, from its name."""
    return name.endswith(CONTINUOUS_SUFFIX)


def segment_name(start: datetime, *, continuous: bool) -> str:
    return start.astimezone(UTC).strftime(NAME_FORMAT) + (CONTINUOUS_SUFFIX if continuous else ".mp4")


def index_segment(
    camera_id: int, path: Path, start: datetime, duration: float, continuous: bool | None = None, *, node: str = ""
) -> Segment | None:
    """Add one complete segment to the index (idempotent) and anchor recordings waiting for video.

    A continuous segment's file is renamed to carry its class first (ffmpeg has closed it).
    """
    if continuous is None:
        continuous = is_continuous_name(path.name) or (
            MediaChannel.objects.filter(camera_id=camera_id, continuous=True).exists()
        )
    if continuous and not is_continuous_name(path.name):
        marked = path.with_name(path.name.removesuffix(".mp4") + CONTINUOUS_SUFFIX)
        try:
            path.replace(marked)
        except FileNotFoundError:
            if not marked.exists():
                return None
        path = marked
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    rel = str(path.relative_to(settings.RECORDINGS_DIR))
    segment, _ = Segment.objects.update_or_create(
        path=rel,
        defaults={
            "camera_id": camera_id,
            "start": start,
            "end": start + timedelta(seconds=duration),
            "size": size,
            "continuous": continuous,
        },
        # The node that indexed it first: re-indexing (a new owner reading the previous run's list) keeps it.
        create_defaults={
            "camera_id": camera_id,
            "start": start,
            "end": start + timedelta(seconds=duration),
            "size": size,
            "continuous": continuous,
            "node": node or settings.MEDIA_NODE_NAME,
        },
    )
    anchor_recordings(segment)
    return segment


def anchor_recordings(segment: Segment) -> None:
    """Recordings that began before their camera produced video start at its first frame instead."""
    for rec in Recording.objects.filter(camera_id=segment.camera_id, anchored=False, status=RecordingStatus.RECORDING):
        if segment.end <= rec.start_time:
            continue  # a segment from before the recording was asked for
        delta = segment.start - rec.start_time
        if delta > timedelta(0):
            rec.start_time = segment.start
            if rec.end_time is not None:
                rec.end_time += delta
        rec.anchored = True
        rec.save(update_fields=["start_time", "end_time", "anchored"])


def quarantine(path: Path) -> Path:
    """Move a file ffprobe called broken out of the camera's folder (kept RECORDINGS_QUARANTINE_DAYS)."""
    target = storage.quarantine_dir() / path.parent.name / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    log.warning("quarantined %s: ffprobe found no complete video in it", path.name)
    return target


def index_file(camera_id: int, path: Path, start: datetime, continuous: bool) -> str:
    """Index one unlisted file after ffprobe's verdict: "indexed", "quarantined" or "unknown" (kept as is)."""
    try:
        duration = ffmpeg.file_duration(path, binary=settings.FFPROBE_BINARY, timeout=settings.MEDIA_PROBE_TIMEOUT)
    except ffmpeg.ProbeUnavailable as exc:
        log.warning("%s left unindexed for the next pass: %s", path.name, exc)
        return "unknown"
    if duration is None:
        quarantine(path)  # typically the segment in progress when ffmpeg was killed
        return "quarantined"
    index_segment(camera_id, path, start, duration, continuous)
    return "indexed"


class TooManyMissing(Exception):
    """Most indexed files are gone at once: a disk problem, not a deletion; no row is dropped."""

    def __init__(self, missing: int, total: int) -> None:
        super().__init__(f"{missing} of {total} indexed segment files are missing")
        self.missing, self.total = missing, total


def missing_rows(camera_ids: list[int] | None = None) -> tuple[list[int], int]:
    """(ids of index rows whose file is missing, number of rows looked at)."""
    root = storage.root()
    rows = Segment.objects.all() if camera_ids is None else Segment.objects.filter(camera_id__in=camera_ids)
    missing, total = [], 0
    for seg_id, rel in rows.values_list("id", "path").iterator():
        total += 1
        if not (root / rel).exists():
            missing.append(seg_id)
    return missing, total


def too_many_missing(missing: int, total: int) -> bool:
    return missing >= 2 and missing > total * settings.RECORDINGS_MISSING_FRACTION


def reconcile(camera_ids: list[int] | None = None, *, accept_missing: bool = False) -> dict:
    """Make the index match the disk: drop rows of files missing one by one, index complete unlisted files.

    Call only while `storage.root_fault` finds nothing wrong. Raises TooManyMissing (dropping
    nothing) when most indexed files are gone at once, unless `accept_missing` (an operator's
    explicit `manage.py reconcile_recordings --accept-missing`).
    """
    stats = {"dropped_rows": 0, "indexed": 0, "quarantined": 0, "unknown": 0, "orphaned": 0}
    root = storage.root()
    missing, total = missing_rows(camera_ids)
    if too_many_missing(len(missing), total) and not accept_missing:
        raise TooManyMissing(len(missing), total)
    stats["dropped_rows"], _ = Segment.objects.filter(id__in=missing).delete()
    known = set(Segment.objects.values_list("path", flat=True))
    from cameras.models import Camera

    cameras = set(Camera.objects.values_list("id", flat=True))
    for folder in sorted(root.glob("cam*")) if root.exists() else []:
        try:
            camera_id = int(folder.name[3:])
        except ValueError:
            continue
        if camera_ids is not None and camera_id not in camera_ids:
            continue
        for path in sorted(folder.glob("*.mp4")):
            rel = str(path.relative_to(root))
            start = segment_start_from_name(path.name)
            if rel in known or start is None:
                continue
            if camera_id not in cameras:
                # Video of a camera row that is gone: never deleted behind anybody's back.
                stats["orphaned"] += 1
                continue
            stats[index_file(camera_id, path, start, is_continuous_name(path.name))] += 1
    if stats["orphaned"]:
        log.warning("%d segment files belong to no camera; left on disk", stats["orphaned"])
    return stats


def sweep_unindexed(camera_id: int, continuous: bool | None = None) -> int:
    """After a camera's process exited: index (or quarantine, if incomplete) segment files it left unlisted.

    ffmpeg stopped while starting can leave a file it never reported complete. `continuous`: the
    class the process wrote under (None: ask the database).
    """
    folder = storage.segment_dir(camera_id)
    files = {str(p.relative_to(settings.RECORDINGS_DIR)): p for p in folder.glob("*.mp4")} if folder.exists() else {}
    if not files:
        return 0
    known = set(Segment.objects.filter(path__in=list(files)).values_list("path", flat=True))
    if continuous is None:
        continuous = MediaChannel.objects.filter(camera_id=camera_id, continuous=True).exists()
    handled = 0
    for rel, path in files.items():
        start = segment_start_from_name(path.name)
        if rel in known or start is None:
            continue
        index_file(camera_id, path, start, continuous or is_continuous_name(path.name))
        handled += 1
    return handled
