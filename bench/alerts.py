"""Benchmark: alerts from a plate read to its receivers, and ingestion while the receivers are slow.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr REDIS_URL=redis://127.0.0.1:6379/1
    python manage.py migrate && python bench/alerts.py [--cameras 4 --rate 0.5 --seconds 20 \
        --flood-cameras 10 --flood-rate 10 --flood-seconds 10 --slow 2]

Children: the Hikvision doubles (bench/events.py's own `--serve-doubles` process, one per phase), the
real `manage.py run_events` on the benchmark database, and a Celery worker on the `notify` queue
(`-Q notify --concurrency 4` as `make run` starts it, with `--pool threads` so that its CPU is one
process's to measure). In this process: a webhook receiver and an
MQTT subscriber on the machine's Mosquitto (127.0.0.1:1883), the test suite's own receivers
(lprnvr/alerts/tests/receivers.py).

1. Latency: --cameras x --rate reads/s for --seconds, every plate on our block list, one rule
   (plate_blocked, no cooldown) to a webhook and an MQTT broker: from the alert leaving the double
   (wall clock, in the doubles' process) to the POST received / the message received. Target p99 <= 1 s.
2. Slow receivers: --flood-cameras x --flood-rate unlisted reads/s for --flood-seconds, twice: without
   any rule, then with a rule on plate_unlisted (cooldown 60 s) to a webhook that answers in --slow s.
   Ingestion latency (emit to row visible in the database, polled every --poll s) both times:
   unchanged is the goal (the rules run on the notify queue, not in the listener).

Traffic goes only to 127.0.0.1. Everything it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

from bench.events import PLATE_PREFIX, Meter, pct  # noqa: E402  (the listener bench's pieces)

NAME = "bench-al-"


def plate_of(n: int, cameras: int) -> str:
    """The plate bench/events.py's doubles emit as read number `n`."""
    return f"{PLATE_PREFIX}{n % cameras:03d}X{n // cameras:05d}"


class Doubles:
    """bench/events.py's doubles process: `cameras` Hikvision doubles that emit on "go"."""

    def __init__(self, cameras: int, rate: float, seconds: float, picture_kb: int):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "events.py"), "--serve-doubles", "--cameras", str(cameras),
             "--rate", str(rate), "--seconds", str(seconds), "--heartbeat", "10", "--picture-kb", str(picture_kb)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.ports = json.loads(self.proc.stdout.readline())["ports"]

    def go(self) -> dict[str, float]:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["emitted"]

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def armed_cameras(ports: list[int], tag: str) -> list:
    from cameras.models import Brand, Camera
    from plates.models import AnprCamera, AnprEventSource, EventState

    cameras = []
    for port in ports:
        camera = Camera.objects.create(
            name=f"{NAME}{tag}-{port}", ip="127.0.0.1", http_port=port, brand=Brand.HIKVISION,
            username="admin", password="cam-secret-1",
        )  # fmt: skip
        AnprCamera.objects.get_or_create(camera=camera)
        AnprEventSource.objects.create(camera=camera)
        cameras.append(camera)
    sources = AnprEventSource.objects.filter(camera__in=cameras)
    deadline = time.monotonic() + 120
    while sources.filter(state=EventState.CONNECTED).count() < len(cameras):
        if time.monotonic() > deadline:
            raise SystemExit("the doubles' streams did not connect (see the run_events log)")
        time.sleep(0.3)
    time.sleep(2)  # the connection burst settles
    return cameras


def watch_rows(camera_ids: list[int], poll: float, stop: threading.Event, seen: dict[str, float]) -> None:
    """When each read's row became visible: rows above the highest pk seen less a margin (several
    ingest threads commit slightly out of pk order)."""
    from django.db import connection
    from django.db.models import Max

    from plates.models import PlateRead

    top = PlateRead.objects.aggregate(m=Max("pk"))["m"] or 0
    while not stop.is_set():
        rows = PlateRead.objects.filter(camera_id__in=camera_ids, pk__gt=top - 300).values_list("pk", "number")
        now = time.time()
        for pk, number in rows:
            seen.setdefault(number, now)
            top = max(top, pk)
        time.sleep(poll)
    connection.close()


