"""Plate services: change the desired lists, create jobs, and run one camera's part of a job.

A job is created with one row per camera (and one per plate) inside a transaction that also updates
the desired lists; one Celery task per camera is enqueued on commit, so cameras are worked on in
parallel and a lost message only delays work (the periodic convergence re-reads the desired lists).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cameras.models import Camera

from . import reconcile
from .clients import isapi
from .models import (
    FINAL,
    AnprCamera,
    CameraPlate,
    DefaultCameraCredentials,
    Operation,
    Plate,
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
    Source,
    Status,
)

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised by `run_job_camera` when the task should run again after `delay` seconds."""

    def __init__(self, delay: float, reason: str = ""):
        super().__init__(reason)
        self.delay = delay


class EmptyListGuard(isapi.PermanentError):
    """Converging to an empty list would wipe a camera that holds plates: needs `allow_empty`."""


# --- Cameras as devices ------------------------------------------------------------------------


def camera_credentials(camera: Camera) -> tuple[str, str]:
    if camera.username or camera.password:
        return camera.username, camera.password
    defaults = DefaultCameraCredentials.objects.order_by("-updated_at").first()
    if defaults is not None:
        return defaults.username, defaults.password
    return "", ""


def set_default_credentials(*, username: str, password: str) -> None:
    DefaultCameraCredentials.objects.all().delete()
    DefaultCameraCredentials.objects.create(username=username, password=password)


def anpr_for(camera: Camera) -> AnprCamera:
    device, _ = AnprCamera.objects.get_or_create(camera=camera)
    return device


def client_for_camera(camera: Camera, device: AnprCamera | None = None) -> isapi.ISAPIClient:
    """The ISAPI client for a camera, with the family we already detected and our timeouts."""
    username, password = camera_credentials(camera)
    return isapi.client_for(
        camera.ip,
        port=camera.http_port,
        channel=camera.channel,
        username=username,
        password=password,
        family=(device.family if device else None) or None,
        timeouts=isapi.Timeouts(settings.PLATES_CONNECT_TIMEOUT, settings.PLATES_READ_TIMEOUT),
        page_size=settings.PLATES_SEARCH_PAGE_SIZE,
        batch_size=settings.PLATES_BATCH_SIZE,
    )


def auth_block(camera: Camera, device: AnprCamera) -> str | None:
    """Why we must not talk to this camera now (its credentials were refused), or None.

    A refused password is not tried again until it changes (the lockout counts every try); a lock
    is waited out.
    """
    if device.auth_failed_at is None:
        return None
    if device.locked_until and device.locked_until > timezone.now():
        # The lock is on our address, not on the credentials: new ones would fail too (and count).
        left = int((device.locked_until - timezone.now()).total_seconds()) + 1
        return f"{device.auth_error} (locked for {left} s more; not retried until then)"
    fingerprint = isapi.credentials_fingerprint(*camera_credentials(camera))
    if fingerprint != device.auth_fingerprint:
        return None  # credentials changed since: try them
    if device.locked_until:
        return None  # the lock is over: one more try
    return f"{device.auth_error} (not retried until the camera's credentials are changed)"


def record_auth_failure(camera: Camera, device: AnprCamera, exc: isapi.BadCredentials) -> None:
    device.auth_failed_at = timezone.now()
    device.auth_fingerprint = isapi.credentials_fingerprint(*camera_credentials(camera))
    device.auth_error = str(exc)
    device.locked_until = (
        timezone.now() + timedelta(seconds=exc.unlock_time) if exc.locked and exc.unlock_time else None
    )
    if exc.locked and not exc.unlock_time:
        device.locked_until = timezone.now() + timedelta(seconds=1800)
    device.save(update_fields=["auth_failed_at", "auth_fingerprint", "auth_error", "locked_until"])


def clear_auth_failure(camera: Camera) -> None:
    AnprCamera.objects.filter(camera=camera).update(
        auth_failed_at=None, auth_fingerprint="", auth_error="", locked_until=None
    )


def remember_family(device: AnprCamera, client: isapi.ISAPIClient) -> None:
    if client.family and client.family != device.family:
        device.family = client.family
        device.family_detected_at = timezone.now()
        AnprCamera.objects.filter(pk=device.pk).update(
            family=device.family, family_detected_at=device.family_detected_at
        )


def claim_camera(camera_id: int) -> str | None:
    """Take the camera's lease (one job at a time per camera); the token, or None if it is held."""
    AnprCamera.objects.get_or_create(camera_id=camera_id)
    token = secrets.token_hex(8)
    now = timezone.now()
    got = (
        AnprCamera.objects.filter(pk=camera_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=token, lease_until=now + timedelta(seconds=settings.PLATES_CAMERA_LEASE))
    )
    return token if got else None


