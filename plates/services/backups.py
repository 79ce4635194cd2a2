"""Backups of cameras' plate lists: the device's own CSV export kept byte for byte, plus our
normalised copy; restore pushes the records back (additive unless replace-all is asked for); import
takes a CSV's records into the desired lists. The CSV formats themselves are `plates.csvformat`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Camera

from ..clients import isapi
from ..csvformat import CsvError, normalised_csv, parse_date, parse_device_csv
from ..models import AnprCamera, CameraPlate, Operation, Plate, PlateBackup, PlateJob, Source, clean_plate
from .devices import device_session
from .jobs import assign_plates, create_job, push_plates, remove_plates, upsert_plates
from .operations import check_wipe
from .scope import ensure_anpr_capable, ensure_confined, ensure_may_confirm_wipe


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class SavedFiles:
    raw: Path
    normalized: Path
    sha256: str
    size: int
    plate_count: int


def save_export(data: bytes, directory: Path, *, when=None) -> SavedFiles:
    """Write the export exactly as received, timestamped, and a normalised copy beside it."""
    when = when or timezone.now()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
    raw = directory / f"license_plate_data_{stamp}.csv"
    normalized = directory / f"license_plate_data_{stamp}.normalized.csv"
    specs = parse_device_csv(data)
    raw.write_bytes(data)
    normalized.write_bytes(normalised_csv(specs))
    return SavedFiles(raw, normalized, hashlib.sha256(data).hexdigest(), len(data), len(specs))


def camera_dir(camera_address: str) -> Path:
    return Path(settings.BACKUPS_DIR) / "plates" / re.sub(r"[^A-Za-z0-9._-]", "_", camera_address)


def _record(camera: Camera | None, address: str, files: SavedFiles, user, source: str) -> PlateBackup:
    base = Path(settings.BACKUPS_DIR)

    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(p.resolve())

    return PlateBackup.objects.create(
        camera=camera,
        camera_address=address,
        created_by=user if getattr(user, "pk", None) else None,
        source=source,
        raw_path=rel(files.raw),
        normalized_path=rel(files.normalized),
        size=files.size,
        sha256=files.sha256,
        plate_count=files.plate_count,
    )


def backup_camera(camera: Camera, *, user=None, source: str = Source.SCHEDULE, directory: Path | None = None):
    """Export a registered camera's list and record the backup."""
    with device_session(camera) as client:
        data = client.export_csv()
    files = save_export(data, directory or camera_dir(camera.address))
    return _record(camera, camera.address, files, user, source)


def backup_camera_by_id(camera_id: int) -> PlateBackup | None:
    camera = Camera.objects.filter(pk=camera_id, is_active=True).first()
    if camera is None:
        return None
    return backup_camera(camera)


def backup_address(
    host: str, *, port: int = 80, channel: int = 1, username: str, password: str, directory: Path
) -> SavedFiles:
    """The seed's backup_maker: export any camera by address into `directory`."""
    client = isapi.ISAPIClient(
        host,
        port=port,
        channel=channel,
        username=username,
        password=password,
        timeouts=isapi.Timeouts(settings.PLATES_CONNECT_TIMEOUT, settings.PLATES_READ_TIMEOUT),
    )
    with client:
        data = client.export_csv()
    return save_export(data, directory)


def anpr_camera_ids() -> list[int]:
    return list(AnprCamera.objects.filter(camera__is_active=True).values_list("camera_id", flat=True))


def backup_path(backup: PlateBackup, normalized: bool = False) -> Path:
    path = Path(backup.normalized_path if normalized else backup.raw_path)
    return path if path.is_absolute() else Path(settings.BACKUPS_DIR) / path


def specs_from_file(path: Path) -> list[isapi.PlateSpec]:
    try:
        return parse_device_csv(path.read_bytes())
    except CsvError as exc:
        raise BackupError(str(exc)) from exc


