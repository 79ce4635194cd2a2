"""What each job operation does on a camera: add, delete, rename, sync/converge, restore.

A handler is `(client, job camera, job, camera, device, items) -> None`; it talks to the camera
through `client` (inside the runner's device session) and reports per-plate outcomes to `items`.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from cameras.models import Camera

from .. import reconcile
from ..clients import isapi
from ..models import (
    AnprCamera,
    CameraPlate,
    Operation,
    Plate,
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
    Source,
    Status,
)
from .capacity import read_capacity_once
from .progress import JobItems


class EmptyListGuard(isapi.PermanentError):
    """Converging to an empty list would wipe a camera that holds plates: needs `allow_empty`."""


class WipeGuard(isapi.PermanentError):
    """A converge or restore would remove most of a camera's list: needs `confirm_wipe` (admins)."""


WIPE_MIN_PLATES = 10  # removing more than this many, and more than half of a list, is a wipe


def check_wipe(camera: Camera | str, *, removing: int, holding: int, params: dict) -> None:
    """Refuse a removal of more than half of a camera's list (and more than 10 plates) unless the job
    was created with `confirm_wipe`: a short list here (a stale backup, one plate) never wipes a gate."""
    if params.get("confirm_wipe"):
        return
    if removing > WIPE_MIN_PLATES and removing * 2 > holding:
        raise WipeGuard(
            f"refusing to remove {removing} of the {holding} plates on camera "
            f"{getattr(camera, 'address', camera)} "
            "(more than half of its list): an administrator must confirm the wipe (confirm_wipe)"
        )


def specs_for(
    numbers: list[str], plates: QuerySet | None = None, camera: Camera | None = None
) -> list[isapi.PlateSpec]:
    """Our list type and validity for these plates (`plates`: the same numbers as a subquery, cheaper
    than a parameter per plate for a big job); on `camera`, what named lists derived for it wins."""
    rows = Plate.objects.filter(number__in=numbers if plates is None else plates).values_list(
        "number", "list_type", "valid_from", "valid_until"
    )
    specs = {row[0]: isapi.PlateSpec(*row) for row in rows}
    if camera is not None:
        derived = CameraPlate.objects.filter(camera=camera, plate__number__in=list(specs)).exclude(derived_type="")
        for number, kind, start, end in derived.values_list(
            "plate__number", "derived_type", "derived_from", "derived_until"
        ):
            specs[number] = isapi.PlateSpec(number, kind, start, end)
    return [specs.get(n) or isapi.PlateSpec(n) for n in numbers]


def open_plates(items: JobItems) -> list[str]:
    return list(items.open().values_list("plate", flat=True))


def _handle_add(client, jc, job, camera, device, items: JobItems) -> None:
    read_capacity_once(client, device)
    specs = specs_for(open_plates(items), items.open().values("plate"), camera=camera)
    reconcile.ensure_present(client, specs, items.report, search_each_max=settings.PLATES_SEARCH_EACH_MAX)


def _handle_delete(client, jc, job, camera, device, items: JobItems) -> None:
    plates = open_plates(items)
    reconcile.ensure_absent(client, plates, items.report, search_each_max=settings.PLATES_SEARCH_EACH_MAX)
    drop_confirmed_removals(camera, items)


def _handle_rename(client, jc, job, camera, device, items: JobItems) -> None:
    for old, new in list(items.open().values_list("plate", "new_plate")):
        (fallback,) = specs_for([new], camera=camera)
        try:
            reconcile.rename(client, old, new, fallback, items.report)
        except isapi.TransientError:
            raise
        except isapi.BadCredentials:
            raise
        except isapi.PermanentError as exc:
            items.report([reconcile.Outcome(old, False, error=str(exc))])
    drop_confirmed_removals(camera, items)


def drop_confirmed_removals(camera: Camera, items: JobItems) -> None:
    """A removal the camera confirmed no longer needs its tombstone in the desired list."""
    items.flush()
    gone = PlateJobItem.objects.filter(job_camera=items.job_camera, status=Status.SUCCEEDED).values_list(
        "plate", flat=True
    )
    CameraPlate.objects.filter(camera=camera, desired=False, plate__number__in=gone).delete()
    # A deleted plate's row goes once no camera's list holds it any more (whichever job confirmed it:
    # the delete job, or the convergence for a camera that was off line).
    Plate.objects.filter(number__in=gone, delete_requested=True, assignments__isnull=True).delete()


def desired_for(camera: Camera) -> tuple[dict[str, isapi.PlateSpec], set[str]]:
    rows = CameraPlate.objects.filter(camera=camera).select_related("plate")
    desired = {r.plate.number: r.spec() for r in rows if r.desired}
    removals = {r.plate.number for r in rows if not r.desired}
    return desired, removals


