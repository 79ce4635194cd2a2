"""Benchmark: the plate-read listener (`manage.py run_events`) armed on 128 Hikvision camera doubles.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr REDIS_URL=redis://127.0.0.1:6379/1
    python manage.py migrate && python bench/events.py [--cameras 128 --seconds 20 --rate 1 --idle-seconds 30]

The doubles (`cameras/tests/doubles/hikvision.py`, one `HikvisionCamera` per camera, each on its own
127.0.0.1 port) run in a child process; the real `run_events` runs in another, on the benchmark
database, with one `AnprCamera` + armed `AnprEventSource` per double. Two phases:

1. Heartbeats only, for --idle-seconds (after every stream is connected and the first pass settled):
   the listener's CPU as a share of one core (target: under 2 % for all 128).
2. Every camera emits --rate reads/s (staggered evenly) for --seconds, each alert followed by two
   JPEG parts of --picture-kb KB: stored vs emitted (no loss), rows visible vs emitted once a second
   (backlog), the drain time after the last read, and the latency from the alert leaving the double
   (the emit call, wall clock, recorded in the doubles' process) to the row being visible in the
   database. The rows are watched in the database (one indexed query every --poll seconds), not
   through the API: polling the API at that rate would cost more CPU than the listener on a 2-CPU
   machine. The API's own time (`GET /api/plates/reads/` with a JWT, real HTTP through gunicorn,
   started after the reads so it does not compete) is measured once at the end, and is what a page
   adds on top of the database figure.
   The listener's CPU per read (its CPU over the phase, less the heartbeat floor, over the reads) is
   shown beside the floor of only parsing the same multipart bytes (`plates.clients.isapi_events`,
   MultipartReader + AlertAssembler, in this process over the bytes the doubles send).

CPU comes from /proc (user + system); PostgreSQL's is all its processes' (other users' on a shared
server count too), and the machine's load average is printed: on a shared machine the figures mean
little without it. Traffic goes only to 127.0.0.1. The cameras, reads and pictures it creates are
deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")
PLATE_PREFIX = "BQ"


# --- the doubles' process -------------------------------------------------------------------------
def pictures_for(index: int, kb: int) -> dict[str, bytes]:
    from cameras.tests.doubles.hikvision import fake_jpeg

    # One pair per camera, shared by its reads: the double keeps every read for its backfill, and
    # 2,560 reads x 200 KB would be half a gigabyte of copies of the same bytes.
    return {
        "licensePlatePicture.jpg": fake_jpeg(f"plate{index}", kb * 1024),
        "detectionPicture.jpg": fake_jpeg(f"scene{index}", kb * 1024),
    }


def serve_doubles(args) -> None:
    """Child: start the doubles, print their ports, wait for a line on stdin, emit the reads, print
    {plate: emit time} as one JSON line, then serve until stdin closes."""
    from cameras.tests.doubles.hikvision import HikvisionCamera

    cams = [HikvisionCamera("A", heartbeat_seconds=args.heartbeat).start() for _ in range(args.cameras)]
    pictures = [pictures_for(i, args.picture_kb) for i in range(args.cameras)]
    print(json.dumps({"ports": [c.port for c in cams]}), flush=True)
    sys.stdin.readline()  # "go"
    emitted: dict[str, float] = {}
    step = 1.0 / (args.rate * args.cameras)
    total = int(args.seconds * args.rate * args.cameras)
    start = time.monotonic() + 0.1
    for n in range(total):
        delay = start + n * step - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        i = n % args.cameras
        plate = f"{PLATE_PREFIX}{i:03d}X{n // args.cameras:05d}"
        emitted[plate] = time.time()
        cams[i].emit_read(plate, pictures=pictures[i], push=False)
    print(json.dumps({"emitted": emitted}), flush=True)
    sys.stdin.read()
    for c in cams:
        c.stop()


# --- accounting -----------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far, its threads included (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine so far, all cores (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def postgres_cpu() -> float:
    """CPU-seconds of every local PostgreSQL process so far (and its reaped backends')."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick
    return total


class Meter:
    """CPU of a few processes and of the machine over a window."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def __enter__(self) -> Meter:
        self.t0 = time.monotonic()
        self.cpu0 = {k: cpu_seconds(p) for k, p in self.pids.items()}
        self.pg0, self.m0 = postgres_cpu(), machine_busy()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.monotonic() - self.t0
        self.cpu = {k: cpu_seconds(p) - self.cpu0[k] for k, p in self.pids.items()}
        self.cpu["postgres"] = postgres_cpu() - self.pg0
        m1 = machine_busy()
        self.cpu["machine"] = m1[0] - self.m0[0]
        self.machine_cores = (m1[1] - self.m0[1]) / max(self.wall, 1e-9)
        self.load = os.getloadavg()


def parse_floor(args) -> tuple[float, int]:
    """CPU-seconds per read of only parsing the alertStream bytes the doubles send (in-process)."""
    from cameras.tests.doubles.hikvision import HikvisionCamera
    from plates.clients import isapi_events as ev

    cam = HikvisionCamera("A")  # not started: only its framing is used
    cam.port = 80
    pictures = pictures_for(0, args.picture_kb)
    n = 500
    data = b"".join(
        cam.stream_parts({"plate": f"{PLATE_PREFIX}F{k:05d}", "list_type": "allowList", "uuid": f"u{k}",
                          "pictures": pictures, "direction": "forward", "confidence": 98, "lane": 1,
                          "time": cam.now(), "active_post_count": 1})
        for k in range(n)
    )  # fmt: skip
    chunk = 64 * 1024  # what one socket read gives at most (the client's iter_content size order)
    reads = 0
    t0 = time.process_time()
    reader, assembler = ev.MultipartReader(cam.boundary), ev.AlertAssembler()
    for i in range(0, len(data), chunk):
        for part in reader.feed(data[i : i + chunk]):
            reads += sum(isinstance(x, ev.Read) for x in assembler.feed(part))
    for part in reader.close():
        reads += sum(isinstance(x, ev.Read) for x in assembler.feed(part))
    reads += len(assembler.flush())
    return (time.process_time() - t0) / max(1, reads), reads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_timing(env: dict, token: str, work: Path, camera_ref: str, plate: str, tries: int = 20) -> dict:
    """`GET /api/plates/reads/` over real HTTP (gunicorn, 1 worker): the newest page, one camera's, one plate."""
    import requests

    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "lprnvr.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "wb"),
    )  # fmt: skip
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        base = f"http://127.0.0.1:{port}/api/plates/reads/"
        for _ in range(200):
            try:
                session.get(base, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        out = {}
        cases = (("newest 50", {}), ("?camera=", {"camera": camera_ref}), ("?plate= exact", {"plate": plate}))
        for label, params in cases:
            times = []
            for _ in range(tries):
                t = time.perf_counter()
                r = session.get(base, params=params, timeout=10)
                times.append(time.perf_counter() - t)
                r.raise_for_status()
            out[label] = (statistics.median(times), max(times), len(r.json()["results"]))
        return out
    finally:
        web.terminate()
        web.wait(timeout=15)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20, help="reads phase length")
    parser.add_argument("--rate", type=float, default=1.0, help="reads per second per camera")
    parser.add_argument("--idle-seconds", type=float, default=30, help="heartbeats-only window")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="the doubles' heartbeat interval, s")
    parser.add_argument("--picture-kb", type=int, default=100, help="size of each of the two JPEGs")
    parser.add_argument("--poll", type=float, default=0.02, help="how often the rows are looked for, s")
    parser.add_argument("--drain-timeout", type=float, default=60)
    parser.add_argument("--serve-doubles", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_doubles:
        return serve_doubles(args)

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max

    from accounts.models import User
    from accounts.services import issue_tokens
    from cameras.models import Brand, Camera
    from plates.models import AnprCamera, AnprEventSource, EventState, PlateRead

    Camera.objects.filter(name__startswith="bench-ev-").delete()
    work = Path(tempfile.mkdtemp(prefix="bench-events-"))
    db = connection.settings_dict
    env = {
        **os.environ,
        "READS_DIR": str(work / "reads"),
        "EVENTS_RUN_DIR": str(work / "events"),
        "LOG_LEVEL": "WARNING",
    }
    print(
        f"{args.cameras} cameras, heartbeat every {args.heartbeat:g} s; reads: {args.rate:g}/s each for "
        f"{args.seconds:g} s, two {args.picture_kb} KB JPEGs per read; database {db['NAME']} on {db['HOST']}; "
        f"{os.cpu_count()} CPU(s), load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    doubles = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-doubles", "--cameras", str(args.cameras),
         "--seconds", str(args.seconds), "--rate", str(args.rate), "--heartbeat", str(args.heartbeat),
         "--picture-kb", str(args.picture_kb)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    listener = None
    cameras: list = []
    try:
        ports = json.loads(doubles.stdout.readline())["ports"]
        for p in ports:
            camera = Camera.objects.create(
                name=f"bench-ev-{p}", ip="127.0.0.1", http_port=p, brand=Brand.HIKVISION, username="admin",
                password="cam-secret-1",
            )  # fmt: skip
            AnprCamera.objects.get_or_create(camera=camera)
            AnprEventSource.objects.create(camera=camera)
            cameras.append(camera)
        ids = [c.pk for c in cameras]
        listener = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_events"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "run_events.log", "wb"),
        )  # fmt: skip
        t = time.monotonic()
        sources = AnprEventSource.objects.filter(camera_id__in=ids)
        while sources.filter(state=EventState.CONNECTED).count() < len(ids):
            if listener.poll() is not None or time.monotonic() - t > 120:
                raise SystemExit(f"the streams did not connect; see {work / 'run_events.log'}")
            time.sleep(0.5)
        print(f"  all {len(ids)} streams connected in {time.monotonic() - t:.1f} s", flush=True)
        time.sleep(max(3.0, args.heartbeat))  # the connection burst (backfill asks, state writes) settles
        pids = {"listener": listener.pid, "doubles": doubles.pid, "bench": os.getpid()}

        # -- 1. heartbeats only --
        with Meter(pids) as idle:
            time.sleep(args.idle_seconds)
        idle_share = idle.cpu["listener"] / idle.wall

        # -- 2. reads --
        seen: dict[str, float] = {}
        timeline: list[tuple[float, int, float]] = []
        stop = threading.Event()

        def watch() -> None:
            # Rows commit out of pk order (several ingest threads): look above the highest pk below
            # which every row has been seen, not above the highest seen. A gap that stays 5 s (a
            # sequence value a rolled-back insert used) is stepped over.
            low = PlateRead.objects.aggregate(m=Max("pk"))["m"] or 0
            pks: set[int] = set()
            last_sample, stuck_since = 0.0, None
            while not stop.is_set():
                rows = list(PlateRead.objects.filter(camera_id__in=ids, pk__gt=low).values_list("pk", "number"))
                now = time.time()
                for pk, number in rows:
                    seen.setdefault(number, now)
                    pks.add(pk)
                while low + 1 in pks:
                    low += 1
                    pks.discard(low)
                if pks:
                    stuck_since = stuck_since or now
                    if now - stuck_since > 5:
                        low, stuck_since = min(pks) - 1, None
                else:
                    stuck_since = None
                if now - last_sample >= 1.0:
                    timeline.append((now, len(seen), cpu_seconds(listener.pid)))
                    last_sample = now
                time.sleep(args.poll)
            connection.close()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        expected = int(args.seconds * args.rate * args.cameras)
        with Meter(pids) as busy:
            doubles.stdin.write("go\n")
            doubles.stdin.flush()
            emitted = json.loads(doubles.stdout.readline())["emitted"]
            deadline = time.monotonic() + args.drain_timeout
            while len(seen) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(args.poll * 3)
        stop.set()
        watcher.join(timeout=10)
        stored = PlateRead.objects.filter(camera_id__in=ids).count()
        stored_numbers = set(PlateRead.objects.filter(camera_id__in=ids).values_list("number", flat=True))
        lost = sum(1 for p in emitted if p not in stored_numbers)
        pictures = PlateRead.objects.filter(camera_id__in=ids).exclude(plate_picture="").count()
        latencies = [seen[p] - t for p, t in emitted.items() if p in seen]
        last_emit = max(emitted.values())
        drain = max(seen.values()) - last_emit if seen else float("nan")
        emit_times = sorted(emitted.values())
        seconds = []  # (s since the first read, emitted, visible, listener share of a core) each second
        first_emit = emit_times[0]
        for (when, visible, cpu), (before, _v, cpu_before) in zip(timeline[1:], timeline, strict=False):
            sent = sum(1 for t in emit_times if t <= when)
            seconds.append((when - first_emit, sent, visible, (cpu - cpu_before) / (when - before)))
            if visible >= len(emitted):
                break
        floor, floor_reads = parse_floor(args)
        reads_cpu = busy.cpu["listener"] - idle_share * busy.wall
        per_read = reads_cpu / max(1, stored)

        admin, _ = User.objects.get_or_create(username="bench-events-admin", defaults={"role": "admin"})
        ref = f"{cameras[0].ip}:{cameras[0].http_port}"
        api = api_timing(env, issue_tokens(admin)["token"], work, ref, next(iter(emitted)))
    finally:
        if listener is not None:
            listener.terminate()
            listener.wait(timeout=30)
        doubles.stdin.close()
        doubles.wait(timeout=30)
        Camera.objects.filter(pk__in=[c.pk for c in cameras]).delete()
        User.objects.filter(username="bench-events-admin").delete()
        shutil.rmtree(work / "reads", ignore_errors=True)

    def share(meter: Meter, key: str) -> str:
        return f"{100 * meter.cpu[key] / meter.wall:.1f} %"

    def machine(meter: Meter) -> str:
        load = " ".join(f"{x:.2f}" for x in meter.load)
        return f"{meter.cpu['machine'] / meter.wall:.2f} of {meter.machine_cores:.0f} cores busy, load average {load}"

    def throughput() -> str:
        span = last_emit - emit_times[0]
        during = [v for at, _s, v, _c in seconds if at <= span]
        if not during or span <= 0:
            return "n/a"
        if drain < 1.0:
            return f"{during[-1] / span:.0f} / - (kept up: drained within a second)"
        return f"{during[-1] / span:.0f} / {(len(seen) - during[-1]) / drain:.0f}"

    rows = [
        ("heartbeats only", ""),
        ("  window", f"{idle.wall:.1f} s, {args.cameras} streams, a heartbeat every {args.heartbeat:g} s each"),
        ("  listener CPU (one core)", f"{share(idle, 'listener')}  (target < 2 %)"),
        (
            "  doubles / PostgreSQL / this script CPU",
            f"{share(idle, 'doubles')} / {share(idle, 'postgres')} / {share(idle, 'bench')}",
        ),
        ("  machine (everything on it)", machine(idle)),
        (f"reads ({args.cameras} x {args.rate:g}/s, 2 x {args.picture_kb} KB)", ""),
        ("  emitted / stored / with pictures", f"{len(emitted)} / {stored} / {pictures}"),
        ("  lost (emitted, not stored) / stored, never seen", f"{lost} / {len(emitted) - len(seen)}"),
        (
            "  emit to row visible (DB) p50 / p99 / max",
            f"{1000 * pct(latencies, 0.5):.0f} / "
            f"{1000 * pct(latencies, 0.99):.0f} / {1000 * max(latencies):.0f} ms  (target p99 <= 1 s)",
        ),
        ("  drain after the last read", f"{drain:.2f} s"),
        ("  rows stored per second: while emitting / after", throughput()),
        ("  listener CPU over the phase", f"{share(busy, 'listener')} of one core ({busy.wall:.1f} s)"),
        (
            "  doubles / PostgreSQL / this script CPU",
            f"{share(busy, 'doubles')} / {share(busy, 'postgres')} / {share(busy, 'bench')}",
        ),
        ("  machine (everything on it)", machine(busy)),
        ("  listener CPU per read (less heartbeats)", f"{1000 * per_read:.2f} ms"),
        ("  PostgreSQL CPU per read", f"{1000 * busy.cpu['postgres'] / max(1, len(seen)):.2f} ms"),
        ("  floor: parsing the same bytes only", f"{1000 * floor:.3f} ms ({floor_reads} reads, in-process)"),
        ("API (gunicorn, 1 worker, after the reads)", ""),
        *[
            (f"  GET /api/plates/reads/ ({label})", f"median {1000 * med:.0f} ms, max {1000 * mx:.0f} ms, {n} rows")
            for label, (med, mx, n) in api.items()
        ],
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("\neach second of the reads phase: time since the first read, emitted, visible, backlog, listener CPU")
    for at, sent, visible, share_ in seconds:
        print(f"  {at:6.1f} s  {sent:6d}  {visible:6d}  {sent - visible:6d}  {100 * share_:5.0f} %")


if __name__ == "__main__":
    main()
