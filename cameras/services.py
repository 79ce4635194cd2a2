"""Discovery services: start a scan job, run it (scan, identify, validate, store), adopt what it found.

Views, the admin action, the `discover` command and the Celery tasks are thin callers of these.
Credentials reach the worker encrypted in the job row and are wiped when the job ends; they never
appear in logs, job rows, errors or API output (URLs are shown through `redact_url`).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import struct
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .clients import ffprobe, nmap, wsdiscovery
from .clients.errors import ScanError
from .clients.nmap import HostPorts
from .identify import Candidate, DeviceReport, identify_host
from .models import Camera, DiscoveredDevice, DiscoveredStream, DiscoveryJob

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: Brands whose channel count no API told us: probe channel after channel while they keep working.
OPEN_ENDED_BRANDS = ("xmeye", "dahua", "generic")


class InvalidRange(ValueError):
    pass


class InvalidCredentials(ValueError):
    pass


# ------------------------------------------------------------------------------------------ inputs
def validate_network_range(value: str) -> ipaddress.IPv4Network:
    """A CIDR (or one address) that is IPv4, not public unless allowed, and not over DISCOVERY_MAX_HOSTS."""
    text = (value or "").strip()
    if not text:
        raise InvalidRange(_("A network range is required, e.g. 192.168.1.0/24."))
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidRange(_("Not a valid CIDR range: %(value)s.") % {"value": text[:64]}) from exc
    if network.version != 4:
        raise InvalidRange(_("Only IPv4 ranges can be scanned."))
    if network.is_multicast or network.is_unspecified or network.is_reserved or network.network_address.packed[0] == 0:
        raise InvalidRange(_("That range cannot hold cameras."))
    if network.is_global and not settings.DISCOVERY_ALLOW_PUBLIC:
        raise InvalidRange(_("Public ranges are refused (set DISCOVERY_ALLOW_PUBLIC to allow them)."))
    if network.num_addresses > settings.DISCOVERY_MAX_HOSTS:
        raise InvalidRange(
            _("The range has %(n)d addresses; at most %(max)d may be scanned at once (DISCOVERY_MAX_HOSTS).")
            % {"n": network.num_addresses, "max": settings.DISCOVERY_MAX_HOSTS}
        )
    return network


def parse_credentials(value: str | dict | None) -> tuple[str, str]:
    """Credentials as clients send them: `user:password`, JSON `{"username": .., "password": ..}`, or `user`."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidCredentials(_("credentials: invalid JSON.")) from exc
    if isinstance(value, dict):
        username = value.get("username", value.get("user", ""))
        password = value.get("password", value.get("pass", ""))
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidCredentials(_("credentials: username and password must be strings."))
    elif isinstance(value, str):
        username, _sep, password = value.partition(":")
    else:
        raise InvalidCredentials(_("credentials: expected user:password or a JSON object."))
    if not username:
        raise InvalidCredentials(_("credentials: the username is empty."))
    if len(username) > 128 or len(password) > 128:
        raise InvalidCredentials(_("credentials: too long."))
    return username, password


def scan_key(network: str, username: str, password: str) -> str:
    """Identifies a (range, credentials) pair for the result cache without storing the credentials."""
    message = f"{network}\x00{username}\x00{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _cache_name(key: str) -> str:
    return f"cameras:discovery:{key}"


# ------------------------------------------------------------------------------------------- start
def start_discovery(
    *,
    network_range: str,
    username: str = "",
    password: str = "",
    requested_by=None,
    refresh: bool = False,
    enqueue: bool = True,
) -> tuple[DiscoveryJob, bool]:
    """A job for this range and credentials: a cached finished one (within CACHE_TTL), one already running,
    or a new one (enqueued on commit). Returns (job, from_cache)."""
    network = str(validate_network_range(network_range))
    key = scan_key(network, username, password)
    if not refresh:
        cached_id = cache.get(_cache_name(key))
        if cached_id:
            job = DiscoveryJob.objects.filter(pk=cached_id, status=DiscoveryJob.Status.SUCCEEDED).first()
            if job is not None:
                return job, True
        running = (
            DiscoveryJob.objects.filter(
                cache_key=key, status__in=[DiscoveryJob.Status.PENDING, DiscoveryJob.Status.RUNNING]
            )
            .order_by("-created_at")
            .first()
        )
        if running is not None:
            return running, False
    with transaction.atomic():
        job = DiscoveryJob.objects.create(
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
            network_range=network,
            username=username,
            password=password,
            with_credentials=bool(username or password),
            cache_key=key,
            hosts_total=ipaddress.ip_network(network).num_addresses,
        )
        if enqueue:
            from .tasks import run_discovery_job_task

            transaction.on_commit(lambda: run_discovery_job_task.delay(job.pk))
    logger.info("discovery job %s queued for %s", job.pk, network)
    return job, False