def _handle_sync(client, jc, job, camera, device, items: JobItems) -> None:
    params = job.params or {}
    read_capacity_once(client, device)
    state = reconcile.group(client.list_all())
    desired, removals = desired_for(camera)
    report = reconcile.drift(desired, removals, state)
    remove_unexpected = params.get("remove_unexpected", False) or (
        job.source == Source.SCHEDULE and device.remove_unexpected
    )
    AnprCamera.objects.filter(pk=device.pk).update(
        drift=report, last_synced_at=timezone.now(), plate_count=sum(len(v) for v in state.values())
    )
    if params.get("adopt_unexpected") and report["unexpected"]:
        adopt_unexpected(camera, jc, job, {p: state[p] for p in report["unexpected"]}, items)
        desired, removals = desired_for(camera)
        report = reconcile.drift(desired, removals, state)
        AnprCamera.objects.filter(pk=device.pk).update(drift=report)
    PlateJobCamera.objects.filter(pk=jc.pk).update(result={"drift": report})
    if not params.get("converge"):
        return
    if remove_unexpected and not desired and state and not params.get("allow_empty"):
        raise EmptyListGuard(
            f"refusing to empty camera {camera.address}: its list here is empty and it holds "
            f"{len(state)} plate(s) (pass allow_empty to do it on purpose)"
        )
    add = sorted(set(report["missing"]) | set(report["mismatched"]) | set(report["duplicates"]))
    remove = sorted(set(report["to_remove"]) | (set(report["unexpected"]) if remove_unexpected else set()))
    # Plates someone deleted (tombstones) always go: a revoked plate left on a gate is the worse
    # failure. What is held back is removing what nobody asked to remove, in bulk.
    implicit = set(remove) - set(report["to_remove"])
    check_wipe(camera, removing=len(implicit), holding=len(state), params=params)
    add_items(jc, [(Operation.ADD, p) for p in add] + [(Operation.DELETE, p) for p in remove])
    if add:
        reconcile.ensure_present(
            client, [desired[p] for p in add], items.report, current={p: state.get(p, []) for p in add}
        )
    if remove:
        reconcile.ensure_absent(client, remove, items.report, current={p: state.get(p, []) for p in remove})
        drop_confirmed_removals(camera, items)
    after = reconcile.group(client.list_all()) if (add or remove) else state
    final = reconcile.drift(desired, removals - set(remove), after)
    AnprCamera.objects.filter(pk=device.pk).update(
        drift=final, last_synced_at=timezone.now(), plate_count=sum(len(v) for v in after.values())
    )
    PlateJobCamera.objects.filter(pk=jc.pk).update(result={"drift_before": report, "drift": final})


def adopt_unexpected(camera: Camera, jc: PlateJobCamera, job: PlateJob, records: dict, items: JobItems) -> None:
    """Take plates the camera holds, and its list here lacks, into that list. A plate new here gets the
    camera's list type and validity (an open end stays open); a plate known here keeps its row."""
    numbers = sorted(records)
    known = set(Plate.objects.filter(number__in=numbers).values_list("number", flat=True))

    def start(value):
        return None if value is None or value <= isapi.DEFAULT_START else value

    def end(value):  # the cameras' own "for ever" (5000-12-01, 2037-12-31, ...) is an open end here
        return None if value is None or value >= isapi.DEFAULT_END else value

    Plate.objects.bulk_create(
        [
            Plate(
                number=n,
                list_type=records[n][0].list_type,
                valid_from=start(records[n][0].valid_from),
                valid_until=end(records[n][0].valid_until),
                created_by=job.requested_by,
            )
            for n in numbers
            if n not in known
        ],
        ignore_conflicts=True,
    )
    from .jobs import assign_plates

    assign_plates([camera], list(Plate.objects.filter(number__in=numbers)), desired=True)
    add_items(jc, [(Operation.ADD, n) for n in numbers])
    items.report([reconcile.Outcome(n, True, "taken into this camera's list") for n in numbers])
    items.flush()


def add_items(jc: PlateJobCamera, wanted: list[tuple[str, str]]) -> None:
    """Per-plate rows for work found while running (a converge's drift); an attempt after a retry
    finds the rows the first one made and adds none twice. On PostgreSQL one INSERT ... SELECT over
    a JSON parameter (a schedule boundary or a list change adds thousands per camera)."""
    if not wanted:
        return
    if connection.vendor == "postgresql":
        table = PlateJobItem._meta.db_table  # ours; the rows go in as a parameter
        data = json.dumps([{"action": a, "plate": p} for a, p in wanted])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (job_camera_id, action, plate, new_plate, status, attempts, last_error, detail) "  # noqa: S608
                "SELECT %s, i.action, i.plate, '', %s, %s, '', '' "
                "FROM json_to_recordset(%s::json) AS i(action text, plate text) "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.job_camera_id = %s "
                "AND x.action = i.action AND x.plate = i.plate)",
                [jc.pk, Status.RUNNING, jc.attempts, data, jc.pk],
            )
        return
    have = set(PlateJobItem.objects.filter(job_camera=jc).values_list("action", "plate"))
    PlateJobItem.objects.bulk_create(
        [
            PlateJobItem(job_camera=jc, action=a, plate=p, status=Status.RUNNING, attempts=jc.attempts)
            for a, p in wanted
            if (a, p) not in have
        ],
        batch_size=5000,
    )


def _handle_restore(client, jc, job, camera, device, items: JobItems) -> None:
    from .backups import restore_specs

    specs, replace_all = restore_specs(job)
    wanted = set(open_plates(items))
    state = reconcile.group(client.list_all())
    adds = [s for s in specs if s.plate in wanted]
    extra = sorted(set(state) - {s.plate for s in specs}) if replace_all else []
    check_wipe(camera, removing=len(extra), holding=len(state), params=job.params or {})  # before any change
    reconcile.ensure_present(client, adds, items.report, current={s.plate: state.get(s.plate, []) for s in adds})
    if replace_all:
        add_items(jc, [(Operation.DELETE, p) for p in extra])
        reconcile.ensure_absent(client, extra, items.report, current={p: state[p] for p in extra})
        drop_confirmed_removals(camera, items)


HANDLERS = {
    Operation.ADD: _handle_add,
    Operation.DELETE: _handle_delete,
    Operation.RENAME: _handle_rename,
    Operation.SYNC: _handle_sync,
    Operation.CONVERGE: _handle_sync,
    Operation.RESTORE: _handle_restore,
}
