"""Recorded video on disk: where segments live, the index, retention, quota, and exports.

Segments belong to cameras, not to recordings: a recording is a span of time that keeps the
segments it overlaps. A segment goes away only when no recording overlaps it and continuous
retention no longer covers it; over the quota or under the free-space floor, continuous footage
goes oldest first, and if only recordings remain, recordings stop (disk full).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from .clients import ffmpeg
from .models import MediaChannel, Recording, RecordingStatus, Segment

log = logging.getLogger(__name__)


def segment_dir(camera_id: int) -> Path:
    return Path(settings.RECORDINGS_DIR) / f"cam{camera_id}"


def hls_dir(camera_id: int) -> Path:
    return Path(settings.HLS_OUTPUT_DIR) / f"cam{camera_id}"


def exports_dir() -> Path:
    return Path(settings.MEDIA_RUN_DIR) / "exports"


def instance_id() -> str:
    """Identifies this installation's children among processes (tests and benchmarks run side by side)."""
    return hashlib.sha1(str(Path(settings.RECORDINGS_DIR).resolve()).encode()).hexdigest()[:10]  # noqa: S324


def segment_start_from_name(name: str) -> datetime | None:
    try:
        return datetime.strptime(name, "%Y%m%dT%H%M%SZ.mp4").replace(tzinfo=UTC)
    except ValueError:
        return None