def release_camera(camera_id: int, token: str) -> None:
    AnprCamera.objects.filter(pk=camera_id, lease_owner=token).update(lease_owner="", lease_until=None)


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), capped."""
    base = min(settings.PLATES_RETRY_MAX_DELAY, settings.PLATES_RETRY_BASE_DELAY * 2 ** max(0, attempt - 1))
    return base * (0.5 + random.random())


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


def _assign(cameras: list[Camera], plates: list[Plate], desired: bool) -> None:
    """Set plates as desired (or to remove) on cameras' lists: one statement, however many rows."""
    AnprCamera.objects.bulk_create([AnprCamera(camera=c) for c in cameras], ignore_conflicts=True)
    if not cameras or not plates:
        return
    camera_ids = json.dumps([c.pk for c in dict.fromkeys(cameras)])
    plate_ids = json.dumps([p.pk for p in plates])
    table = CameraPlate._meta.db_table
    if connection.vendor == "postgresql":
        source = (
            "SELECT c.value::bigint, p.value::bigint, %s, %s FROM json_array_elements_text(%s::json) c "
            "CROSS JOIN json_array_elements_text(%s::json) p WHERE true"
        )
    else:  # SQLite (JSON1 is built in)
        source = "SELECT c.value, p.value, %s, %s FROM json_each(%s) c, json_each(%s) p WHERE true"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (camera_id, plate_id, desired, updated_at) {source} "
            "ON CONFLICT (camera_id, plate_id) DO UPDATE "
            "SET desired = excluded.desired, updated_at = excluded.updated_at",
            [desired, timezone.now(), camera_ids, plate_ids],
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


def _create_job(
    *,
    operation: str,
    cameras: list[Camera],
    items: dict[int, list[tuple[str, str, str]]] | list[tuple[str, str, str]],
    user=None,
    source: str = Source.API,
    params: dict | None = None,
    enqueue: bool = True,
) -> PlateJob:
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
    ids = [row.id for row in rows]
    if enqueue:
        transaction.on_commit(lambda: _enqueue(ids))
    return job


def _enqueue(job_camera_ids: list[int]) -> None:
    from .tasks import run_job_camera_task

    for pk in job_camera_ids:
        run_job_camera_task.delay(pk)


