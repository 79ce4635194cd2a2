"""`manage.py discover --range CIDR --user U --password P [--json] [--inline] [--refresh]`

Runs the same discovery job as `GET /api/cameras/discover`: by default it is queued for a Celery worker
(queue "discovery") and this command follows its progress; `--inline` runs it in this process, for a
machine without a worker. The password may also come from the LPRNVR_DISCOVERY_PASSWORD environment
variable (keeps it out of the shell history and the process list).
"""

from __future__ import annotations

import json
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cameras import services
from cameras.api.discovery import DiscoveredDeviceSerializer, DiscoveryJobSerializer
from cameras.models import DiscoveredStream, DiscoveryJob


class Command(BaseCommand):
    help = "Find cameras and DVR/NVR channels on a network range, validate their RTSP streams."

    def add_arguments(self, parser):
        parser.add_argument("--range", dest="network_range", default=settings.DEFAULT_NETWORK_RANGE,
                            help="CIDR to scan, e.g. 192.168.1.0/24")  # fmt: skip
        parser.add_argument("--user", default="", help="device username")
        parser.add_argument("--password", default=None, help="device password (or LPRNVR_DISCOVERY_PASSWORD)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--inline", action="store_true", help="run here instead of on a Celery worker")
        parser.add_argument("--refresh", action="store_true", help="ignore cached results")
        parser.add_argument("--timeout", type=float, default=1800, help="give up waiting after this many seconds")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None:
            password = os.environ.get("LPRNVR_DISCOVERY_PASSWORD", "")
        try:
            job, cached = services.start_discovery(
                network_range=options["network_range"],
                username=options["user"],
                password=password,
                refresh=options["refresh"],
                enqueue=not options["inline"],
            )
        except (services.InvalidRange, services.InvalidCredentials) as exc:
            raise CommandError(str(exc)) from None
        quiet = options["json"]
        if not cached:
            if options["inline"]:
                self._progress(job, quiet, inline=True)
            else:
                self._follow(job, options["timeout"], quiet)
        job.refresh_from_db()
        if not job.is_finished:
            raise CommandError(f"job {job.pk} still {job.status} after {options['timeout']:.0f} s")
        self._report(job, cached, as_json=options["json"])
        if job.status == DiscoveryJob.Status.FAILED:
            raise CommandError(f"discovery failed: {job.error}")

    def _progress_line(self, job: DiscoveryJob) -> str:
        return (
            f"\r[{job.progress:3d}%] {job.stage:<11} hosts {job.hosts_done}/{job.hosts_up} "
            f"streams {job.streams_ok} ok / {job.streams_checked} checked"
        )

    def _progress(self, job: DiscoveryJob, quiet: bool, inline: bool) -> None:
        import threading

        done = threading.Event()
        if not quiet and self.stderr.isatty():

            def show():
                while not done.wait(0.5):
                    fresh = DiscoveryJob.objects.get(pk=job.pk)
                    self.stderr.write(self._progress_line(fresh), ending="")
                    self.stderr.flush()
                from django.db import connection

                connection.close()

            threading.Thread(target=show, daemon=True).start()
        try:
            services.run_discovery_job(job_id=job.pk)
        finally:
            done.set()
        if not quiet:
            job.refresh_from_db()
            self.stderr.write(self._progress_line(job).lstrip("\r"))

    def _follow(self, job: DiscoveryJob, timeout: float, quiet: bool) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            job.refresh_from_db()
            line = self._progress_line(job)
            if not quiet and line != last:
                self.stderr.write(
                    line if self.stderr.isatty() else line.lstrip("\r"), ending="" if self.stderr.isatty() else "\n"
                )
                self.stderr.flush()
                last = line
            if job.is_finished:
                break
            time.sleep(0.5)
        if not quiet and self.stderr.isatty():
            self.stderr.write("")

    def _report(self, job: DiscoveryJob, cached: bool, as_json: bool) -> None:
        devices = job.devices.prefetch_related("streams").order_by("ip")
        if as_json:
            body = {
                "job": DiscoveryJobSerializer(job).data,
                "cached": cached,
                "devices": DiscoveredDeviceSerializer(devices, many=True).data,
            }
            self.stdout.write(json.dumps(body, indent=2, default=str))
            return
        rows = [("IP", "BRAND", "MODEL", "SERIAL", "CH", "STREAM", "STATUS", "URL")]
        for device in devices:
            for stream in device.streams.all():
                status = "ok" if stream.status == DiscoveredStream.Status.OK else f"failed: {stream.failure}"
                rows.append((device.ip, device.brand, device.model or "-", device.serial or "-", str(stream.channel),
                             "sub" if stream.substream else "main", status, stream.display_url))  # fmt: skip
            if not device.streams.exists():
                rows.append((device.ip, device.brand, device.model or "-", device.serial or "-", "-", "-",
                             f"login {device.login}" if device.login else "no stream", "-"))  # fmt: skip
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        self.stdout.write(
            f"\njob {job.pk} {job.status}{' (cached)' if cached else ''}: {job.devices_found} devices, "
            f"{job.streams_ok}/{job.streams_checked} streams working, {job.duration_seconds or 0:.1f} s"
        )
        for error in job.errors[:20]:
            self.stdout.write(f"  {error.get('host', '')} {error.get('stage', '')}: {error.get('message', '')}")
