"""Running one camera's part of a job: one attempt, its per-plate rows, and the operations."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from .. import reconcile
from ..clients import isapi
from ..models import (
    FINAL,
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
from .devices import (
    CameraLease,
    LeaseLost,
    anpr_for,
    auth_block,
    backoff,
    claim_camera,
    client_for_camera,
    record_auth_failure,
    release_camera,
    remember_family,
)

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised by `run_job_camera` when the task should run again after `delay` seconds."""

    def __init__(self, delay: float, reason: str = ""):
        super().__init__(reason)
        self.delay = delay


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


# --- Running one camera's part of a job ---------------------------------------------------------


class _Items:
    """Per-plate rows of one job camera, updated a batch at a time."""

    def __init__(self, job_camera: PlateJobCamera, lease: CameraLease | None = None):
        self.job_camera = job_camera
        self.lease = lease
        self._pending: list[reconcile.Outcome] = []
        self._flushed = time.monotonic()

    def open(self):
        return (
            PlateJobItem.objects.filter(job_camera=self.job_camera)
            .order_by("id")
            .exclude(status__in=[Status.SUCCEEDED, Status.FAILED])
        )

    def start_attempt(self) -> None:
        now = timezone.now()
        self.open().update(status=Status.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce("started_at", now))

    def report(self, outcomes: list[reconcile.Outcome]) -> None:
        """Record outcomes; written in one UPDATE per kind of result at most every FLUSH_SECONDS or
        FLUSH_ITEMS (progress stays live without a statement per batch). Renews the camera's lease
        as the work goes on, and stops the attempt (LeaseLost) if another job has the camera now."""
        self._pending.extend(outcomes)
        if self.lease is not None:
            self.lease.keep()
        if len(self._pending) >= self.FLUSH_ITEMS or time.monotonic() - self._flushed >= self.FLUSH_SECONDS:
            self.flush()

    FLUSH_ITEMS = 500
    FLUSH_SECONDS = 0.5

    def flush(self) -> None:
        outcomes, self._pending = self._pending, []
        self._flushed = time.monotonic()
        if not outcomes:
            return
        now = timezone.now()
        by_result: dict[tuple, list[str]] = {}
        for o in outcomes:
            by_result.setdefault((o.ok, o.detail, o.error), []).append(o.plate)
        for (ok, detail, error), plates in by_result.items():
            self.open().filter(_plate_in(plates)).update(
                status=Status.SUCCEEDED if ok else Status.FAILED,
                detail=detail[:200],
                last_error=error,
                finished_at=now,
            )

    def interrupt(self, status: str, error: str) -> None:
        self.flush()
        fields = {"status": status, "last_error": error}
        if status == Status.FAILED:
            fields["finished_at"] = timezone.now()
        self.open().update(**fields)


def _plate_in(plates: list[str]) -> Q:
    """`plate IN (...)` for a batch of plates; on PostgreSQL one array parameter instead of one
    parameter per plate (the ORM prepares each of those: most of a batch update's CPU)."""
    if connection.vendor == "postgresql":
        table = PlateJobItem._meta.db_table
        sql = f'"{table}"."plate" = ANY(%s::varchar[])'  # our table name; the plates are a parameter
        return Q(RawSQL(sql, (list(plates),), output_field=BooleanField()))  # noqa: S611
    return Q(plate__in=plates)


def run_job_camera(job_camera_id: int) -> None:
    """One attempt at one camera's part of a job. Idempotent; raises RetryLater for the task to retry."""
    jc = PlateJobCamera.objects.select_related("job", "camera").filter(pk=job_camera_id).first()
    if jc is None or jc.status in FINAL:
        return
    job, camera = jc.job, jc.camera
    if camera is None:
        _finish_camera(jc, Status.FAILED, "the camera was deleted", "CameraDeleted")
        return
    token = claim_camera(camera.pk)
    if token is None:
        PlateJobCamera.objects.filter(pk=jc.pk).update(last_error="waiting for another job on this camera")
        raise RetryLater(1.0 + random.random(), "camera busy with another job")
    try:
        _run_attempt(jc, job, camera, CameraLease(camera.pk, token))
    finally:
        release_camera(camera.pk, token)
        finish_job_if_done(job.pk)


