"""Put a plate-list backup back on cameras, record by record (never a whole-list import).

    python manage.py restore_plates --backup ID [--camera REF ...] [--replace-all] [--allow-empty] [--confirm-wipe]
    python manage.py restore_plates --file PATH --camera REF [...]

Additive by default: plates in the backup are made present (once), nothing is deleted. With
--replace-all, plates the backup lacks are deleted too; an empty backup is refused unless
--allow-empty, so an empty list never replaces a full one by accident, and removing more than
half of a camera's list (more than 10 plates) needs --confirm-wipe.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.services import UnknownCameras, resolve_cameras
from plates import services
from plates.models import PlateBackup, Source
from plates.services import backups


class Command(BaseCommand):
    help = "Restore a plate-list backup to cameras (additive unless --replace-all)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--backup", type=int, help="Backup id (see the admin or /api/plates/backups/)")
        source.add_argument("--file", type=Path, help="A device CSV export")
        parser.add_argument("--camera", action="append", default=[], help="Camera ref (ip, ip:port); repeatable")
        parser.add_argument("--replace-all", action="store_true", help="Also delete plates the backup lacks")
        parser.add_argument("--allow-empty", action="store_true", help="Allow restoring an empty backup")
        parser.add_argument(
            "--confirm-wipe",
            action="store_true",
            help="Allow removing more than half of a camera's list (more than 10 plates) with --replace-all",
        )
        parser.add_argument(
            "--queue", action="store_true", help="Hand the job to the workers instead of running it here"
        )

    def handle(self, *args, **opts):
        backup = None
        if opts["backup"]:
            backup = PlateBackup.objects.filter(pk=opts["backup"]).first()
            if backup is None:
                raise CommandError(f"No backup {opts['backup']}.")
            path = backups.backup_path(backup)
        else:
            path = opts["file"]
        if not path.is_file():
            raise CommandError(f"Backup file missing: {path}")
        try:
            cameras = resolve_cameras(opts["camera"]) if opts["camera"] else []
        except UnknownCameras as exc:
            raise CommandError(f"Unknown camera(s): {', '.join(exc.refs)}") from exc
        if not cameras:
            if backup is None or backup.camera is None:
                raise CommandError("Name the cameras with --camera.")
            cameras = [backup.camera]
        specs = backups.specs_from_file(path)
        try:
            with transaction.atomic():
                job = backups.restore_backup(
                    specs=specs,
                    cameras=cameras,
                    replace_all=opts["replace_all"],
                    allow_empty=opts["allow_empty"],
                    confirm_wipe=opts["confirm_wipe"],
                    backup=backup,
                    source=Source.COMMAND,
                    enqueue=opts["queue"],
                )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if opts["queue"]:
            self.stdout.write(f"job {job.pk} queued")
            return
        job = services.run_job_inline(job)
        for row in job.cameras.all():
            line = f"{row.camera_address}: {row.status}"
            self.stdout.write(line + (f" ({row.last_error})" if row.last_error else ""))
        self.stdout.write(f"job {job.pk}: {job.status}")
        if job.status != "succeeded":
            raise CommandError(f"Restore {job.status}.")
