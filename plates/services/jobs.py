"""Desired lists and jobs: what the API, the admin and the commands call."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from cameras.models import Camera

from ..models import (
    AnprCamera,
    CameraPlate,
    ListEntry,
    Operation,
    Plate,
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
    Source,
    Status,
    VisitorPass,
)
from .capacity import ensure_within_capacity
from .scope import anpr_capable, cameras_holding, ensure_anpr_capable, ensure_confined, ensure_may_confirm_wipe

# --- Desired lists and jobs --------------------------------------------------------------------


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


def upsert_plates(numbers: list[str], *, user=None, defaults: dict | None = None) -> list[Plate]:
    """The plates with these (normalised) numbers, created with `defaults` where missing."""
    existing = {p.number: p for p in Plate.objects.filter(number__in=numbers)}
    missing = [n for n in dict.fromkeys(numbers) if n not in existing]
    if missing:
        Plate.objects.bulk_create(
            [Plate(number=n, created_by=user, **(defaults or {})) for n in missing], ignore_conflicts=True
        )
        existing = {p.number: p for p in Plate.objects.filter(number__in=numbers)}
    return [existing[n] for n in dict.fromkeys(numbers)]


def assign_plates(cameras: list[Camera], plates: list[Plate], desired: bool) -> None:
    """Set plates as desired (or to remove) on cameras' own lists (their implicit per-camera list,
    `CameraPlate.direct`): one statement, however many rows."""
    AnprCamera.objects.bulk_create([AnprCamera(camera=c) for c in cameras], ignore_conflicts=True)
    if not cameras or not plates:
        return
    camera_ids = json.dumps([c.pk for c in dict.fromkeys(cameras)])
    plate_ids = json.dumps([p.pk for p in plates])
    table = CameraPlate._meta.db_table
    if connection.vendor == "postgresql":
        source = (
            "SELECT c.value::bigint, p.value::bigint, %s, %s, %s FROM json_array_elements_text(%s::json) c "
            "CROSS JOIN json_array_elements_text(%s::json) p WHERE true"
        )
    else:  # SQLite (JSON1 is built in)
        source = "SELECT c.value, p.value, %s, %s, %s FROM json_each(%s) c, json_each(%s) p WHERE true"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (camera_id, plate_id, desired, direct, updated_at) {source} "
            "ON CONFLICT (camera_id, plate_id) DO UPDATE "
            "SET desired = excluded.desired, direct = excluded.direct, updated_at = excluded.updated_at",
            [desired, desired, timezone.now(), camera_ids, plate_ids],
        )


def _insert_items(job: PlateJob, items: list[tuple[str, str, str]]) -> None:
    """The same per-plate rows for every camera of a job, in one INSERT ... SELECT."""
    if not items:
        return
    data = json.dumps([{"action": a, "plate": p, "new_plate": n} for a, p, n in items])
    item_table, camera_table = PlateJobItem._meta.db_table, PlateJobCamera._meta.db_table
    columns = "job_camera_id, action, plate, new_plate, status, attempts, last_error, detail"
    if connection.vendor == "postgresql":
        source = (  # table names are ours; the data goes in as a parameter
            f"SELECT jc.id, i.action, i.plate, i.new_plate, 'pending', 0, '', '' FROM {camera_table} jc "  # noqa: S608
            "CROSS JOIN json_to_recordset(%s::json) AS i(action text, plate text, new_plate text) "
            "WHERE jc.job_id = %s ORDER BY jc.id"
        )
    else:
        source = (
            f"SELECT jc.id, json_extract(i.value, '$.action'), json_extract(i.value, '$.plate'), "  # noqa: S608
            f"json_extract(i.value, '$.new_plate'), 'pending', 0, '', '' FROM {camera_table} jc, json_each(%s) i "
            "WHERE jc.job_id = %s ORDER BY jc.id"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {item_table} ({columns}) {source}", [data, job.pk])


def create_job(
    *,
    operation: str,
    cameras: list[Camera],
    items: dict[int, list[tuple[str, str, str]]] | list[tuple[str, str, str]],
    user=None,
    source: str = Source.API,
    params: dict | None = None,
    enqueue: bool = True,
) -> PlateJob:
    """A job with one row per camera and its per-plate rows; each camera's task is enqueued on commit."""
    job = PlateJob.objects.create(
        operation=operation,
        source=source,
        requested_by=user if getattr(user, "pk", None) else None,
        params=params or {},
    )
    rows = PlateJobCamera.objects.bulk_create(
        [PlateJobCamera(job=job, camera=c, camera_address=c.address) for c in dict.fromkeys(cameras)]
    )
    if isinstance(items, dict):
        PlateJobItem.objects.bulk_create(
            [
                PlateJobItem(job_camera=row, action=action, plate=plate, new_plate=new)
                for row in rows
                for action, plate, new in items.get(row.camera_id, [])
            ],
            batch_size=5000,
        )
    else:
        _insert_items(job, items)
    if not rows:
        # No camera to act on (a plate held by none, an import for none): nothing to do, so the job
        # is done now; left pending it would wait for a worker message that is never sent.
        now = timezone.now()
        job.status, job.started_at, job.finished_at = Status.SUCCEEDED, now, now
        job.save(update_fields=["status", "started_at", "finished_at"])
        return job
    ids = [row.id for row in rows]
    if enqueue:
        transaction.on_commit(lambda: _enqueue(ids))
    return job