def ingestion_run(args, rule_on: bool) -> tuple[list[float], int, int, Meter]:
    """One flood: (emit-to-visible latencies, emitted, stored, CPU meter)."""
    from plates.models import PlateRead

    doubles = Doubles(args.flood_cameras, args.flood_rate, args.flood_seconds, args.picture_kb)
    try:
        cameras = armed_cameras(doubles.ports, "slow" if rule_on else "base")
        ids = [c.pk for c in cameras]
        seen: dict[str, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_rows, args=(ids, args.poll, stop, seen), daemon=True)
        watcher.start()
        with Meter(args.pids) as meter:
            emitted = doubles.go()
            deadline = time.monotonic() + 60
            while len(seen) < len(emitted) and time.monotonic() < deadline:
                time.sleep(0.05)
        stop.set()
        watcher.join(10)
        stored = PlateRead.objects.filter(camera_id__in=ids).count()
        return [seen[p] - t for p, t in emitted.items() if p in seen], len(emitted), stored, meter
    finally:
        doubles.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.5, help="blocked reads per second per camera")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--flood-cameras", type=int, default=10)
    parser.add_argument("--flood-rate", type=float, default=10.0, help="unlisted reads per second per camera")
    parser.add_argument("--flood-seconds", type=float, default=10)
    parser.add_argument("--slow", type=float, default=2.0, help="the slow webhook's answer time, s")
    parser.add_argument("--picture-kb", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from cameras.models import Camera
    from lprnvr.alerts.models import Event, EventKind, Rule, Target
    from lprnvr.alerts.tests.receivers import MqttSubscriber, WebhookReceiver
    from plates.models import CameraPlate, Plate

    Camera.objects.filter(name__startswith=NAME).delete()
    Rule.objects.filter(name__startswith=NAME).delete()
    Target.objects.filter(name__startswith=NAME).delete()
    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    env = {
        **os.environ,
        "READS_DIR": str(work / "reads"),
        "EVENTS_RUN_DIR": str(work / "events"),
        "LOG_LEVEL": "WARNING",
    }
    db = connection.settings_dict
    print(
        f"database {db['NAME']} on {db['HOST']}; {os.cpu_count()} CPU(s), load average before: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    hook, slow_hook = WebhookReceiver().start(), WebhookReceiver(delay=args.slow).start()
    subscriber = MqttSubscriber().start()
    listener = worker = None
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lprnvr", "worker", "-Q", "notify", "--concurrency", "4",
             "--pool", "threads", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "worker.log", "wb"),
        )  # fmt: skip
        listener = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_events"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "run_events.log", "wb"),
        )  # fmt: skip
        args.pids = {"listener": listener.pid, "worker": worker.pid, "bench": os.getpid()}

        # -- 1. a blocked read to a webhook and an MQTT subscriber --
        doubles = Doubles(args.cameras, args.rate, args.seconds, args.picture_kb)
        try:
            cameras = armed_cameras(doubles.ports, "lat")
            total = int(args.seconds * args.rate * args.cameras)
            for n in range(total):
                plate = Plate.objects.create(number=plate_of(n, args.cameras), list_type="block")
                CameraPlate.objects.create(camera=cameras[n % args.cameras], plate=plate, desired=True)
            webhook = Target.objects.create(name=f"{NAME}hook", kind="webhook", url=hook.url, secret="s")
            broker = Target.objects.create(
                name=f"{NAME}mqtt", kind="mqtt", host="127.0.0.1", port=1883, topic_prefix=subscriber.prefix
            )
            rule = Rule.objects.create(name=f"{NAME}blocked", kinds=[EventKind.PLATE_BLOCKED], cooldown_seconds=0)
            rule.targets.set([webhook, broker])
            time.sleep(6)  # past ALERTS_RULES_CACHE_SECONDS: the listener sees the rule
            with Meter(args.pids) as latency_meter:
                emitted = doubles.go()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and (
                    len(hook.received) < len(emitted)
                    or sum(m.topic.endswith("/plate_blocked") for m in subscriber.messages) < len(emitted)
                ):
                    time.sleep(0.05)
        finally:
            doubles.stop()
        arrived_hook = {r.json["plate"]["number"]: r.at for r in hook.received}
        blocked = [m for m in subscriber.messages if m.topic.endswith("/plate_blocked")]
        arrived_mqtt = {json.loads(m.payload)["plate"]["number"]: m.at for m in blocked}
        to_hook = [arrived_hook[p] - t for p, t in emitted.items() if p in arrived_hook]
        to_mqtt = [arrived_mqtt[p] - t for p, t in emitted.items() if p in arrived_mqtt]
        rule.delete()

        # -- 2. ingestion with and without a rule whose receiver answers in --slow s --
        base, base_emitted, base_stored, base_meter = ingestion_run(args, rule_on=False)
        slow_target = Target.objects.create(name=f"{NAME}slow", kind="webhook", url=slow_hook.url, timeout_seconds=10)
        slow_rule = Rule.objects.create(name=f"{NAME}unlisted", kinds=[EventKind.PLATE_UNLISTED], cooldown_seconds=60)
        slow_rule.targets.set([slow_target])
        time.sleep(6)
        slow, slow_emitted, slow_stored, slow_meter = ingestion_run(args, rule_on=True)
        time.sleep(args.slow + 1)
        events = Event.objects.filter(kind=EventKind.PLATE_UNLISTED, camera__name__startswith=NAME).count()
        posted = len(slow_hook.received)
    finally:
        for proc in (listener, worker):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
        hook.stop()
        slow_hook.stop()
        subscriber.stop()
        Camera.objects.filter(name__startswith=NAME).delete()
        Plate.objects.filter(number__startswith=PLATE_PREFIX).delete()
        Rule.objects.filter(name__startswith=NAME).delete()
        Target.objects.filter(name__startswith=NAME).delete()
        shutil.rmtree(work, ignore_errors=True)

    def ms(values: list[float]) -> str:
        if not values:
            return "n/a"
        return f"{1000 * pct(values, 0.5):.0f} / {1000 * pct(values, 0.99):.0f} / {1000 * max(values):.0f} ms"

    def cpu(meter: Meter) -> str:
        share = {k: 100 * v / meter.wall for k, v in meter.cpu.items()}
        return (
            f"listener {share['listener']:.0f} %, notify worker {share['worker']:.0f} %, "
            f"PostgreSQL {share['postgres']:.0f} % of a core; load {meter.load[0]:.2f}"
        )

    flood = f"{args.flood_cameras} x {args.flood_rate:g}/s for {args.flood_seconds:g} s"
    rows = [
        (f"blocked reads ({args.cameras} x {args.rate:g}/s for {args.seconds:g} s)", ""),
        ("  emitted / POSTs / MQTT messages", f"{len(emitted)} / {len(to_hook)} / {len(to_mqtt)}"),
        ("  emit to webhook POST p50 / p99 / max", f"{ms(to_hook)}  (target p99 <= 1 s)"),
        ("  emit to MQTT message p50 / p99 / max", f"{ms(to_mqtt)}  (target p99 <= 1 s)"),
        ("  CPU", cpu(latency_meter)),
        (f"unlisted reads, {flood}", ""),
        ("  no rule: emitted / stored", f"{base_emitted} / {base_stored}"),
        ("  no rule: emit to row visible p50 / p99 / max", ms(base)),
        ("  no rule: CPU", cpu(base_meter)),
        (
            f"  rule, cooldown 60 s, webhook answering in {args.slow:g} s: emitted / stored",
            f"{slow_emitted} / {slow_stored}",
        ),
        ("  rule: emit to row visible p50 / p99 / max", ms(slow)),
        ("  rule: events recorded / POSTs received", f"{events} / {posted}  (one per camera per cooldown)"),
        ("  rule: CPU", cpu(slow_meter)),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
