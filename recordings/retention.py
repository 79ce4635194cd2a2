"""What recorded video is kept, and what goes when the disk or the quota runs out.

Segments belong to cameras, not to recordings: a recording is a span of time that keeps the
segments it overlaps. A segment goes away only when no recording overlaps it and continuous
retention no longer covers it. Over the quota or under the free-space floor, caches go first
(exports, downloads, quarantined files), then continuous footage oldest first, and if only
recordings remain, recordings stop (disk full). Nothing here runs while the root is faulty.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, DurationField, F, Q, Sum
from django.utils import timezone

from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from . import exports, storage
from .models import MediaChannel, Recording, RecordingStatus, Segment

log = logging.getLogger(__name__)


def delete_segments(segments) -> int:
    """Delete segment files and their rows; returns the bytes freed."""
    freed = 0
    root = storage.root()
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


def segment_bytes() -> int:
    return Segment.objects.aggregate(total=Sum("size"))["total"] or 0


def cache_bytes() -> int:
    """Exports, downloads and quarantined files: on the same disks, so counted in the quota."""
    return storage.folder_bytes(storage.exports_dir()) + storage.folder_bytes(storage.quarantine_dir())


def used_bytes() -> int:
    return segment_bytes() + cache_bytes()


def excess_bytes() -> int:
    """How many bytes of footage must go to be under the quota and above the free-space floor (<= 0: none).

    Footage stays under the quota less EXPORTS_RESERVE_FRACTION of it: with 24/7 recording filling the
    quota, exports and downloads (which count in it) would otherwise never have room.
    """
    quota = settings.RECORDINGS_QUOTA_BYTES
    over_quota = 0
    if quota:
        footage = segment_bytes()
        reserve = int(quota * settings.EXPORTS_RESERVE_FRACTION)
        over_quota = max(footage + cache_bytes() - quota, footage - (quota - reserve))
    return max(over_quota, floor_shortfall())


def floor_shortfall(folder: Path | None = None) -> int:
    """Bytes to free for the disk of `folder` (the recordings root by default) to be back above
    DISK_FREE_FLOOR_BYTES (<= 0: none). Everything else kept on disk (plate-read pictures) obeys it too."""
    return settings.DISK_FREE_FLOOR_BYTES - storage.disk_free(folder)


def over_limits() -> bool:
    return excess_bytes() > 0


def can_accept_recording() -> bool:
    """Room for a new recording: over the floor and under the quota once continuous footage could go."""
    if storage.disk_free() < settings.DISK_FREE_FLOOR_BYTES:
        return False
    quota = settings.RECORDINGS_QUOTA_BYTES
    if not quota:
        return True
    kept = Segment.objects.filter(
        id__in=[s.id for r in Recording.objects.all() for s in Segment.objects.filter(_overlap_q(r))]
    )
    return (kept.aggregate(total=Sum("size"))["total"] or 0) + cache_bytes() < quota


def _overlap_q(rec: Recording) -> Q:
    q = Q(camera_id=rec.camera_id, end__gt=rec.start_time)
    return q if rec.end_time is None else q & Q(start__lt=rec.end_time)


def clean_quarantine(*, everything: bool = False) -> int:
    """Quarantined files older than RECORDINGS_QUARANTINE_DAYS (all of them when space is short)."""
    folder = storage.quarantine_dir()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - settings.RECORDINGS_QUARANTINE_DAYS * 86400
    removed = 0
    for path in folder.rglob("*.mp4"):
        try:
            if everything or path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def apply_retention(camera_ids: list[int]) -> dict:
    """Delete what nothing keeps; over the limits, caches first, then the oldest continuous footage;
    stop recordings cleanly if only recordings are left and the disk still cannot take more."""
    stats = {"deleted": 0, "freed": 0, "stopped_recordings": 0, "caches": 0}
    # Caches before footage, always: an export must never cost a second of recorded video.
    stats["caches"] += exports.clean_exports() + clean_quarantine()
    if over_limits():
        stats["caches"] += exports.clean_exports(everything=True) + clean_quarantine(everything=True)
    for camera_id in camera_ids:
        doomed = list(uncovered_segments(camera_id))
        stats["deleted"] += len(doomed)
        stats["freed"] += delete_segments(doomed)
    while excess_bytes() > 0:
        candidates = []
        for camera_id in camera_ids:
            candidates += list(uncovered_segments(camera_id, keep_continuous=False)[:200])
        if not candidates:
            break
        candidates.sort(key=lambda s: s.start)
        excess = excess_bytes()
        for seg in candidates:  # oldest first, only as many as needed
            if excess <= 0:
                break
            excess -= delete_segments([seg])
            stats["deleted"] += 1
            stats["freed"] += seg.size
    if over_limits():
        now = timezone.now()
        for rec in Recording.objects.active(now):
            rec.end_time, rec.stopped_reason = now, "disk full"
            rec.save(update_fields=["end_time", "stopped_reason"])
            finalize(rec, RecordingStatus.STOPPED_DISK_FULL)
            alerts.emit(kind=EventKind.RECORDING_DISK_FULL, camera=rec.camera, detail={"recording": rec.pk})
            stats["stopped_recordings"] += 1
        if stats["stopped_recordings"]:
            log.warning("disk full: stopped %d recordings", stats["stopped_recordings"])
    return stats


def remove_unkept_after_delete(camera_id: int) -> int:
    """After a recording is deleted: drop the segments nothing keeps any more."""
    doomed = list(uncovered_segments(camera_id))
    delete_segments(doomed)
    return len(doomed)


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


def footage_of(camera_id: int) -> dict:
    """How much recorded video a camera has: what deleting it with its footage would remove."""
    agg = Segment.objects.filter(camera_id=camera_id).aggregate(
        n=Count("id"), total=Sum("size"), span=Sum(F("end") - F("start"), output_field=DurationField())
    )
    return {
        "segments": agg["n"],
        "hours": round(agg["span"].total_seconds() / 3600, 2) if agg["span"] else 0.0,
        "bytes": agg["total"] or 0,
        "recordings": Recording.objects.filter(camera_id=camera_id).count(),
    }


def delete_camera_footage(camera_id: int) -> dict:
    """Every recording, segment row and segment file of a camera, and its export caches: an explicit
    choice of an administrator (`?delete_footage=true`), never a side effect."""
    footage = footage_of(camera_id)
    for rec in Recording.objects.filter(camera_id=camera_id):
        if rec.file_path:
            Path(rec.file_path).unlink(missing_ok=True)
    Recording.objects.filter(camera_id=camera_id).delete()
    delete_segments(list(Segment.objects.filter(camera_id=camera_id)))
    exports.drop_camera_exports(camera_id)
    return footage
