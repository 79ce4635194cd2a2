"""Discovery jobs: start one (or reuse a cached/running one), run it stage by stage, recover lost ones.

Stages: ports (nmap) and WS-Discovery -> identify each host (cameras.identify) -> ffprobe every candidate
stream -> store (cameras.services.devices). Progress, counters, per-stage timings and a heartbeat go to
the job row as it runs. Credentials reach the worker encrypted in that row and are wiped when it ends.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import socket
import struct
import time
from collections import Counter, OrderedDict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.clients import ffprobe, nmap, wsdiscovery
from cameras.clients.errors import ScanError
from cameras.clients.nmap import HostPorts
from cameras.identify import Candidate, DeviceReport, identify_host, template_candidates
from cameras.models import DiscoveryJob

from .devices import store_report
from .inputs import cache_name, scan_key, validate_network_range

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: Brands whose channel count no API told us: probe channel after channel while they keep working.
OPEN_ENDED_BRANDS = ("xmeye", "dahua", "generic")


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
        cached_id = cache.get(cache_name(key))
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
            from cameras.tasks import run_discovery_job_task

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


def _find_hosts(job: DiscoveryJob, network: ipaddress.IPv4Network, progress: _Progress):
    """nmap, then WS-Discovery; returns (hosts, WS-Discovery match per host address)."""
    progress.update(stage=DiscoveryJob.Stage.SCANNING, fraction=0)
    hosts = nmap.scan(
        str(network),
        ports=settings.SCAN_PORTS,
        timeout=settings.DISCOVERY_SCAN_TIMEOUT,
        host_timeout=settings.DISCOVERY_HOST_TIMEOUT,
        skip_ping=settings.DISCOVERY_SKIP_PING,
    )
    by_ip = {h.ip: h for h in hosts}
    wsd_by_ip: dict[str, wsdiscovery.ProbeMatch] = {}
    for match in _ws_discovery(network, hosts):
        for address, port in match.hosts():
            if ipaddress.ip_address(address) not in network:
                continue
            wsd_by_ip.setdefault(address, match)
            if address not in by_ip:  # an ONVIF device on a port we did not scan
                by_ip[address] = HostPorts(ip=address, open_ports=[port])
    hosts = sorted(by_ip.values(), key=lambda h: ipaddress.ip_address(h.ip))
    progress.update(fraction=1, hosts_up=len(hosts), force=True)
    return hosts, wsd_by_ip


def _identify(hosts, wsd_by_ip, *, username: str, password: str, progress: _Progress, errors: list):
    """Identify every host, DISCOVERY_CONCURRENCY at once; one host's bug never loses the others."""
    progress.update(stage=DiscoveryJob.Stage.IDENTIFYING, fraction=0)
    reports: list[DeviceReport] = []
    workers = max(1, settings.DISCOVERY_CONCURRENCY)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="identify") as pool:
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
                except Exception as exc:
                    logger.exception("discovery: identifying %s failed", host.ip)
                    errors.append(
                        {"host": host.ip, "stage": "identify", "reason": "error", "message": type(exc).__name__}
                    )
            finished = len(futures) - len(pending)
            progress.update(fraction=finished / max(1, len(futures)), hosts_done=finished)
    progress.update(force=True, hosts_done=len(reports))
    for report in reports:
        errors.extend(report.errors)
    return reports