@transaction.atomic
def push_plates(
    *, cameras: list[Camera], numbers: list[str], user=None, source: str = Source.API, defaults: dict | None = None
) -> PlateJob:
    """Add plates to cameras' lists (present exactly once) and push them."""
    plates = upsert_plates(numbers, user=user, defaults=defaults)
    _assign(cameras, plates, desired=True)
    return _create_job(
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
    plates = upsert_plates(numbers, user=user)
    _assign(cameras, plates, desired=False)
    return _create_job(
        operation=Operation.DELETE,
        cameras=cameras,
        items=[(Operation.DELETE, p.number, "") for p in plates],
        user=user,
        source=source,
        params={"plates": [p.number for p in plates]},
    )


@transaction.atomic
def rename_plates(*, cameras: list[Camera], renames: list[Rename], user=None, source: str = Source.API) -> PlateJob:
    """Rename plates on cameras: old gone, new present once, list type and validity kept."""
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
        (old_plate,) = upsert_plates([r.old], user=user)
        _assign(cameras, [new_plate], desired=True)
        _assign(cameras, [old_plate], desired=False)
    return _create_job(
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
    allow_empty: bool = False,
    user=None,
    source: str = Source.API,
) -> PlateJob:
    """Read each camera's list and report drift; with `converge`, make it match its desired list."""
    for camera in cameras:
        AnprCamera.objects.get_or_create(camera=camera)
    return _create_job(
        operation=Operation.CONVERGE if converge else Operation.SYNC,
        cameras=cameras,
        items=[],
        user=user,
        source=source,
        params={"converge": converge, "remove_unexpected": remove_unexpected, "allow_empty": allow_empty},
    )


def run_job_inline(job: PlateJob) -> PlateJob:
    """Run every camera of a job in this process (command line use, no worker needed)."""
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
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.is_finished or time.monotonic() >= deadline:
            return job
        time.sleep(0.05)


# --- Running one camera's part of a job ---------------------------------------------------------


class _Items:
    """Per-plate rows of one job camera, updated a batch at a time."""

    def __init__(self, job_camera: PlateJobCamera):
        self.job_camera = job_camera
        self._pending: list[reconcile.Outcome] = []
        self._flushed = time.monotonic()

    def open(self):
        return PlateJobItem.objects.filter(job_camera=self.job_camera).exclude(
            status__in=[Status.SUCCEEDED, Status.FAILED]
        )

    def start_attempt(self) -> None:
        now = timezone.now()
        self.open().update(status=Status.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce("started_at", now))

    def report(self, outcomes: list[reconcile.Outcome]) -> None:
        """Record outcomes; written in one UPDATE per kind of result at most every FLUSH_SECONDS or
        FLUSH_ITEMS (progress stays live without a statement per batch)."""
        self._pending.extend(outcomes)
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
            self.open().filter(plate__in=plates).update(
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
        _run_attempt(jc, job, camera)
    finally:
        release_camera(camera.pk, token)
        finish_job_if_done(job.pk)


def _run_attempt(jc: PlateJobCamera, job: PlateJob, camera: Camera) -> None:
    device = anpr_for(camera)
    items = _Items(jc)
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


# --- Operation handlers: (client, job camera, job, camera, device, items) -> None ------------------


def _specs_for(numbers: list[str]) -> list[isapi.PlateSpec]:
    rows = Plate.objects.filter(number__in=numbers).values_list("number", "list_type", "valid_from", "valid_until")
    specs = {row[0]: isapi.PlateSpec(*row) for row in rows}
    return [specs.get(n) or isapi.PlateSpec(n) for n in numbers]


def _open_plates(items: _Items) -> list[str]:
    return list(items.open().values_list("plate", flat=True))


def _handle_add(client, jc, job, camera, device, items: _Items) -> None:
    specs = _specs_for(_open_plates(items))
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
    CameraPlate.objects.filter(camera=camera, desired=False, plate__number__in=list(gone)).delete()


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
    from .backups import restore_specs

    specs, replace_all = restore_specs(job)
    open_plates = set(_open_plates(items))
    state = reconcile.group(client.list_all())
    adds = [s for s in specs if s.plate in open_plates]
    reconcile.ensure_present(client, adds, items.report, current={s.plate: state.get(s.plate, []) for s in adds})
    if replace_all:
        keep = {s.plate for s in specs}
        extra = sorted(set(state) - keep)
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


# --- Periodic convergence -----------------------------------------------------------------------


def cameras_to_converge() -> list[int]:
    """Active cameras with a plate list here (or set to remove unexpected plates)."""
    return list(
        AnprCamera.objects.filter(camera__is_active=True)
        .filter(Q(camera__plate_assignments__isnull=False) | Q(remove_unexpected=True))
        .values_list("camera_id", flat=True)
        .distinct()
    )


def converge_camera(camera_id: int) -> PlateJob | None:
    """Read one camera; when it drifted from its desired list, create (and enqueue) a converge job.

    A camera that is off line is just noted: the next period tries again, so it converges when it
    comes back. A camera whose credentials were refused is left alone until they change.
    """
    camera = Camera.objects.filter(pk=camera_id, is_active=True).first()
    if camera is None:
        return None
    device = anpr_for(camera)
    blocked = auth_block(camera, device)
    if blocked:
        AnprCamera.objects.filter(pk=device.pk).update(last_sync_error=blocked)
        return None
    if PlateJobCamera.objects.filter(camera=camera).exclude(status__in=FINAL).exists():
        return None  # a job is on it already; it will converge the camera (or the next period will)
    client = client_for_camera(camera, device)
    try:
        state = reconcile.group(client.list_all())
    except isapi.ISAPIError as exc:
        remember_family(device, client)
        if isinstance(exc, isapi.BadCredentials):
            record_auth_failure(camera, device, exc)
        AnprCamera.objects.filter(pk=device.pk).update(last_sync_error=str(exc))
        return None
    remember_family(device, client)
    desired, removals = desired_for(camera)
    report = reconcile.drift(desired, removals, state)
    AnprCamera.objects.filter(pk=device.pk).update(
        drift=report,
        last_synced_at=timezone.now(),
        last_sync_error="",
        auth_failed_at=None,
        auth_fingerprint="",
        auth_error="",
        locked_until=None,
        plate_count=sum(len(v) for v in state.values()),
    )
    work = report["missing"] or report["to_remove"] or report["duplicates"] or report["mismatched"]
    if not work and not (device.remove_unexpected and report["unexpected"]):
        return None
    with transaction.atomic():
        return sync_cameras(
            cameras=[camera], converge=True, remove_unexpected=device.remove_unexpected, source=Source.SCHEDULE
        )


def requeue_stalled() -> int:
    """Job cameras whose task message was lost (or whose worker died) are queued again; running
    them twice is harmless (idempotent, one lease per camera)."""
    from .tasks import run_job_camera_task

    horizon = timezone.now() - timedelta(seconds=settings.PLATES_CAMERA_LEASE)
    stalled = list(
        PlateJobCamera.objects.exclude(status__in=FINAL)
        .filter(
            Q(next_attempt_at__lt=horizon)
            | Q(next_attempt_at__isnull=True, started_at__lt=horizon)
            | Q(next_attempt_at__isnull=True, started_at__isnull=True, job__created_at__lt=horizon)
        )
        .values_list("pk", flat=True)
    )
    for pk in stalled:
        run_job_camera_task.delay(pk)
    return len(stalled)


def converge_all() -> int:
    """Beat: requeue stalled jobs, then check every camera with a plate list against it."""
    from .tasks import converge_camera_task

    requeue_stalled()
    ids = cameras_to_converge()
    for camera_id in ids:
        converge_camera_task.delay(camera_id)
    return len(ids)
