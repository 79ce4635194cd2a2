"""Benchmark: discover a /24 on loopback (127.0.0.0/24) holding a handful of device doubles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_disc REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/discovery.py [--runs 3] [--range 127.0.0.0/24]

Doubles (cameras/tests/doubles/lab.py) on 127.0.0.11-14: an ONVIF camera, a Hikvision camera, a Dahua
4-channel DVR and an XMEye 2-channel DVR, with one GStreamer RTSP server behind them. Prints the nmap
time alone and the whole job (scan, identify, ffprobe every candidate, store) per run. Only loopback is
touched; multicast WS-Discovery is off. The rows the benchmark creates are deleted afterwards.
Needs root (ports 80/554) like the tests.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

ADDRESSES = ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--range", default="127.0.0.0/24")
    args = parser.parse_args()
    network = ipaddress.ip_network(args.range)
    if not network.subnet_of(ipaddress.ip_network("127.0.0.0/8")):
        raise SystemExit("the benchmark only scans loopback ranges (127.0.0.0/8)")
    settings.DISCOVERY_WS_MULTICAST = False
    settings.DISCOVERY_MAX_HOSTS = max(settings.DISCOVERY_MAX_HOSTS, network.num_addresses)

    from cameras import services
    from cameras.clients import nmap
    from cameras.models import DiscoveredDevice, DiscoveryJob
    from cameras.tests.doubles.lab import PASSWORD, USERNAME, Lab

    lab = Lab.start(ADDRESSES)
    jobs = []
    try:
        nmap_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            hosts = nmap.scan(str(network), ports=settings.SCAN_PORTS, timeout=120)
            nmap_times.append(time.perf_counter() - started)
        print(f"nmap {network} ({network.num_addresses} addresses, {len(settings.SCAN_PORTS)} ports): "
              f"{len(hosts)} hosts with camera ports; median {statistics.median(nmap_times):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in nmap_times)})")  # fmt: skip
        totals = []
        for run in range(args.runs):
            job, _ = services.start_discovery(network_range=str(network), username=USERNAME, password=PASSWORD,
                                              enqueue=False, refresh=True)  # fmt: skip
            started = time.perf_counter()
            job = services.run_discovery_job(job_id=job.pk)
            totals.append(time.perf_counter() - started)
            jobs.append(job.pk)
            print(f"run {run + 1}: {job.status}, {job.hosts_up} hosts, {job.devices_found} devices, "
                  f"{job.streams_ok}/{job.streams_checked} streams working, {totals[-1]:.2f} s; per stage {job.timings}")  # fmt: skip
        print(f"discovery job on {network}: median {statistics.median(totals):.2f} s over {args.runs} runs "
              f"(ffprobe concurrency {settings.DISCOVERY_FFPROBE_CONCURRENCY}, identify concurrency "
              f"{settings.DISCOVERY_CONCURRENCY}, {os.cpu_count()} CPUs)")  # fmt: skip
    finally:
        lab.stop()
        device_ids = list(DiscoveryJob.objects.filter(pk__in=jobs).values_list("devices", flat=True))
        DiscoveredDevice.objects.filter(pk__in=[d for d in device_ids if d]).delete()
        DiscoveryJob.objects.filter(pk__in=jobs).delete()


if __name__ == "__main__":
    main()