def index_segment(
    camera_id: int, path: Path, start: datetime, duration: float, continuous: bool | None = None
) -> Segment | None:
    """Add one complete segment to the index (idempotent) and anchor recordings waiting for video."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    rel = str(path.relative_to(settings.RECORDINGS_DIR))
    if continuous is None:
        continuous = MediaChannel.objects.filter(camera_id=camera_id, continuous=True).exists()
    segment, _ = Segment.objects.update_or_create(
        path=rel,
        defaults={
            "camera_id": camera_id,
            "start": start,
            "end": start + timedelta(seconds=duration),
            "size": size,
            "continuous": continuous,
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


def reconcile(camera_ids: list[int] | None = None) -> dict:
    """Make the index match the disk: drop rows whose file is gone, index complete files, delete broken ones."""
    stats = {"dropped_rows": 0, "indexed": 0, "deleted_files": 0}
    root = Path(settings.RECORDINGS_DIR)
    rows = Segment.objects.all() if camera_ids is None else Segment.objects.filter(camera_id__in=camera_ids)
    known = set()
    for seg_id, rel in rows.values_list("id", "path"):
        if (root / rel).exists():
            known.add(rel)
        else:
            Segment.objects.filter(id=seg_id).delete()
            stats["dropped_rows"] += 1
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
            duration = ffmpeg.file_duration(path, binary=settings.FFPROBE_BINARY)
            if duration and duration > 0 and _camera_exists(camera_id):
                index_segment(camera_id, path, start, duration)
                stats["indexed"] += 1
            else:
                path.unlink(missing_ok=True)  # the segment in progress when ffmpeg was killed
                stats["deleted_files"] += 1
    return stats


def sweep_unindexed(camera_id: int, continuous: bool | None = None) -> int:
    """After a camera's process exited: index (or delete, if incomplete) segment files it left unlisted.

    ffmpeg stopped while starting can leave a file it never reported complete.
    """
    folder = segment_dir(camera_id)
    files = {str(p.relative_to(settings.RECORDINGS_DIR)): p for p in folder.glob("*.mp4")} if folder.exists() else {}
    if not files:
        return 0
    known = set(Segment.objects.filter(path__in=list(files)).values_list("path", flat=True))
    handled = 0
    for rel, path in files.items():
        start = segment_start_from_name(path.name)
        if rel in known or start is None:
            continue
        duration = ffmpeg.file_duration(path, binary=settings.FFPROBE_BINARY)
        if duration and duration > 0:
            index_segment(camera_id, path, start, duration, continuous)
        else:
            path.unlink(missing_ok=True)
        handled += 1
    return handled


def _camera_exists(camera_id: int) -> bool:
    from cameras.models import Camera

    return Camera.objects.filter(id=camera_id).exists()


def _delete_segments(segments) -> int:
    freed = 0
    root = Path(settings.RECORDINGS_DIR)
    for seg in segments:
        (root / seg.path).unlink(missing_ok=True)
        freed += seg.size
        seg.delete()
    return freed


def uncovered_segments(camera_id: int, *, now: datetime | None = None, keep_continuous: bool = True):
    """Segments of a camera that no recording overlaps and (if asked) continuous retention does not cover."""
    now = now or timezone.now()
    segments = Segment.objects.filter(camera_id=camera_id)
    if keep_continuous:
        channel = MediaChannel.objects.filter(camera_id=camera_id).first()
        days = channel.retention_days if channel else MediaChannel._meta.get_field("retention_days").default
        segments = segments.exclude(continuous=True, end__gte=now - timedelta(days=days))
    recs = Recording.objects.filter(camera_id=camera_id).values_list("start_time", "end_time")
    for start, end in recs:
        overlap = Q(end__gt=start) if end is None else Q(end__gt=start, start__lt=end)
        segments = segments.exclude(overlap)
    return segments.order_by("start")


def disk_free() -> int:
    root = Path(settings.RECORDINGS_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(root).free


def used_bytes() -> int:
    return Segment.objects.aggregate(total=Sum("size"))["total"] or 0


def _excess_bytes() -> int:
    """How many bytes must go to be under the quota and above the free-space floor (<= 0: none)."""
    quota = settings.RECORDINGS_QUOTA_BYTES
    over_quota = used_bytes() - quota if quota else 0
    return max(over_quota, settings.DISK_FREE_FLOOR_BYTES - disk_free())


def _over_limits() -> bool:
    return _excess_bytes() > 0


def can_accept_recording() -> bool:
    """Room for a new recording: over the floor and under the quota once continuous footage could go."""
    if disk_free() < settings.DISK_FREE_FLOOR_BYTES:
        return False
    quota = settings.RECORDINGS_QUOTA_BYTES
    if not quota:
        return True
    kept = Segment.objects.filter(
        id__in=[s.id for r in Recording.objects.all() for s in Segment.objects.filter(_overlap_q(r))]
    )
    return (kept.aggregate(total=Sum("size"))["total"] or 0) < quota


def _overlap_q(rec: Recording) -> Q:
    q = Q(camera_id=rec.camera_id, end__gt=rec.start_time)
    return q if rec.end_time is None else q & Q(start__lt=rec.end_time)


def apply_retention(camera_ids: list[int]) -> dict:
    """Delete what nothing keeps, then oldest continuous footage while over the limits; stop recordings
    cleanly if only recordings are left and the disk still cannot take more."""
    stats = {"deleted": 0, "freed": 0, "stopped_recordings": 0}
    for camera_id in camera_ids:
        doomed = list(uncovered_segments(camera_id))
        stats["deleted"] += len(doomed)
        stats["freed"] += _delete_segments(doomed)
    while _excess_bytes() > 0:
        candidates = []
        for camera_id in camera_ids:
            candidates += list(uncovered_segments(camera_id, keep_continuous=False)[:200])
        if not candidates:
            break
        candidates.sort(key=lambda s: s.start)
        excess = _excess_bytes()
        for seg in candidates:  # oldest first, only as many as needed
            if excess <= 0:
                break
            excess -= _delete_segments([seg])
            stats["deleted"] += 1
            stats["freed"] += seg.size
    if _over_limits():
        now = timezone.now()
        for rec in Recording.objects.active(now):
            rec.end_time, rec.stopped_reason = now, "disk full"
            rec.save(update_fields=["end_time", "stopped_reason"])
            finalize(rec, RecordingStatus.STOPPED_DISK_FULL)
            stats["stopped_recordings"] += 1
        if stats["stopped_recordings"]:
            log.warning("disk full: stopped %d recordings", stats["stopped_recordings"])
    return stats


def remove_unkept_after_delete(camera_id: int) -> int:
    """After a recording is deleted: drop the segments nothing keeps any more."""
    doomed = list(uncovered_segments(camera_id))
    _delete_segments(doomed)
    return len(doomed)


def export(camera_id: int, start: datetime, end: datetime, output: Path) -> float:
    """One fast-start MP4 of [start, end] from the indexed segments; returns its duration in seconds."""
    segments = list(Segment.objects.filter(camera_id=camera_id, end__gt=start, start__lt=end).order_by("start"))
    if not segments:
        raise FileNotFoundError("no recorded video in that time range")
    root = Path(settings.RECORDINGS_DIR)
    output.parent.mkdir(parents=True, exist_ok=True)
    unique = uuid.uuid4().hex  # two requests for the same export must not share temporary files
    concat = output.with_suffix(f".{unique}.txt")
    concat.write_text("".join(f"file '{root / s.path}'\n" for s in segments))
    offset = max(0.0, (start - segments[0].start).total_seconds())
    duration = (min(end, segments[-1].end) - max(start, segments[0].start)).total_seconds()
    tmp = output.with_suffix(f".{unique}.part.mp4")
    try:
        ffmpeg.run_export(
            ffmpeg.export_argv(concat, tmp, start_offset=offset, duration=duration, binary=settings.FFMPEG_BINARY)
        )
        tmp.replace(output)
    finally:
        concat.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return duration


def clean_exports(max_age: float = 3600) -> int:
    """Exported MP4s are caches: drop those older than an hour, and those of recordings that are gone."""
    import time

    folder = exports_dir()
    if not folder.exists():
        return 0
    live_ids = set(Recording.objects.values_list("id", flat=True))
    removed = 0
    for path in folder.iterdir():
        match = path.name.startswith("recording-") and path.stem.split("-")[1].isdigit()
        gone = match and int(path.stem.split("-")[1]) not in live_ids
        if gone or (not match and time.time() - path.stat().st_mtime > max_age):
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        Recording.objects.filter(file_path__startswith=str(folder)).exclude(
            id__in=[int(p.stem.split("-")[1]) for p in folder.glob("recording-*.mp4")]
        ).update(file_path="")
    return removed


def finalize(rec: Recording, status: str) -> None:
    """Close a recording: its status, and the duration and size of the video it keeps."""
    segments = Segment.objects.filter(camera_id=rec.camera_id, end__gt=rec.start_time)
    if rec.end_time is not None:
        segments = segments.filter(start__lt=rec.end_time)
    duration = 0.0
    size = 0
    for seg in segments:
        span_start = max(seg.start, rec.start_time)
        span_end = min(seg.end, rec.end_time) if rec.end_time else seg.end
        duration += max(0.0, (span_end - span_start).total_seconds())
        size += seg.size
    rec.status, rec.duration_sec, rec.file_size = status, round(duration, 3), size
    rec.save(update_fields=["status", "duration_sec", "file_size"])