def _enqueue(job_camera_ids: list[int]) -> None:
    """One task message per camera, all sent through one broker producer (one connection checkout)."""
    from ..tasks import run_job_camera_task

    with run_job_camera_task.app.producer_or_acquire() as producer:
        for pk in job_camera_ids:
            run_job_camera_task.apply_async((pk,), producer=producer)


@transaction.atomic
def push_plates(
    *, cameras: list[Camera], numbers: list[str], user=None, source: str = Source.API, defaults: dict | None = None
) -> PlateJob:
    """Add plates to cameras' lists (present exactly once) and push them (NotAnprCapable for a
    camera that cannot hold plates)."""
    ensure_anpr_capable(cameras, generic_ok=source == Source.LEGACY)
    plates = upsert_plates(numbers, user=user, defaults=defaults)
    Plate.objects.filter(pk__in=[p.pk for p in plates], delete_requested=True).update(delete_requested=False)
    assign_plates(cameras, plates, desired=True)
    if source != Source.LEGACY:  # the legacy doors' answers stay as they were: the camera refuses then
        ensure_within_capacity([c.pk for c in cameras])
    return create_job(
        operation=Operation.ADD,
        cameras=cameras,
        items=[(Operation.ADD, p.number, "") for p in plates],
        user=user,
        source=source,
        params={"plates": [p.number for p in plates]},
    )


@transaction.atomic
def remove_plates(*, cameras: list[Camera], numbers: list[str], user=None, source: str = Source.API) -> PlateJob:
    """Take plates off cameras' lists and delete every record of them from the cameras."""
    ensure_anpr_capable(cameras, generic_ok=source == Source.LEGACY)
    plates = upsert_plates(numbers, user=user)
    assign_plates(cameras, plates, desired=False)
    return create_job(
        operation=Operation.DELETE,
        cameras=cameras,
        items=[(Operation.DELETE, p.number, "") for p in plates],
        user=user,
        source=source,
        params={"plates": [p.number for p in plates]},
    )


PLATE_FIELDS = ("list_type", "valid_from", "valid_until", "owner", "notes")


@transaction.atomic
def update_plate(*, plate: Plate, changes: dict, user=None, source: str = Source.API) -> PlateJob | None:
    """Change a plate's row (list type, validity, owner, notes) and push it to every camera whose
    list holds it. Refused (OutOfScope) for a user when one of those cameras is not theirs."""
    ensure_confined(user=user, numbers=[plate.number])
    for name, value in changes.items():
        if name in PLATE_FIELDS:
            setattr(plate, name, value)
    plate.save()
    # Where named lists reach the plate too, the camera's window is derived again with the new row.
    from .derivation import derive_cameras

    derive_cameras(
        list(CameraPlate.objects.filter(plate=plate).exclude(derived_type="").values_list("camera_id", flat=True))
    )
    holding = Camera.objects.filter(plate_assignments__plate=plate, plate_assignments__desired=True)
    cameras = list(anpr_capable(holding))
    return push_plates(cameras=cameras, numbers=[plate.number], user=user, source=source) if cameras else None