@transaction.atomic
def restore_backup(
    *,
    specs: list[isapi.PlateSpec],
    cameras: list[Camera],
    replace_all: bool = False,
    allow_empty: bool = False,
    backup: PlateBackup | None = None,
    confirm_wipe: bool = False,
    user=None,
    source: str = Source.API,
    enqueue: bool = True,
) -> PlateJob:
    """Put a backup's records back on cameras. Additive by default (never deletes); `replace_all`
    also removes plates the backup lacks, and an empty backup never replaces a list unless
    `allow_empty` says so on purpose; removing most of a camera's list needs `confirm_wipe` (admins).

    The backup's list type and validity win for the plates it names; a user may restore them only
    when no camera out of their reach holds a plate whose row would change (OutOfScope otherwise)."""
    ensure_may_confirm_wipe(user=user, confirm_wipe=confirm_wipe)
    ensure_anpr_capable(cameras)
    if not specs and not allow_empty:
        raise BackupError(_("The backup holds no plates: nothing to restore (allow_empty to empty the cameras)."))
    by_number = {s.plate: s for s in specs}
    changed = [
        p.number
        for p in Plate.objects.filter(number__in=list(by_number))
        if (p.list_type, p.valid_from, p.valid_until)
        != (by_number[p.number].list_type, by_number[p.number].valid_from, by_number[p.number].valid_until)
    ]
    ensure_confined(user=user, numbers=changed)
    plates = upsert_plates([s.plate for s in specs], user=user)
    for plate in plates:
        s = by_number[plate.number]
        Plate.objects.filter(pk=plate.pk).update(
            list_type=s.list_type, valid_from=s.valid_from, valid_until=s.valid_until, delete_requested=False
        )
    assign_plates(cameras, plates, desired=True)
    if replace_all:
        CameraPlate.objects.filter(camera__in=cameras, desired=True).exclude(plate__in=plates).update(desired=False)
    params = {
        "backup": backup.pk if backup else None,
        "replace_all": replace_all,
        "confirm_wipe": confirm_wipe,
        "specs": [[s.plate, s.list_type, str(s.valid_from or ""), str(s.valid_until or "")] for s in specs],
    }
    return create_job(
        operation=Operation.RESTORE,
        cameras=cameras,
        items=[(Operation.ADD, s.plate, "") for s in specs],
        user=user,
        source=source,
        params=params,
        enqueue=enqueue,
    )


@dataclass(frozen=True)
class ImportResult:
    imported: list[str]
    skipped: list[str]
    jobs: list[PlateJob]


@transaction.atomic
def import_plates(
    *,
    specs: list[isapi.PlateSpec],
    cameras: list[Camera],
    replace: bool = False,
    confirm_wipe: bool = False,
    user=None,
    source: str = Source.ADMIN,
) -> ImportResult:
    """Import a CSV's records: plates new here are created with the file's list type and validity
    (the chosen list type when the file has no list column: see `parse_device_csv`); plates already
    here keep their row. With `cameras`, the plates are pushed there; `replace` also takes every
    other plate off those cameras' lists (a removal job), so their lists become the file; taking
    off more than half of a camera's list (more than 10 plates) needs `confirm_wipe` (WipeGuard)."""
    ensure_may_confirm_wipe(user=user, confirm_wipe=confirm_wipe)
    good, bad = [], []
    for spec in specs:
        try:
            good.append((clean_plate(spec.plate), spec))
        except ValueError:
            bad.append(spec.plate)
    numbers = [n for n, _s in good]
    existing = set(Plate.objects.filter(number__in=numbers).values_list("number", flat=True))
    Plate.objects.bulk_create(
        [
            Plate(number=n, list_type=s.list_type, valid_from=s.valid_from, valid_until=s.valid_until, created_by=user)
            for n, s in good
            if n not in existing
        ],
        ignore_conflicts=True,
    )
    jobs = []
    if cameras and numbers:
        jobs.append(push_plates(cameras=cameras, numbers=numbers, user=user, source=source))
    if cameras and replace:
        others = sorted(
            set(
                CameraPlate.objects.filter(camera__in=cameras, desired=True)
                .exclude(plate__number__in=numbers)
                .values_list("plate__number", flat=True)
            )
        )
        for camera in cameras:
            on_list = CameraPlate.objects.filter(camera=camera, desired=True)
            check_wipe(
                camera,
                removing=on_list.exclude(plate__number__in=numbers).count(),
                holding=on_list.count(),
                params={"confirm_wipe": confirm_wipe},
            )
        if others:
            jobs.append(remove_plates(cameras=cameras, numbers=others, user=user, source=source))
    return ImportResult(numbers, bad, jobs)


def restore_specs(job: PlateJob) -> tuple[list[isapi.PlateSpec], bool]:
    specs = [
        isapi.PlateSpec(p, t, parse_date(a) if a else None, parse_date(b) if b else None)
        for p, t, a, b in job.params["specs"]
    ]
    return specs, bool(job.params.get("replace_all"))
