"""Back up ANPR cameras' plate lists (the seed's backup_maker).

    python manage.py backup_plates -u USER -c PASSWORD -i IP -b BACKUP_PATH
    python manage.py backup_plates --all

The device's own export (`licensePlateAuditData?fileType=csv`) is saved byte for byte, timestamped,
with a normalised copy beside it. `-i` may name a registered camera (`ip`, `ip:port`): then its
stored credentials are used unless -u/-c are given, and the backup is listed in the admin.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from plates.clients import isapi
from plates.models import Source
from plates.services import backups


class Command(BaseCommand):
    help = "Back up cameras' plate lists: the device's CSV export byte for byte, plus a normalised copy."

    def add_arguments(self, parser):
        parser.add_argument("-u", "--user", "--usuario", dest="user", help="Camera user name")
        parser.add_argument(
            "-c", "-p", "--password", "--contraseña", "--contrasena", dest="password", help="Camera password"
        )
        parser.add_argument("-i", "--ip", dest="ip", help="Camera address: ip or ip:port")
        parser.add_argument("--port", type=int, default=None, help="Camera HTTP port (default 80)")
        parser.add_argument("--channel", type=int, default=1)
        parser.add_argument("-b", "--backup-path", dest="backup_path", help="Folder for the files")
        parser.add_argument("--all", action="store_true", help="Every ANPR camera registered here")

    def handle(self, *args, **opts):
        if opts["all"]:
            return self.backup_all(opts)
        if not opts["ip"]:
            raise CommandError("Name a camera with -i IP (or use --all).")
        host, _, port_text = opts["ip"].partition(":")
        port = opts["port"] or (int(port_text) if port_text.isdigit() else 80)
        directory = Path(opts["backup_path"]) if opts["backup_path"] else None
        camera = Camera.objects.filter(ip=host, http_port=port, channel=opts["channel"]).first()
        try:
            if camera is not None and not (opts["user"] or opts["password"]):
                backup = backups.backup_camera(camera, source=Source.COMMAND, directory=directory)
                self.report(
                    backups.backup_path(backup), backups.backup_path(backup, normalized=True), backup.plate_count
                )
                return
            if not (opts["user"] and opts["password"] is not None):
                raise CommandError("Give the camera's credentials with -u USER -c PASSWORD.")
            if directory is None:
                directory = backups.camera_dir(f"{host}:{port}")
            saved = backups.backup_address(
                host,
                port=port,
                channel=opts["channel"],
                username=opts["user"],
                password=opts["password"],
                directory=directory,
            )
        except (isapi.ISAPIError, backups.BackupError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        self.report(saved.raw, saved.normalized, saved.plate_count)

    def report(self, raw, normalized, count) -> None:
        self.stdout.write(f"{raw}\n{normalized}\n{count} plate(s)")

    def backup_all(self, opts) -> None:
        directory_root = Path(opts["backup_path"]) if opts["backup_path"] else None
        failures = 0
        for camera in Camera.objects.filter(pk__in=backups.anpr_camera_ids()):
            directory = directory_root / backups.camera_dir(camera.address).name if directory_root else None
            try:
                backup = backups.backup_camera(camera, source=Source.COMMAND, directory=directory)
            except (isapi.ISAPIError, backups.BackupError) as exc:
                failures += 1
                self.stderr.write(f"{camera.address}: {exc}")
                continue
            self.stdout.write(f"{camera.address}: {backups.backup_path(backup)} ({backup.plate_count} plate(s))")
        if failures:
            raise CommandError(f"{failures} camera(s) could not be backed up.")