@transaction.atomic
def delete_plates(*, plates: list[Plate], user=None, source: str = Source.API) -> PlateJob | None:
    """Delete plates: taken off every camera whose list holds them, by one removal job; each row goes
    once every camera confirmed its removal (until then it is the tombstone convergence works from).
    Plates on no camera's list are deleted at once (None is returned when that is all of them)."""
    numbers = [p.number for p in plates]
    ensure_confined(user=user, numbers=numbers)
    # A deleted plate leaves every named list and pass too (else the next derivation puts it back).
    ListEntry.objects.filter(plate__in=plates).delete()
    VisitorPass.objects.filter(plate__in=plates).delete()
    # Lines on cameras that cannot hold plates were never sent there (rows from before the rule): gone now.
    CameraPlate.objects.filter(plate__in=plates).exclude(camera__in=anpr_capable(Camera.objects.all())).delete()
    held = set(CameraPlate.objects.filter(plate__in=plates).values_list("plate_id", flat=True))
    Plate.objects.filter(pk__in=[p.pk for p in plates if p.pk not in held]).delete()
    numbers = [p.number for p in plates if p.pk in held]
    if not numbers:
        return None
    cameras = cameras_holding(numbers)
    Plate.objects.filter(number__in=numbers).update(delete_requested=True)
    return remove_plates(cameras=cameras, numbers=numbers, user=user, source=source)


@transaction.atomic
def rename_plates(*, cameras: list[Camera], renames: list[Rename], user=None, source: str = Source.API) -> PlateJob:
    """Rename plates on cameras: old gone, new present once, list type and validity kept."""
    ensure_anpr_capable(cameras, generic_ok=source == Source.LEGACY)
    for r in renames:
        old = Plate.objects.filter(number=r.old).first()
        copied = (
            {
                "list_type": old.list_type,
                "valid_from": old.valid_from,
                "valid_until": old.valid_until,
                "owner": old.owner,
                "notes": old.notes,
            }
            if old
            else {}
        )
        (new_plate,) = upsert_plates([r.new], user=user, defaults=copied)
        Plate.objects.filter(pk=new_plate.pk, delete_requested=True).update(delete_requested=False)
        (old_plate,) = upsert_plates([r.old], user=user)
        assign_plates(cameras, [new_plate], desired=True)
        assign_plates(cameras, [old_plate], desired=False)
    return create_job(
        operation=Operation.RENAME,
        cameras=cameras,
        items=[(Operation.RENAME, r.old, r.new) for r in renames],
        user=user,
        source=source,
        params={"renames": [[r.old, r.new] for r in renames]},
    )


@transaction.atomic
def sync_cameras(
    *,
    cameras: list[Camera],
    converge: bool = False,
    remove_unexpected: bool = False,
    adopt_unexpected: bool = False,
    allow_empty: bool = False,
    confirm_wipe: bool = False,
    user=None,
    source: str = Source.API,
) -> PlateJob:
    """Read each camera's list and report drift; with `converge`, make it match its desired list.
    `adopt_unexpected` first takes the plates a camera holds and its list here lacks into that list;
    `remove_unexpected` (with `converge`) takes them off the camera instead.
    A converge that would remove most of a camera's list stops unless `confirm_wipe` (admins only)."""
    ensure_may_confirm_wipe(user=user, confirm_wipe=confirm_wipe)
    for camera in cameras:
        AnprCamera.objects.get_or_create(camera=camera)
    return create_job(
        operation=Operation.CONVERGE if converge else Operation.SYNC,
        cameras=cameras,
        items=[],
        user=user,
        source=source,
        params={
            "converge": converge,
            "remove_unexpected": remove_unexpected,
            "adopt_unexpected": adopt_unexpected,
            "allow_empty": allow_empty,
            "confirm_wipe": confirm_wipe,
        },
    )


def run_job_inline(job: PlateJob) -> PlateJob:
    """Run every camera of a job in this process (command line use, no worker needed)."""
    from .runner import RetryLater, run_job_camera

    for pk in PlateJobCamera.objects.filter(job=job).values_list("pk", flat=True):
        while True:
            try:
                run_job_camera(pk)
                break
            except RetryLater as exc:
                time.sleep(exc.delay)
    job.refresh_from_db()
    return job


def wait_for_job(job: PlateJob, timeout: float) -> PlateJob:
    """Poll the job's row until it finishes or `timeout` passes."""
    return job.wait(timeout)
