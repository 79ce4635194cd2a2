"""A camera's desired list, derived from the named lists that reach it (and its own entries).

Rules (issue 14): a plate on a block list that reaches the camera is blocked there, whatever allow
lists say; otherwise it is allowed from the earliest start to the latest end of the allow windows
that apply (an open end on any of them is open). The camera's own entries (`CameraPlate.direct`)
count as one more window, with the plate row's own list type and validity.

The result is written into `CameraPlate` (the desired state the jobs, drift and convergence already
work from): lines the lists no longer reach become removals, and the device work is one converge
job across the cameras whose lines changed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cameras.models import Camera

from ..models import (
    CameraPlate,
    ListAssignment,
    ListEntry,
    ListType,
    Plate,
    PlateJob,
    PlateList,
    Source,
    VisitorPass,
)
from ..schedules import is_open


@dataclass(frozen=True)
class Window:
    """One reason for a plate to be on a camera: a list's kind and the entry's validity."""

    kind: str
    valid_from: date | None
    valid_until: date | None


def combine(windows: list[Window]) -> Window:
    """Block wins over allow; the earliest start and latest end of the windows of the winning kind
    (None, an open end, beats any date)."""
    kind = ListType.BLOCK if any(w.kind == ListType.BLOCK for w in windows) else ListType.ALLOW
    chosen = [w for w in windows if w.kind == kind]
    starts = [w.valid_from for w in chosen]
    ends = [w.valid_until for w in chosen]
    return Window(kind, None if None in starts else min(starts), None if None in ends else max(ends))


def list_windows(camera_ids: list[int], now: datetime) -> dict[int, dict[int, list[Window]]]:
    """camera id -> plate id -> the windows that the named lists and visitor passes reaching that
    camera give the plate at `now`: a list (or entry) with a weekly schedule counts only while the
    schedule is open in the camera's site's time zone; a pass only between its start and end."""
    rows = Camera.objects.filter(pk__in=camera_ids).values_list("pk", "gate_id", "gate__site__time_zone")
    lanes: dict[int, list[int]] = defaultdict(list)
    zone_of: dict[int, ZoneInfo] = {}
    for camera_id, gate_id, zone in rows:
        zone_of[camera_id] = ZoneInfo(zone or settings.TIME_ZONE)
        if gate_id:
            lanes[gate_id].append(camera_id)
    lists_of: dict[int, set[int]] = defaultdict(set)  # list id -> cameras it reaches (of these)
    for list_id, camera_id, gate_id in ListAssignment.objects.filter(
        Q(camera_id__in=camera_ids) | Q(gate_id__in=list(lanes))
    ).values_list("plate_list_id", "camera_id", "gate_id"):
        lists_of[list_id].update([camera_id] if camera_id else lanes[gate_id])
    schedules = dict(PlateList.objects.filter(pk__in=list(lists_of)).exclude(schedule=[]).values_list("pk", "schedule"))
    opened: dict[tuple, bool] = {}

    def open_on(key, schedule: list, camera_id: int) -> bool:
        zone = zone_of[camera_id]
        if (key, zone.key) not in opened:
            opened[key, zone.key] = is_open(schedule, now, zone)
        return opened[key, zone.key]

    out: dict[int, dict[int, list[Window]]] = defaultdict(lambda: defaultdict(list))
    entries = ListEntry.objects.filter(plate_list_id__in=list(lists_of)).values_list(
        "pk", "plate_list_id", "plate_id", "plate_list__kind", "valid_from", "valid_until", "schedule"
    )
    for entry_id, list_id, plate_id, kind, start, end, schedule in entries.iterator(chunk_size=10_000):
        window = Window(kind, start, end)
        list_schedule = schedules.get(list_id)
        for camera_id in lists_of[list_id]:
            if list_schedule and not open_on(("list", list_id), list_schedule, camera_id):
                continue
            if schedule and not open_on(("entry", entry_id), schedule, camera_id):
                continue
            out[camera_id][plate_id].append(window)
    passes = (
        VisitorPass.objects.active_at(now)
        .filter(gates__in=list(lanes))
        .values_list("plate_id", "gates", "starts_at", "ends_at")
    )
    for plate_id, gate_id, starts, ends in passes:
        for camera_id in lanes[gate_id]:
            zone = zone_of[camera_id]
            out[camera_id][plate_id].append(
                Window(ListType.ALLOW, starts.astimezone(zone).date(), ends.astimezone(zone).date())
            )
    return out


def derive_cameras(camera_ids: list[int], now: datetime | None = None) -> set[int]:
    """Write the derived desired lines of these cameras as of `now`; the ids of the cameras whose
    lines changed."""
    camera_ids = sorted(set(camera_ids))
    if not camera_ids:
        return set()
    from_lists = list_windows(camera_ids, now or timezone.now())
    rows = CameraPlate.objects.filter(camera_id__in=camera_ids).values_list(
        "pk", "camera_id", "plate_id", "desired", "direct", "derived_type", "derived_from", "derived_until"
    )
    existing: dict[int, dict[int, tuple]] = defaultdict(dict)  # camera id -> plate id -> row
    for r in rows.iterator(chunk_size=10_000):
        existing[r[1]][r[2]] = r
    direct_plates = {p for lines in existing.values() for p, r in lines.items() if r[3] and r[4]}
    own = {
        pk: Window(t, a, b)
        for pk, t, a, b in Plate.objects.filter(pk__in=direct_plates).values_list(
            "pk", "list_type", "valid_from", "valid_until"
        )
    }
    now = timezone.now()
    upserts: list[tuple] = []  # (camera, plate, direct, kind, from, until)
    removals: list[int] = []
    plain: list[int] = []  # direct lines no list reaches any more: back to the plate's own spec
    changed: set[int] = set()
    for camera_id in camera_ids:
        windows = from_lists.get(camera_id, {})
        lines = existing.get(camera_id, {})
        for plate_id, ws in windows.items():
            row = lines.get(plate_id)
            is_direct = bool(row and row[3] and row[4])
            target = combine(ws + ([own[plate_id]] if is_direct else []))
            if row and row[3] and (row[5], row[6], row[7]) == (target.kind, target.valid_from, target.valid_until):
                continue
            changed.add(camera_id)
            upserts.append((camera_id, plate_id, is_direct, target.kind, target.valid_from, target.valid_until))
        for plate_id, row in lines.items():
            if plate_id in windows or not row[5]:
                continue
            changed.add(camera_id)
            (plain if row[3] and row[4] else removals).append(row[0])
    with transaction.atomic():
        for start in range(0, len(upserts), 50_000):
            upsert_lines(upserts[start : start + 50_000], now)
        for start in range(0, len(removals), 10_000):
            CameraPlate.objects.filter(pk__in=removals[start : start + 10_000]).update(
                desired=False, derived_type="", derived_from=None, derived_until=None, updated_at=now
            )
        for start in range(0, len(plain), 10_000):
            CameraPlate.objects.filter(pk__in=plain[start : start + 10_000]).update(
                derived_type="", derived_from=None, derived_until=None, updated_at=now
            )
    return changed


def upsert_lines(lines: list[tuple], now: datetime) -> None:
    """Write derived lines (camera, plate, direct, kind, from, until) as desired: on PostgreSQL one
    INSERT ... SELECT over a JSON parameter (no model instance, no parameter per value)."""
    if not lines:
        return
    if connection.vendor != "postgresql":
        CameraPlate.objects.bulk_create(
            [
                CameraPlate(
                    camera_id=c, plate_id=p, desired=True, direct=d, derived_type=k, derived_from=a,
                    derived_until=b, updated_at=now,
                )
                for c, p, d, k, a, b in lines
            ],
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["camera", "plate"],
            update_fields=["desired", "direct", "derived_type", "derived_from", "derived_until", "updated_at"],
        )  # fmt: skip
        return
    data = json.dumps(
        [[c, p, d, k, a.isoformat() if a else None, b.isoformat() if b else None] for c, p, d, k, a, b in lines]
    )
    table = CameraPlate._meta.db_table  # ours; the lines go in as a parameter
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (camera_id, plate_id, desired, direct, derived_type, derived_from, "  # noqa: S608
            "derived_until, updated_at) SELECT (x->>0)::bigint, (x->>1)::bigint, true, (x->>2)::boolean, x->>3, "
            "(x->>4)::date, (x->>5)::date, %s FROM json_array_elements(%s::json) x "
            "ON CONFLICT (camera_id, plate_id) DO UPDATE SET desired = true, direct = excluded.direct, "
            "derived_type = excluded.derived_type, derived_from = excluded.derived_from, "
            "derived_until = excluded.derived_until, updated_at = excluded.updated_at",
            [now, data],
        )


def cameras_on_gates(gate_ids) -> list[int]:
    return sorted(Camera.objects.filter(gate__in=list(gate_ids)).values_list("pk", flat=True))


def cameras_reached_by(plate_list_ids: list[int]) -> list[int]:
    """Cameras the lists' assignments reach now (a camera, or every lane of a gate)."""
    assignments = ListAssignment.objects.filter(plate_list_id__in=plate_list_ids)
    direct = assignments.filter(camera__isnull=False).values_list("camera_id", flat=True)
    lanes = Camera.objects.filter(gate__in=assignments.filter(gate__isnull=False).values("gate_id"))
    return sorted(set(direct) | set(lanes.values_list("pk", flat=True)))


def apply_to_cameras(
    *, camera_ids: list[int], user=None, source: str = Source.API, now: datetime | None = None
) -> PlateJob | None:
    """Re-derive these cameras' lists and converge the ones that changed, in one job (None: no change).
    Call inside the transaction that changed the lists (the job is enqueued on its commit)."""
    from .capacity import ensure_within_capacity
    from .jobs import sync_cameras
    from .scope import anpr_capable

    changed = derive_cameras(camera_ids, now)
    ensure_within_capacity(sorted(changed))
    cameras = list(anpr_capable(Camera.objects.filter(pk__in=changed, is_active=True)))
    if not cameras:
        return None
    return sync_cameras(cameras=cameras, converge=True, user=user, source=source)
