"""Benchmark: the cost of one /metrics scrape (every family read from the database) as footage grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench .venv/bin/python bench/metrics.py \
        [--cameras 128] [--segments 200000,1000000] [--plates 5000] [--runs 5]

Creates the cameras (all with a media channel, the first 16 as ANPR gates with every plate on their
list and a read source), then segment rows (no files) up to each count in turn, and times
`lprnvr.monitoring.metrics.exposition()` (what the view returns) `--runs` times at each size: median and
worst, plus the share of the time the per-camera footage aggregate takes. Rows are deleted afterwards.
Run it on a database of its own: it deletes every camera it created, with their segments.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

import django

django.setup()

from django.db.models import Count, Max, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from cameras.models import Camera  # noqa: E402
from lprnvr.monitoring.metrics import exposition  # noqa: E402
from plates.models import AnprCamera, AnprEventSource, CameraPlate, Plate  # noqa: E402
from recordings.models import MediaChannel, Segment  # noqa: E402


def timed(func, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def grow_segments(cameras: list, *, made: int, target: int, start, prefix: str) -> int:
    """Segment rows (no files) of 10 s each, round-robin over the cameras from `start`, until `target`
    exist; returns the new count. Shared with bench/dashboard.py."""
    batch = []
    while made < target:
        camera = cameras[made % len(cameras)]
        at = start + timedelta(seconds=10 * (made // len(cameras)))
        batch.append(Segment(camera=camera, start=at, end=at + timedelta(seconds=10), size=2_500_000,
                             path=f"{prefix}/{camera.id}/{made}.c.mp4", continuous=True))  # fmt: skip
        made += 1
        if len(batch) == 20000:
            Segment.objects.bulk_create(batch)
            batch = []
    Segment.objects.bulk_create(batch)
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=128)
    parser.add_argument("--segments", default="200000,1000000")
    parser.add_argument("--plates", type=int, default=5000)
    parser.add_argument("--gates", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cameras = Camera.objects.bulk_create(
        [
            Camera(name=f"bench-{i}", ip=f"127.1.{i // 250}.{i % 250 + 1}", brand="hikvision")
            for i in range(args.cameras)
        ]
    )
    try:
        MediaChannel.objects.bulk_create([MediaChannel(camera=c, state="running", continuous=True) for c in cameras])
        plates = Plate.objects.bulk_create([Plate(number=f"BN{i:06d}") for i in range(args.plates)])
        gates = cameras[: args.gates]
        for gate in gates:
            CameraPlate.objects.bulk_create([CameraPlate(camera=gate, plate=p) for p in plates], batch_size=5000)
        AnprCamera.objects.bulk_create([AnprCamera(camera=g, drift={"missing": ["BN000001"]}) for g in gates])
        AnprEventSource.objects.bulk_create([AnprEventSource(camera=g, last_read_at=timezone.now()) for g in gates])
        start = timezone.now() - timedelta(days=7)
        made = 0
        for target in (int(n) for n in args.segments.split(",")):
            made = grow_segments(cameras, made=made, target=target, start=start, prefix="bench")
            exposition()  # warm
            size = len(exposition())
            scrape = timed(exposition, args.runs)
            footage = timed(
                lambda: list(
                    Segment.objects.order_by().values("camera_id").annotate(n=Count("id"), s=Sum("size"), e=Max("end"))
                ),
                args.runs,
            )
            print(
                f"{args.cameras} cameras, {args.gates} gates x {args.plates} plates, {made} segments: "
                f"scrape median {statistics.median(scrape) * 1000:.0f} ms, worst {max(scrape) * 1000:.0f} ms "
                f"({size / 1024:.0f} KiB); footage aggregate alone median {statistics.median(footage) * 1000:.0f} ms"
            )
    finally:
        ids = [c.id for c in cameras]
        Segment.objects.filter(camera_id__in=ids).delete()
        Plate.objects.filter(number__startswith="BN").delete()
        Camera.objects.filter(id__in=ids).delete()


if __name__ == "__main__":
    main()
