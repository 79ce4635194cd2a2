"""Benchmark: add 1,000 plates to 32 ANPR camera doubles answering with 20 ms latency each.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr REDIS_URL=redis://127.0.0.1:6379/1
    python manage.py migrate && python bench/plates_push.py [--plates 1000 --cameras 32 --latency 0.02 --repeat 3]

It goes through the whole product path: `services.push_plates` (desired lists + job rows, one per
camera and one per plate), one Celery task per camera on real workers (threads pool, one process per
CPU, started here), the ISAPI client over real HTTP to camera doubles served by another process on
127.0.0.1. The wall time runs from the service call to the job row saying it is finished. Each of the
`--repeat` runs pushes to fresh doubles (empty lists) and fresh cameras; the workers stay up between
runs (the first run is the one with cold worker threads). Before the first run one no-op task is sent,
so that the timed service call does not pay for the broker connection and Celery's lazy imports, which
a running server has already paid.

It prints, per run and as the median of the runs:
- wall time, split into the service call and the pushing; CPU-seconds of the workers, the doubles,
  PostgreSQL (all its processes, other users' included) and the whole machine, and the load average:
  on a shared machine the figures mean little without them;
- the issue's floor: batches x latency for one camera (cameras in parallel), i.e. ceil(plates / batch) PUTs;
- the round-trip floor: every round trip a camera cannot do without (the digest challenge, one search
  of its list, the PUTs) x latency;
- the original way (seed 000: one camera after another, one PUT per plate, a fresh digest handshake
  per request): a sample of plates on one camera is timed and extrapolated to the whole job.

Traffic goes only to 127.0.0.1. The cameras and jobs it creates are deleted at the end.

`--scenario list`: the plates are a named list (written before the clock starts, as an operator's
list already is); the timed call assigns it to a gate whose lanes are the cameras
(`lists.assign_list`: derivation of every camera's lines + one converge job). `--scenario schedule`:
the list carries a weekly window and is assigned already; the timed call is the beat at the moment the
window opens (`schedule.tick(now=...)`), which flips the plates onto every camera. The issue's figures:

    python bench/plates_push.py --scenario list --plates 10000 --cameras 32 --latency 0.02
    python bench/plates_push.py --scenario schedule --plates 1000 --cameras 32 --latency 0.02
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")


def start_doubles(count: int, latency: float) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cameras.tests.doubles.hikvision", "--count", str(count), "--latency", str(latency),
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


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine so far, all cores and processes (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def postgres_cpu() -> dict[int, float]:
    """CPU-seconds of every local PostgreSQL process (user + system, and the reaped children's: the
    postmaster collects its exited backends'). Other users' backends on the same server count too."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = sum(int(x) for x in fields[11:15]) / tick
    return out


def scenario_push(cameras, numbers, index):
    from plates import services

    return lambda: services.push_plates(cameras=cameras, numbers=numbers)


def bench_list(cameras, numbers, index, schedule=None):
    """A named list of these plates, and a gate whose lanes are the cameras (untimed set-up)."""
    from cameras.models import Camera, Gate, Site
    from plates.services import lists

    gate = Gate.objects.create(site=Site.objects.create(name=f"bench-{index}", time_zone="UTC"), name="gate")
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(gate=gate)
    plate_list = lists.create_list(name=f"bench-{index}", kind="allow")
    if schedule:
        plate_list.schedule = schedule
        plate_list.save()
    lists.put_on_list(plate_list=plate_list, entries=[lists.EntrySpec(n) for n in numbers])
    return plate_list, gate


def scenario_list(cameras, numbers, index):
    from plates.services import lists

    plate_list, gate = bench_list(cameras, numbers, index)
    return lambda: lists.assign_list(plate_list=plate_list, gates=[gate])


def scenario_schedule(cameras, numbers, index):
    from datetime import UTC, datetime

    from plates.services import lists, schedule

    window = [{"days": [0], "start": "07:00", "end": "19:00"}]  # Monday 07:00-19:00 UTC
    plate_list, gate = bench_list(cameras, numbers, index, schedule=window)
    lists.assign_list(plate_list=plate_list, gates=[gate])
    schedule.tick(now=datetime(2030, 1, 7, 6, 59, tzinfo=UTC))  # closed: nothing on the cameras
    return lambda: schedule.tick(now=datetime(2030, 1, 7, 7, 0, tzinfo=UTC))


SCENARIOS = {"push": scenario_push, "list": scenario_list, "schedule": scenario_schedule}


def push_once(args, workers, index: int) -> dict:
    """One timed push of args.plates plates to args.cameras fresh camera doubles."""
    from django.db import transaction

    from cameras.models import Brand, Camera
    from plates import services
    from plates.models import PlateJobCamera

    doubles, ports = start_doubles(args.cameras, args.latency)
    cameras = []
    job = None
    try:
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
        machine_before = machine_busy()
        pg_before = postgres_cpu()
        prepare = SCENARIOS[args.scenario]
        timed = prepare(cameras, numbers, index)
        start = time.perf_counter()
        with transaction.atomic():
            job = timed()
        created = time.perf_counter() - start
        job = services.wait_for_job(job, 600)
        wall = time.perf_counter() - start
        machine_after = machine_busy()
        pg_after = postgres_cpu()
        cpu = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs}
        rows = list(PlateJobCamera.objects.filter(job=job))
        per_camera = [(r.finished_at - r.started_at).total_seconds() for r in rows if r.finished_at and r.started_at]
        first = min(r.started_at for r in rows)
        run = {
            "status": job.status,
            "wall": wall,
            "created": created,
            "push": (max(r.finished_at for r in rows) - first).total_seconds(),
            "camera_min": min(per_camera),
            "camera_max": max(per_camera),
            "cpu_workers": sum(cpu[w.pid] for w in workers),
            "cpu_doubles": cpu[doubles.pid],
            "cpu_postgres": sum(max(0.0, v - pg_before.get(pid, 0.0)) for pid, v in pg_after.items()),
            "machine_busy": machine_after[0] - machine_before[0],
            "machine_total": machine_after[1] - machine_before[1],
            "load": os.getloadavg()[0],
        }
        print(
            f"run {index}: {run['status']}, wall {wall:.3f} s = service call {created:.3f} s + pushing "
            f"{run['push']:.3f} s (per camera {run['camera_min']:.3f}-{run['camera_max']:.3f} s); CPU-s: workers "
            f"{run['cpu_workers']:.2f}, doubles {run['cpu_doubles']:.2f}, PostgreSQL {run['cpu_postgres']:.2f}, whole machine {run['machine_busy']:.2f} "
            f"of {run['machine_total']:.2f} (load average {run['load']:.1f})",
            flush=True,
        )
        return run
    finally:
        if job is not None:
            job.delete()
        Camera.objects.filter(pk__in=[c.pk for c in cameras]).delete()
        from cameras.models import Site
        from plates.models import PlateList

        PlateList.objects.filter(name__startswith="bench-").delete()
        Site.objects.filter(name__startswith="bench-").delete()
        doubles.stdin.close()
        doubles.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="push")
    parser.add_argument("--plates", type=int, default=1000)
    parser.add_argument("--cameras", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--sample", type=int, default=100, help="plates timed the original way")
    parser.add_argument("--repeat", type=int, default=3, help="timed pushes, each to fresh camera doubles")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (threads pool each; default: CPUs)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from lprnvr.celery import app
    from plates.models import Plate
    from plates.tasks import run_job_camera_task

    per_worker = math.ceil(args.cameras / args.workers)
    workers = [start_worker(per_worker, i) for i in range(args.workers)]
    runs = []
    try:
        for _ in range(120):
            if len(app.control.ping(timeout=0.5)) >= args.workers:
                break
        else:
            raise SystemExit("the Celery worker did not start")
        # A running server has its broker connection and Celery's lazily imported modules already: send
        # one task that finds no job camera (id 0) and does nothing, so the first timed call does not pay them.
        run_job_camera_task.apply_async((0,))
        print(
            f"{args.plates} plates x {args.cameras} cameras, {args.latency * 1000:.0f} ms latency; "
            f"{args.workers} worker process(es) x {per_worker} threads on {os.cpu_count()} CPU(s); "
            f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        for i in range(1, args.repeat + 1):
            runs.append(push_once(args, workers, i))
            Plate.objects.filter(number__startswith="BN", created_by__isnull=True).delete()

        doubles, ports = start_doubles(1, args.latency)
        try:
            numbers = [f"BN{i:05d}" for i in range(args.sample)]
            per_plate = original_way_sample(ports[0], numbers, args.latency)
        finally:
            doubles.stdin.close()
            doubles.wait(timeout=30)
    finally:
        Plate.objects.filter(number__startswith="BN", created_by__isnull=True).delete()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    batch = settings.PLATES_BATCH_SIZE
    batches = math.ceil(args.plates / batch)
    floor = batches * args.latency
    # What one camera cannot do without: the digest challenge, one search of its (empty) list (more than
    # PLATES_SEARCH_EACH_MAX plates: the whole list is read once), then the batches.
    round_trips = 1 + 1 + batches
    rt_floor = round_trips * args.latency
    wall = median("wall")
    original = per_plate * args.plates * args.cameras
    print(f"median of {len(runs)} run(s):")
    print(f"  wall time (service call -> job finished): {wall:.3f} s")
    print(
        f"    of which the service call (desired lists + {args.plates * args.cameras} job rows): {median('created'):.3f} s"
    )
    print(f"    pushing (first camera task start -> last camera done): {median('push'):.3f} s")
    print(
        f"  CPU-seconds: workers {median('cpu_workers'):.2f}, camera doubles {median('cpu_doubles'):.2f}, "
        f"PostgreSQL (all its processes) {median('cpu_postgres'):.2f}, "
        f"whole machine {median('machine_busy'):.2f} of {median('machine_total'):.2f} available"
    )
    print(
        f"issue's floor: {batches} batches of {batch} x {args.latency * 1000:.0f} ms per camera, cameras in parallel "
        f"= {floor:.3f} s"
    )
    print(
        f"  wall / issue's floor = {wall / floor:.2f}x (target <= 2x); "
        f"pushing alone (without the service call) / issue's floor = {median('push') / floor:.2f}x"
    )
    print(
        f"round-trip floor: {round_trips} round trips per camera (digest challenge, 1 search, {batches} PUTs) x "
        f"{args.latency * 1000:.0f} ms = {rt_floor:.3f} s"
    )
    print(
        f"  wall / round-trip floor = {wall / rt_floor:.2f}x; pushing / round-trip floor = {median('push') / rt_floor:.2f}x"
    )
    print(
        f"original way (one camera after another, one PUT per plate, digest handshake each): "
        f"{per_plate * 1000:.1f} ms per plate measured on a sample of {args.sample} plates on one camera, "
        f"extrapolated to {args.plates} x {args.cameras} = {original:.1f} s"
    )
    print(f"  original / wall = {original / wall:.0f}x faster (target >= 50x)")
    ok = all(r["status"] == "succeeded" for r in runs)
    print("all plates on every camera in every run: " + ("yes" if ok else "NO"))


if __name__ == "__main__":
    main()