def wait_for_job(job: DiscoveryJob, timeout: float, poll: float = 0.25) -> DiscoveryJob:
    """Poll the row until the job finishes or `timeout` passes; returns the fresh row."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        job.refresh_from_db()
        if job.is_finished or time.monotonic() >= deadline:
            return job
        time.sleep(poll)


# --------------------------------------------------------------------------------------------- run
class _Progress:
    """Writes counters and a heartbeat to the job row, at most a few times a second."""

    WEIGHTS = {"scanning": (0, 10), "identifying": (10, 50), "validating": (50, 95), "storing": (95, 99)}

    def __init__(self, job: DiscoveryJob):
        self.job = job
        self.last = 0.0
        self.stage_started = time.monotonic()
        self.timings: dict[str, float] = {}

    def update(self, stage: str | None = None, fraction: float | None = None, force: bool = False, **counts) -> None:
        if stage:
            now = time.monotonic()
            if self.job.stage in self.WEIGHTS:
                self.timings[self.job.stage] = round(now - self.stage_started, 3)
            self.job.stage, self.stage_started = stage, now
        for name, value in counts.items():
            setattr(self.job, name, value)
        if fraction is not None:
            low, high = self.WEIGHTS.get(self.job.stage, (0, 100))
            self.job.progress = int(low + (high - low) * max(0.0, min(1.0, fraction)))
        now = time.monotonic()
        if force or stage or now - self.last > 0.5:
            self.last = now
            fields = {"stage": self.job.stage, "progress": self.job.progress, "heartbeat_at": timezone.now()}
            if stage:
                fields["timings"] = dict(self.timings)
            fields.update({name: getattr(self.job, name) for name in counts})
            DiscoveryJob.objects.filter(pk=self.job.pk).update(**fields)


def _claim(job_id: int) -> DiscoveryJob | None:
    """Take a pending job (a conditional UPDATE: two workers never run the same job)."""
    now = timezone.now()
    claimed = DiscoveryJob.objects.filter(pk=job_id, status=DiscoveryJob.Status.PENDING).update(
        status=DiscoveryJob.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    return DiscoveryJob.objects.get(pk=job_id) if claimed else None


def local_interface_addresses() -> list[str]:
    """IPv4 addresses of this machine's interfaces (SIOCGIFADDR), loopback excluded."""
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not address.startswith("127."):
                addresses.append(address)
    return addresses


def _ws_discovery(network: ipaddress.IPv4Network, hosts: list[HostPorts]) -> list[wsdiscovery.ProbeMatch]:
    """Unicast probes to the hosts nmap found; multicast only out of our own interfaces inside the range."""
    matches = []
    try:
        matches += wsdiscovery.probe_unicast([h.ip for h in hosts], timeout=min(settings.DISCOVERY_WS_TIMEOUT, 1.0))
    except OSError as exc:
        logger.warning("WS-Discovery unicast probe failed: %s", exc.strerror)
    if settings.DISCOVERY_WS_MULTICAST and not network.is_loopback:
        for address in local_interface_addresses():
            if ipaddress.ip_address(address) in network:
                try:
                    matches += wsdiscovery.probe_multicast(address, timeout=settings.DISCOVERY_WS_TIMEOUT)
                except OSError as exc:
                    logger.warning("WS-Discovery multicast probe on %s failed: %s", address, exc.strerror)
    return matches


def _slots(report: DeviceReport, channels: list[int] | None = None) -> list[list[Candidate]]:
    """Candidates grouped per (channel, substream), preferred first, duplicate URLs dropped."""
    groups: OrderedDict[tuple[int, bool], list[Candidate]] = OrderedDict()
    seen: set[str] = set()
    for candidate in report.candidates:
        if channels is not None and candidate.channel not in channels:
            continue
        if candidate.url in seen:
            continue
        seen.add(candidate.url)
        groups.setdefault((candidate.channel, candidate.substream), []).append(candidate)
    return list(groups.values())


