"""The timeline of a camera: recorded spans, gaps and markers over a window, from the segment index only.

Spans are runs of segments with holes shorter than TIMELINE_GAP_TOLERANCE between them and the same
retention class (continuous or recording). PostgreSQL finds their edges itself (gaps and islands with
a window function over the covering `(camera, start)` index: a handful of rows come back for a week
of 10 s segments); other databases get the same answer merged here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q

from .models import Segment


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    continuous: bool
    segments: int

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "continuous": self.continuous, "segments": self.segments}


def lookback() -> timedelta:
    """How far before a window a segment overlapping it may start (segments are cut every
    MEDIA_SEGMENT_SECONDS, at the next keyframe): it bounds the index range scanned."""
    return timedelta(seconds=max(600, 10 * settings.MEDIA_SEGMENT_SECONDS))


def merge(rows, tolerance: float) -> list[Span]:
    """Spans of (start, end, continuous) rows ordered by start (the fallback of the SQL merge)."""
    spans: list[Span] = []
    gap = timedelta(seconds=tolerance)
    for start, end, continuous in rows:
        last = spans[-1] if spans else None
        if last and last.continuous == continuous and start - last.end <= gap:
            spans[-1] = Span(last.start, max(last.end, end), continuous, last.segments + 1)
        else:
            spans.append(Span(start, end, continuous, 1))
    return spans


# One pass over the covering (camera, start) INCLUDE (end, continuous) index, no sort: each row sees
# the next one (LEAD); only each camera's first row and the last row of each span come back, with
# their row numbers (so each span's segment count follows).
ISLANDS_SQL = """
SELECT camera_id, start, "end", continuous, next_start, n, closes FROM (
    SELECT *, (next_start IS NULL OR next_start > "end" + %(gap)s OR next_continuous <> continuous) AS closes
    FROM (
        SELECT camera_id, start, "end", continuous,
               LEAD(start) OVER w AS next_start, LEAD(continuous) OVER w AS next_continuous,
               ROW_NUMBER() OVER w AS n
        FROM {table}
        WHERE camera_id = ANY(%(cameras)s) AND start >= %(scan_from)s AND start < %(end)s AND "end" > %(start)s
        WINDOW w AS (PARTITION BY camera_id ORDER BY start)
    ) rows
) edges
WHERE n = 1 OR closes
ORDER BY camera_id, start
"""


def spans_of_edges(rows) -> dict[int, list[Span]]:
    """Spans from ISLANDS_SQL's rows: (camera, start, end, continuous, next start, row number, closes)."""
    found: dict[int, list[Span]] = {}
    opened: dict[int, tuple[datetime, int]] = {}
    for camera_id, start, end, continuous, next_start, n, closes in rows:
        if n == 1:
            opened[camera_id] = (start, 1)
        if not closes:
            continue
        first, first_n = opened[camera_id]
        found.setdefault(camera_id, []).append(Span(first, end, continuous, n - first_n + 1))
        if next_start is not None:
            opened[camera_id] = (next_start, n + 1)
    return found


def spans_by_camera(
    camera_ids: list[int], start: datetime, end: datetime, *, tolerance: float
) -> dict[int, list[Span]]:
    """Recorded spans of each camera meeting [start, end), clipped to it: one indexed range scan per camera."""
    found: dict[int, list[Span]] = {camera_id: [] for camera_id in camera_ids}
    if not camera_ids:
        return found
    scan_from = start - lookback()
    if connection.vendor == "postgresql":
        sql = ISLANDS_SQL.format(table=connection.ops.quote_name(Segment._meta.db_table))
        params = {"gap": timedelta(seconds=tolerance), "cameras": list(camera_ids), "scan_from": scan_from,
                  "start": start, "end": end}  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found.update(spans_of_edges(cursor.fetchall()))
    else:
        for camera_id in camera_ids:
            rows = (
                Segment.objects.filter(camera_id=camera_id, start__gte=scan_from, start__lt=end, end__gt=start)
                .order_by("start")
                .values_list("start", "end", "continuous")
            )
            found[camera_id] = merge(rows.iterator(), tolerance)
    return {camera_id: [clip(s, start, end) for s in spans] for camera_id, spans in found.items()}


def clip(span: Span, start: datetime, end: datetime) -> Span:
    return Span(max(span.start, start), min(span.end, end), span.continuous, span.segments)


def gaps(spans: list[Span], start: datetime, end: datetime) -> list[dict]:
    """The parts of [start, end) no span covers (spans ordered by start, clipped to the window)."""
    holes, cursor = [], start
    for span in spans:
        if span.start > cursor:
            holes.append({"start": cursor, "end": span.start})
        cursor = max(cursor, span.end)
    if cursor < end:
        holes.append({"start": cursor, "end": end})
    return holes


def plate_markers(*, camera, user, start: datetime, end: datetime, limit: int) -> tuple[list[dict], bool]:
    """Plate reads to mark on a camera's timeline: its own, and those of the ANPR cameras it is an
    overview camera of (plates.services.reads.clip_cameras, the other way round), the ones the user
    may see. (markers, truncated)."""
    from plates.models import AnprCamera, PlateRead

    sources = [camera.id, *AnprCamera.objects.filter(overview_cameras=camera).values_list("camera_id", flat=True)]
    in_window = Q(camera_time__gte=start, camera_time__lt=end) | Q(
        camera_time__isnull=True, received_at__gte=start, received_at__lt=end
    )
    reads = list(
        PlateRead.objects.visible_to(user)
        .filter(in_window, camera_id__in=sources)
        .select_related("camera")
        .order_by("received_at", "id")[: limit + 1]
    )
    markers = [
        {
            "kind": "plate",
            "at": read.read_at,
            "read_id": read.id,
            "number": read.number,
            "camera_verdict": read.camera_verdict,
            "our_verdict": read.our_verdict,
            "flagged": read.flagged,
            "camera": read.camera.name,
            "own": read.camera_id == camera.id,
        }
        for read in reads[:limit]
    ]
    markers.sort(key=lambda m: m["at"])
    return markers, len(reads) > limit


def camera_timeline(*, camera, user, start: datetime, end: datetime, spans: list[Span]) -> dict:
    """One camera's timeline answer: spans, gaps and markers."""
    markers, truncated = plate_markers(
        camera=camera, user=user, start=start, end=end, limit=settings.TIMELINE_MAX_MARKERS
    )
    return {
        "ip": camera.address,
        "name": camera.name,
        "recorded_seconds": round(sum((s.end - s.start).total_seconds() for s in spans), 3),
        "spans": [s.as_dict() for s in spans],
        "gaps": gaps(spans, start, end),
        "markers": markers,
        "markers_truncated": truncated,
    }


def timeline(*, cameras: list, user, start: datetime, end: datetime) -> list[dict]:
    """The timeline of each camera over [start, end), in the order given."""
    tolerance = settings.TIMELINE_GAP_TOLERANCE
    spans = spans_by_camera([c.id for c in cameras], start, end, tolerance=tolerance)
    return [camera_timeline(camera=c, user=user, start=start, end=end, spans=spans[c.id]) for c in cameras]