def _run_attempt(jc: PlateJobCamera, job: PlateJob, camera: Camera, lease: CameraLease | None = None) -> None:
    device = anpr_for(camera)
    items = _Items(jc, lease)
    blocked = auth_block(camera, device)
    if blocked:
        items.interrupt(Status.FAILED, blocked)
        _finish_camera(jc, Status.FAILED, blocked, "BadCredentials", unlock_time=_unlock_left(device))
        return
    now = timezone.now()
    PlateJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now, status=Status.RUNNING)
    jc.attempts += 1
    jc.status = Status.RUNNING
    jc.started_at = jc.started_at or now
    jc.next_attempt_at = None
    jc.save(update_fields=["attempts", "status", "started_at", "next_attempt_at"])
    items.start_attempt()
    client = client_for_camera(camera, device)
    try:
        try:
            HANDLERS[job.operation](client, jc, job, camera, device, items)
        finally:
            items.flush()
    except LeaseLost as exc:
        # Another job holds the camera (this attempt outlived its lease): stop, and come back after it.
        remember_family(device, client)
        delay = backoff(jc.attempts)
        items.interrupt(Status.RETRYING, str(exc))
        PlateJobCamera.objects.filter(pk=jc.pk).update(
            status=Status.RETRYING,
            last_error=str(exc),
            error_kind="LeaseLost",
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        raise RetryLater(delay, str(exc)) from None
    except isapi.TransientError as exc:
        remember_family(device, client)
        if jc.attempts >= settings.PLATES_RETRY_ATTEMPTS:
            message = (
                f"{exc}; gave up after {jc.attempts} attempts (the periodic sync applies it when the camera is back)"
            )
            items.interrupt(Status.FAILED, message)
            _finish_camera(jc, Status.FAILED, message, type(exc).__name__)
            return
        delay = backoff(jc.attempts)
        items.interrupt(Status.RETRYING, str(exc))
        PlateJobCamera.objects.filter(pk=jc.pk).update(
            status=Status.RETRYING,
            last_error=str(exc),
            error_kind=type(exc).__name__,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        raise RetryLater(delay, str(exc)) from None
    except isapi.PermanentError as exc:
        remember_family(device, client)
        unlock = None
        if isinstance(exc, isapi.BadCredentials):
            record_auth_failure(camera, device, exc)
            unlock = exc.unlock_time
        items.interrupt(Status.FAILED, str(exc))
        _finish_camera(jc, Status.FAILED, str(exc), type(exc).__name__, unlock_time=unlock)
        return
    remember_family(device, client)
    # The camera took our credentials: whatever it refused before is history.
    AnprCamera.objects.filter(pk=device.pk).update(
        last_sync_error="", auth_failed_at=None, auth_fingerprint="", auth_error="", locked_until=None
    )
    items.interrupt(Status.FAILED, "not confirmed by the camera")  # anything left open is a bug: say so
    failed = PlateJobItem.objects.filter(job_camera=jc, status=Status.FAILED).count()
    if failed:
        total = PlateJobItem.objects.filter(job_camera=jc).count()
        _finish_camera(jc, Status.FAILED, f"{failed} of {total} plates failed", "ItemsFailed")
    else:
        _finish_camera(jc, Status.SUCCEEDED, "", "")


def _unlock_left(device: AnprCamera) -> int | None:
    if device.locked_until and device.locked_until > timezone.now():
        return int((device.locked_until - timezone.now()).total_seconds()) + 1
    return None


def _finish_camera(jc: PlateJobCamera, status: str, error: str, kind: str, unlock_time: int | None = None) -> None:
    # Errors come from our client and never carry credentials.
    log = logger.info if status == Status.SUCCEEDED else logger.warning
    log("plate job %s camera %s: %s%s", jc.job_id, jc.camera_address, status, f" ({error})" if error else "")
    PlateJobCamera.objects.filter(pk=jc.pk).update(
        status=status,
        last_error=error,
        error_kind=kind,
        unlock_time=unlock_time,
        finished_at=timezone.now(),
        next_attempt_at=None,
    )


def finish_job_if_done(job_id: int) -> None:
    with transaction.atomic():
        job = PlateJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINAL:
            return
        statuses = list(PlateJobCamera.objects.filter(job=job).values_list("status", flat=True))
        if any(s not in FINAL for s in statuses):
            return
        if all(s == Status.SUCCEEDED for s in statuses):
            job.status = Status.SUCCEEDED
        elif any(s == Status.SUCCEEDED for s in statuses):
            job.status = Status.PARTIAL
        else:
            job.status = Status.FAILED
        job.finished_at = timezone.now()
        job.started_at = job.started_at or job.finished_at
        job.save(update_fields=["status", "finished_at", "started_at"])
        if job.status in (Status.FAILED, Status.PARTIAL):
            report_job_failure(job)


def report_job_failure(job: PlateJob) -> None:
    """A failed or partly failed job as an alert event: the camera when it was the only one."""
    parts = list(PlateJobCamera.objects.filter(job=job).select_related("camera"))
    failed = [p for p in parts if p.status == Status.FAILED]
    kind = EventKind.JOB_FAILED if job.status == Status.FAILED else EventKind.JOB_PARTIAL
    detail = {
        "job": job.pk,
        "operation": job.operation,
        "failed": [{"camera": p.camera_address, "error": p.last_error[:300]} for p in failed[:20]],
        "cameras": len(parts),
    }
    camera = parts[0].camera if len(parts) == 1 else None
    alerts.emit(kind=kind, camera=camera, subject=f"#{job.pk}", detail=detail)


# --- Operation handlers: (client, job camera, job, camera, device, items) -> None ------------------


def _specs_for(numbers: list[str], plates: QuerySet | None = None) -> list[isapi.PlateSpec]:
    """Our list type and validity for these plates (`plates`: the same numbers as a subquery, cheaper
    than a parameter per plate for a big job)."""
    rows = Plate.objects.filter(number__in=numbers if plates is None else plates).values_list(
        "number", "list_type", "valid_from", "valid_until"
    )
    specs = {row[0]: isapi.PlateSpec(*row) for row in rows}
    return [specs.get(n) or isapi.PlateSpec(n) for n in numbers]


def _open_plates(items: _Items) -> list[str]:
    return list(items.open().values_list("plate", flat=True))


def _handle_add(client, jc, job, camera, device, items: _Items) -> None:
    specs = _specs_for(_open_plates(items), items.open().values("plate"))
    reconcile.ensure_present(client, specs, items.report, search_each_max=settings.PLATES_SEARCH_EACH_MAX)


def _handle_delete(client, jc, job, camera, device, items: _Items) -> None:
    plates = _open_plates(items)
    reconcile.ensure_absent(client, plates, items.report, search_each_max=settings.PLATES_SEARCH_EACH_MAX)
    _drop_confirmed_removals(camera, items)


def _handle_rename(client, jc, job, camera, device, items: _Items) -> None:
    for old, new in list(items.open().values_list("plate", "new_plate")):
        (fallback,) = _specs_for([new])
        try:
            reconcile.rename(client, old, new, fallback, items.report)
        except isapi.TransientError:
            raise
        except isapi.BadCredentials:
            raise
        except isapi.PermanentError as exc:
            items.report([reconcile.Outcome(old, False, error=str(exc))])
    _drop_confirmed_removals(camera, items)


def _drop_confirmed_removals(camera: Camera, items: _Items) -> None:
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
    desired = {r.plate.number: r.plate.spec() for r in rows if r.desired}
    removals = {r.plate.number for r in rows if not r.desired}
    return desired, removals


def _handle_sync(client, jc, job, camera, device, items: _Items) -> None:
    params = job.params or {}
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
        _adopt(camera, jc, job, {p: state[p] for p in report["unexpected"]}, items)
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
    _add_items(jc, [(Operation.ADD, p) for p in add] + [(Operation.DELETE, p) for p in remove])
    if add:
        reconcile.ensure_present(
            client, [desired[p] for p in add], items.report, current={p: state.get(p, []) for p in add}
        )
    if remove:
        reconcile.ensure_absent(client, remove, items.report, current={p: state.get(p, []) for p in remove})
        _drop_confirmed_removals(camera, items)
    after = reconcile.group(client.list_all()) if (add or remove) else state
    final = reconcile.drift(desired, removals - set(remove), after)
    AnprCamera.objects.filter(pk=device.pk).update(
        drift=final, last_synced_at=timezone.now(), plate_count=sum(len(v) for v in after.values())
    )
    PlateJobCamera.objects.filter(pk=jc.pk).update(result={"drift_before": report, "drift": final})


def _adopt(camera: Camera, jc: PlateJobCamera, job: PlateJob, records: dict, items: _Items) -> None:
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
    _add_items(jc, [(Operation.ADD, n) for n in numbers])
    items.report([reconcile.Outcome(n, True, "taken into this camera's list") for n in numbers])
    items.flush()


def _add_items(jc: PlateJobCamera, wanted: list[tuple[str, str]]) -> None:
    """Per-plate rows for work found while running (a converge's drift); an attempt after a retry
    finds the rows the first one made and adds none twice."""
    have = set(PlateJobItem.objects.filter(job_camera=jc).values_list("action", "plate"))
    PlateJobItem.objects.bulk_create(
        [
            PlateJobItem(job_camera=jc, action=a, plate=p, status=Status.RUNNING, attempts=jc.attempts)
            for a, p in wanted
            if (a, p) not in have
        ],
        batch_size=5000,
    )


def _handle_restore(client, jc, job, camera, device, items: _Items) -> None:
    from ..backups import restore_specs

    specs, replace_all = restore_specs(job)
    open_plates = set(_open_plates(items))
    state = reconcile.group(client.list_all())
    adds = [s for s in specs if s.plate in open_plates]
    extra = sorted(set(state) - {s.plate for s in specs}) if replace_all else []
    check_wipe(camera, removing=len(extra), holding=len(state), params=job.params or {})  # before any change
    reconcile.ensure_present(client, adds, items.report, current={s.plate: state.get(s.plate, []) for s in adds})
    if replace_all:
        _add_items(jc, [(Operation.DELETE, p) for p in extra])
        reconcile.ensure_absent(client, extra, items.report, current={p: state[p] for p in extra})
        _drop_confirmed_removals(camera, items)


HANDLERS = {
    Operation.ADD: _handle_add,
    Operation.DELETE: _handle_delete,
    Operation.RENAME: _handle_rename,
    Operation.SYNC: _handle_sync,
    Operation.CONVERGE: _handle_sync,
    Operation.RESTORE: _handle_restore,
}