def _validate_slot(slot: list[Candidate]) -> tuple[Candidate, ffprobe.StreamProbe]:
    """Try a slot's candidates in order; the first working one wins, else the last failure stands."""
    result = None
    for candidate in slot:
        result = ffprobe.probe(
            candidate.url, timeout=settings.DISCOVERY_FFPROBE_TIMEOUT, binary=settings.FFPROBE_BINARY
        )
        if result.ok or result.failure == ffprobe.FAILURE_AUTH:
            return candidate, result
    return candidate, result


def run_discovery_job(*, job_id: int) -> DiscoveryJob | None:
    """Run one job end to end. Idempotent: a job that is not pending is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    progress = _Progress(job)
    username, password = job.username, job.password
    errors: list[dict] = []
    try:
        network = ipaddress.ip_network(job.network_range)
        progress.update(stage=DiscoveryJob.Stage.SCANNING, fraction=0)
        hosts = nmap.scan(
            str(network),
            ports=settings.SCAN_PORTS,
            timeout=settings.DISCOVERY_SCAN_TIMEOUT,
            host_timeout=settings.DISCOVERY_HOST_TIMEOUT,
        )
        matches = _ws_discovery(network, hosts)
        by_ip = {h.ip: h for h in hosts}
        wsd_by_ip: dict[str, wsdiscovery.ProbeMatch] = {}
        for match in matches:
            for address, port in match.hosts():
                if ipaddress.ip_address(address) not in network:
                    continue
                wsd_by_ip.setdefault(address, match)
                if address not in by_ip:
                    by_ip[address] = HostPorts(ip=address, open_ports=[port])
        hosts = sorted(by_ip.values(), key=lambda h: ipaddress.ip_address(h.ip))
        progress.update(fraction=1, hosts_up=len(hosts), force=True)

        # Identify every host, a bounded number at once.
        progress.update(stage=DiscoveryJob.Stage.IDENTIFYING, fraction=0)
        reports: list[DeviceReport] = []
        with ThreadPoolExecutor(
            max_workers=max(1, settings.DISCOVERY_CONCURRENCY), thread_name_prefix="identify"
        ) as pool:
            futures = {
                pool.submit(
                    identify_host,
                    host,
                    username=username,
                    password=password,
                    timeout=settings.ONVIF_TIMEOUT,
                    wsd=wsd_by_ip.get(host.ip),
                    wsdl_dir=settings.ONVIF_WSDL_DIR or None,
                ): host
                for host in hosts
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
                for future in done:
                    host = futures[future]
                    try:
                        reports.append(future.result())
                    except Exception as exc:  # a bug for one host must not lose the others
                        logger.exception("discovery: identifying %s failed", host.ip)
                        errors.append(
                            {"host": host.ip, "stage": "identify", "reason": "error", "message": type(exc).__name__}
                        )
                done_count = len(futures) - len(pending)
                progress.update(fraction=done_count / max(1, len(futures)), hosts_done=done_count)
        progress.update(force=True, hosts_done=len(reports))
        for report in reports:
            errors.extend(report.errors)

        # Validate candidate streams with ffprobe, bounded; open-ended recorders grow channel by channel.
        progress.update(stage=DiscoveryJob.Stage.VALIDATING, fraction=0)
        results: dict[int, list[tuple[Candidate, ffprobe.StreamProbe]]] = {i: [] for i in range(len(reports))}
        total = checked = ok = 0
        with ThreadPoolExecutor(
            max_workers=max(1, settings.DISCOVERY_FFPROBE_CONCURRENCY), thread_name_prefix="ffprobe"
        ) as pool:
            futures = {}
            for index, report in enumerate(reports):
                for slot in _slots(report):
                    futures[pool.submit(_validate_slot, slot)] = index
            total = len(futures)
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
                for future in done:
                    index = futures[future]
                    candidate, result = future.result()
                    results[index].append((candidate, result))
                    checked += 1
                    ok += int(result.ok)
                    report = reports[index]
                    if (
                        result.ok
                        and not candidate.substream
                        and report.channels == 0
                        and report.brand in OPEN_ENDED_BRANDS
                        and candidate.channel < settings.DISCOVERY_MAX_CHANNELS
                        and candidate.source == "template"
                    ):
                        from .identify import template_candidates

                        nxt = candidate.channel + 1
                        report.candidates += template_candidates(report, [nxt], username=username, password=password)
                        for slot in _slots(report, channels=[nxt]):
                            new = pool.submit(_validate_slot, slot)
                            futures[new] = index
                            pending.add(new)
                            total += 1
                progress.update(
                    fraction=checked / max(1, total), streams_total=total, streams_checked=checked, streams_ok=ok
                )
        progress.update(force=True, streams_total=total, streams_checked=checked, streams_ok=ok)

        progress.update(stage=DiscoveryJob.Stage.STORING, fraction=0)
        devices = [
            store_report(report, results[index], username=username, password=password)
            for index, report in enumerate(reports)
        ]
        job.devices.add(*devices)
        progress.timings["storing"] = round(time.monotonic() - progress.stage_started, 3)
        finish(
            job,
            status=DiscoveryJob.Status.SUCCEEDED,
            errors=errors,
            devices_found=len(devices),
            timings=progress.timings,
        )
        cache.set(_cache_name(job.cache_key), job.pk, settings.CACHE_TTL)
    except ScanError as exc:
        finish(job, status=DiscoveryJob.Status.FAILED, errors=errors, error=str(exc))
    except Exception as exc:
        logger.exception("discovery job %s failed", job.pk)
        finish(
            job,
            status=DiscoveryJob.Status.FAILED,
            errors=errors,
            error=_("Internal error (%(type)s); see the worker log.") % {"type": type(exc).__name__},
        )
    job.refresh_from_db()
    logger.info(
        "discovery job %s %s: %s devices, %s/%s streams working in %ss",
        job.pk,
        job.status,
        job.devices_found,
        job.streams_ok,
        job.streams_checked,
        job.duration_seconds,
    )
    return job


def finish(job: DiscoveryJob, *, status: str, errors: list | None = None, error: str = "", **counts) -> None:
    """End a job: status, timings, redacted errors, and the credentials wiped."""
    from .clients.ffprobe import redact

    fields = {
        "status": status,
        "stage": DiscoveryJob.Stage.DONE,
        "finished_at": timezone.now(),
        "error": redact(error)[:2000],
        "username": "",
        "password": "",
        **counts,
    }
    if status == DiscoveryJob.Status.SUCCEEDED:
        fields["progress"] = 100
    if errors is not None:
        fields["errors"] = [{k: redact(str(v)) for k, v in e.items()} for e in errors[:500]]
    DiscoveryJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


# ------------------------------------------------------------------------------------------- store
def _match_device(report: DeviceReport) -> DiscoveredDevice | None:
    """Serial first, then MAC, then IP (an IP match must not contradict a known serial or MAC)."""
    if report.serial:
        device = DiscoveredDevice.objects.filter(serial=report.serial).order_by("-last_seen").first()
        if device:
            return device
    if report.mac:
        device = DiscoveredDevice.objects.filter(mac=report.mac).order_by("-last_seen").first()
        if device:
            return device
    candidates = DiscoveredDevice.objects.filter(ip=report.ip).order_by("-last_seen")
    if report.serial:
        candidates = candidates.filter(serial__in=["", report.serial])
    if report.mac:
        candidates = candidates.filter(mac__in=["", report.mac])
    return candidates.first()


@transaction.atomic
def store_report(
    report: DeviceReport, results: list[tuple[Candidate, ffprobe.StreamProbe]], *, username: str, password: str
) -> DiscoveredDevice:
    """Create or update the device row and its streams from one host's report."""
    now = timezone.now()
    device = _match_device(report) or DiscoveredDevice(ip=report.ip)
    device.ip = report.ip
    device.open_ports = report.open_ports
    for name in (
        "http_port",
        "rtsp_port",
        "onvif_port",
        "manufacturer",
        "model",
        "firmware",
        "serial",
        "mac",
        "device_type",
        "name",
    ):
        value = getattr(report, name)
        if value:
            setattr(device, name, value)
    if report.brand != "generic" or not device.brand:
        device.brand = report.brand
    device.identified_by = sorted(set(report.identified_by))
    device.login = report.login
    if any(result.ok for _c, result in results) or report.login == "ok":
        device.username, device.password = username, password
    working_channels = {c.channel for c, r in results if r.ok}
    device.channels = max(report.channels, max(working_channels, default=0))
    device.last_seen = now
    device.save()
    for candidate, result in results:
        DiscoveredStream.objects.update_or_create(
            device=device,
            channel=candidate.channel,
            substream=candidate.substream,
            defaults={
                "source": candidate.source,
                "url": candidate.url,
                "status": DiscoveredStream.Status.OK if result.ok else DiscoveredStream.Status.FAILED,
                "failure": "" if result.ok else result.failure,
                "detail": result.detail[:300],
                "codec": result.codec,
                "width": result.width,
                "height": result.height,
                "checked_at": now,
            },
        )
    return device


