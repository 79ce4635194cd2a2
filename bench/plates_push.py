"""Benchmark: add 1,000 plates to 32 ANPR camera doubles answering with 20 ms latency each.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr REDIS_URL=redis://127.0.0.1:6379/1
    python manage.py migrate && python bench/plates_push.py [--plates 1000 --cameras 32 --latency 0.02]

It goes through the whole product path: `services.push_plates` (desired lists + job rows, one per
camera and one per plate), one Celery task per camera on a real worker (threads pool, started here),
the ISAPI client over real HTTP to camera doubles served by another process on 127.0.0.1. The wall
time runs from the service call to the job row saying it is finished.

It prints:
- the floor: batches x latency for one camera (cameras in parallel), i.e. ceil(plates / batch) PUTs;
- the original way (seed 000: one camera after another, one PUT per plate, a fresh digest handshake
  per request): a sample of plates on one camera is timed and extrapolated to the whole job.

Traffic goes only to 127.0.0.1. The cameras and jobs it creates are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")


def start_doubles(count: int, latency: float) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "plates.tests.camera_double", "--count", str(count), "--latency", str(latency),
         "--max-page", "100"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    return proc, json.loads(line)["ports"]


def start_worker(concurrency: int, index: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lprnvr", "worker", "-Q", "plates,default", "-P", "threads",
         "-c", str(concurrency), "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
         "-n", f"bench-{os.getpid()}-{index}@%h"],
        cwd=ROOT,
    )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def original_way_sample(port: int, plates: list[str], latency: float) -> float:
    """Seconds per plate the seed's way: one PUT per plate, a new digest handshake each time."""
    import requests
    from requests.auth import HTTPDigestAuth

    url = f"http://127.0.0.1:{port}/ISAPI/Traffic/channels/1/licensePlateAuditData/record?format=json"
    start = time.perf_counter()
    for plate in plates:
        body = {
            "LicensePlateInfoList": [
                {
                    "LicensePlate": plate,
                    "listType": "whiteList",
                    "createTime": "2024-03-26T16:30:34",
                    "effectiveStartDate": "2024-03-26",
                    "effectiveTime": "5000-12-01",
                    "id": "",
                }
            ]
        }
        requests.put(url, json=body, auth=HTTPDigestAuth("admin", "cam-secret-1"), timeout=5).raise_for_status()
    return (time.perf_counter() - start) / len(plates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plates", type=int, default=1000)
    parser.add_argument("--cameras", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--sample", type=int, default=100, help="plates timed the original way")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (threads pool each; default: CPUs)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from cameras.models import Brand, Camera
    from lprnvr.celery import app
    from plates import services
    from plates.models import Plate, PlateJobCamera

    doubles, ports = start_doubles(args.cameras + 1, args.latency)
    per_worker = math.ceil(args.cameras / args.workers)
    workers = [start_worker(per_worker, i) for i in range(args.workers)]
    cameras = []
    job = None
    try:
        for _ in range(120):
            if len(app.control.ping(timeout=0.5)) >= args.workers:
                break
        else:
            raise SystemExit("the Celery worker did not start")
        sample_port = ports.pop()
        cameras = [
            Camera.objects.create(
                name=f"bench-{p}", ip="127.0.0.1", http_port=p, brand=Brand.HIKVISION, username="admin",
                password="cam-secret-1",
            )
            for p in ports
        ]  # fmt: skip
        numbers = [f"BN{i:05d}" for i in range(args.plates)]

        procs = [*workers, doubles]
        cpu_before = {p.pid: cpu_seconds(p.pid) for p in procs}
        start = time.perf_counter()
        with transaction.atomic():
            job = services.push_plates(cameras=cameras, numbers=numbers)
        created = time.perf_counter() - start
        job = services.wait_for_job(job, 600)
        wall = time.perf_counter() - start
        cpu = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs}
        rows = PlateJobCamera.objects.filter(job=job)
        per_camera = [(r.finished_at - r.started_at).total_seconds() for r in rows if r.finished_at and r.started_at]

        batch = settings.PLATES_BATCH_SIZE
        batches = math.ceil(args.plates / batch)
        floor = batches * args.latency
        per_plate = original_way_sample(sample_port, numbers[: args.sample], args.latency)
        original = per_plate * args.plates * args.cameras

        print(
            f"job {job.pk}: {job.status}; {args.plates} plates x {args.cameras} cameras, {args.latency * 1000:.0f} ms latency"
        )
        print(f"wall time (service call -> job finished): {wall:.3f} s")
        print(f"  of which the service call (desired lists + {len(numbers) * len(cameras)} job rows): {created:.3f} s")
        first = min(r.started_at for r in rows)
        push = (max(r.finished_at for r in rows) - first).total_seconds()
        print(f"  pushing (first camera task start -> last camera done): {push:.3f} s")
        print(f"  per camera (task start -> finish): min {min(per_camera):.3f} s, max {max(per_camera):.3f} s")
        print(
            f"  CPU used: {args.workers} worker(s) x {per_worker} threads "
            f"{sum(cpu[w.pid] for w in workers):.2f} s, camera doubles {cpu[doubles.pid]:.2f} s "
            f"on {os.cpu_count()} CPU(s) (load average {os.getloadavg()[0]:.1f})"
        )
        print(
            f"floor: {batches} batches of {batch} x {args.latency * 1000:.0f} ms per camera, cameras in parallel = {floor:.3f} s"
        )
        print(f"  wall / floor = {wall / floor:.2f}x (target <= 2x)")
        print(
            f"original way (one camera after another, one PUT per plate, digest handshake each): "
            f"{per_plate * 1000:.1f} ms per plate measured on a sample of {args.sample} plates on one camera, "
            f"extrapolated to {args.plates} x {args.cameras} = {original:.1f} s"
        )
        print(f"  original / wall = {original / wall:.0f}x faster (target >= 50x)")
        ok = job.status == "succeeded"
        print("all plates on every camera: " + ("yes" if ok else "NO"))
    finally:
        if job is not None:
            job.delete()
        Camera.objects.filter(pk__in=[c.pk for c in cameras]).delete()
        Plate.objects.filter(number__startswith="BN", created_by__isnull=True).delete()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        doubles.stdin.close()
        doubles.wait(timeout=30)


if __name__ == "__main__":
    main()