def _validate(reports: list[DeviceReport], *, username: str, password: str, progress: _Progress):
    """ffprobe every (channel, main/sub) slot: DISCOVERY_FFPROBE_CONCURRENCY at once in all, at most
    DISCOVERY_FFPROBE_PER_DEVICE per device (recorders cap their RTSP sessions), devices served round
    robin; open-ended recorders grow channel by channel."""
    progress.update(stage=DiscoveryJob.Stage.VALIDATING, fraction=0)
    results: dict[int, list[tuple[Candidate, ffprobe.StreamProbe]]] = {i: [] for i in range(len(reports))}
    queues = {i: deque(_slots(report)) for i, report in enumerate(reports)}
    in_flight: Counter[int] = Counter()
    limit_total = max(1, settings.DISCOVERY_FFPROBE_CONCURRENCY)
    limit_device = max(1, settings.DISCOVERY_FFPROBE_PER_DEVICE)
    total = sum(len(q) for q in queues.values())
    checked = ok = 0
    futures: dict = {}
    with ThreadPoolExecutor(max_workers=limit_total, thread_name_prefix="ffprobe") as pool:

        def fill() -> None:
            added = True
            while added and len(futures) < limit_total:
                added = False
                for index, queue in queues.items():
                    if queue and in_flight[index] < limit_device and len(futures) < limit_total:
                        futures[pool.submit(_validate_slot, queue.popleft())] = index
                        in_flight[index] += 1
                        added = True

        fill()
        while futures:
            done, _pending = wait(list(futures), timeout=1, return_when=FIRST_COMPLETED)
            for future in done:
                index = futures.pop(future)
                in_flight[index] -= 1
                candidate, result = future.result()
                results[index].append((candidate, result))
                checked += 1
                ok += int(result.ok)
                report = reports[index]
                if _walk_on(report, candidate, result):
                    following = candidate.channel + 1
                    report.candidates += template_candidates(report, [following], username=username, password=password)
                    new = _slots(report, channels=[following])
                    queues[index].extend(new)
                    total += len(new)
            fill()
            progress.update(
                fraction=checked / max(1, total), streams_total=total, streams_checked=checked, streams_ok=ok
            )
    progress.update(force=True, streams_total=total, streams_checked=checked, streams_ok=ok)
    # The probe that ended a channel walk is not a stream of the device: keep it out of the results.
    for index, report in enumerate(reports):
        if report.channels == 0 and report.brand in OPEN_ENDED_BRANDS:
            last = max((c.channel for c, r in results[index] if r.ok), default=1)
            results[index] = [(c, r) for c, r in results[index] if c.channel <= last]
    return results


def _walk_on(report: DeviceReport, candidate: Candidate, result: ffprobe.StreamProbe) -> bool:
    """A recorder whose channel count no API told us: try the next channel while main streams work."""
    return (
        result.ok
        and not candidate.substream
        and candidate.source == "template"
        and report.channels == 0
        and report.brand in OPEN_ENDED_BRANDS
        and candidate.channel < settings.DISCOVERY_MAX_CHANNELS
    )


def run_discovery_job(*, job_id: int) -> DiscoveryJob | None:
    """Run one job end to end. Idempotent: a job that is not pending is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    progress = _Progress(job)
    username, password = job.username, job.password
    errors: list[dict] = []
    try:
        hosts, wsd_by_ip = _find_hosts(job, ipaddress.ip_network(job.network_range), progress)
        reports = _identify(hosts, wsd_by_ip, username=username, password=password, progress=progress, errors=errors)
        results = _validate(reports, username=username, password=password, progress=progress)
        progress.update(stage=DiscoveryJob.Stage.STORING, fraction=0)
        stored = [
            store_report(report, results[i], username=username, password=password) for i, report in enumerate(reports)
        ]
        job.devices.add(*stored)
        progress.timings["storing"] = round(time.monotonic() - progress.stage_started, 3)
        finish(
            job,
            status=DiscoveryJob.Status.SUCCEEDED,
            errors=errors,
            devices_found=len(stored),
            timings=progress.timings,
        )
        cache.set(cache_name(job.cache_key), job.pk, settings.CACHE_TTL)
    except ScanError as exc:
        finish(job, status=DiscoveryJob.Status.FAILED, errors=errors, error=str(exc), timings=progress.timings)
    except Exception as exc:
        logger.exception("discovery job %s failed", job.pk)
        finish(
            job,
            status=DiscoveryJob.Status.FAILED,
            errors=errors,
            timings=progress.timings,
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
    from lprnvr.redaction import redact

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


def requeue_stale_jobs() -> int:
    """Jobs whose message was lost or whose worker died: re-enqueue (up to MAX_ATTEMPTS), else fail."""
    from cameras.tasks import run_discovery_job_task

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