# ------------------------------------------------------------------------------------------- adopt
class AdoptionError(ValueError):
    pass


@transaction.atomic
def adopt(
    *,
    device_ids: list[int] | None = None,
    stream_ids: list[int] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> list[Camera]:
    """Create (or update) one Camera per adopted channel, credentials stored encrypted.

    `device_ids` adopts every channel of those devices with a working main stream; `stream_ids` adopts
    the channels of those streams. The working main URL becomes the camera's RTSP URL (encrypted).
    """
    streams = DiscoveredStream.objects.select_related("device").filter(status=DiscoveredStream.Status.OK)
    wanted = Q(pk__in=[])
    if device_ids:
        wanted |= Q(device_id__in=device_ids)
    if stream_ids:
        pairs = DiscoveredStream.objects.filter(pk__in=stream_ids).values_list("device_id", "channel")
        for device_id, channel in pairs:
            wanted |= Q(device_id=device_id, channel=channel)
    chosen = list(streams.filter(wanted).order_by("device_id", "channel", "substream"))
    if not chosen:
        raise AdoptionError(_("Nothing to adopt: no working stream among the ones named."))
    cameras: dict[tuple[int, int], Camera] = {}
    for stream in chosen:
        key = (stream.device_id, stream.channel)
        device = stream.device
        if key not in cameras:
            main = next((s for s in chosen if (s.device_id, s.channel) == key and not s.substream), stream)
            http_port = device.http_port or 80
            camera = Camera.objects.filter(ip=device.ip, http_port=http_port, channel=stream.channel).first()
            camera = camera or Camera(ip=device.ip, http_port=http_port, channel=stream.channel)
            label = device.name or device.model or device.brand
            camera.name = camera.name or (label if device.channels <= 1 else f"{label} ch{stream.channel}")[:200]
            camera.brand = device.brand
            camera.rtsp_port = device.rtsp_port or 554
            camera.username = device.username if username is None else username
            camera.password = device.password if password is None else password
            camera.rtsp_url = main.url if not main.substream else ""
            camera.is_active = True
            camera.last_seen = device.last_seen
            camera.save()
            cameras[key] = camera
        stream.camera = cameras[key]
        stream.save(update_fields=["camera"])
    return list(cameras.values())


# ---------------------------------------------------------------------------------------- recovery
def requeue_stale_jobs() -> int:
    """Jobs whose message was lost or whose worker died: re-enqueue (up to MAX_ATTEMPTS), else fail."""
    from .tasks import run_discovery_job_task

    now = timezone.now()
    count = 0
    stale_pending = DiscoveryJob.objects.filter(
        status=DiscoveryJob.Status.PENDING, created_at__lt=now - timedelta(minutes=2)
    )
    for job in stale_pending:
        run_discovery_job_task.delay(job.pk)
        count += 1
    dead = DiscoveryJob.objects.filter(
        status=DiscoveryJob.Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.DISCOVERY_JOB_TIMEOUT)
    )
    for job in dead:
        if job.attempts >= MAX_ATTEMPTS:
            finish(job, status=DiscoveryJob.Status.FAILED, error=_("The worker stopped answering; gave up."))
        elif DiscoveryJob.objects.filter(pk=job.pk, status=DiscoveryJob.Status.RUNNING).update(
            status=DiscoveryJob.Status.PENDING, stage=DiscoveryJob.Stage.QUEUED
        ):
            run_discovery_job_task.delay(job.pk)
            count += 1
    return count
