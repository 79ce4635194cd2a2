"""Benchmark: the 7-day timeline query over a month of 24/7 footage, in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench \
        .venv/bin/python bench/timeline.py --cameras 16 --days 30 [--segment 10] [--queries 100] [--keep]

The full size of issue 15 is `--cameras 128 --days 30` (about 33 million rows: 445 s to generate and
11 GB with its indexes here; use a database of its own and drop it afterwards). It generates N cameras x D days of `--segment` second segment rows
(index only, no files) with one 5-minute outage per camera per day and a switch between recording and
continuous every 6 hours, with `INSERT ... SELECT generate_series` (one statement per camera), then
times `recordings.timeline.spans_by_camera` (what /api/nvr/timeline runs) for random 7-day windows
of one camera, and of 16 cameras at once. Prints p50/p95/max. The bench rows are deleted afterwards
unless --keep (then --reuse runs the queries again on them).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

PREFIX = "bench-timeline/"
END = datetime(2026, 11, 1, tzinfo=UTC)

GENERATE = """
INSERT INTO recordings_segment (camera_id, start, "end", size, path, continuous)
SELECT %(camera)s, t, t + make_interval(secs => %(segment)s), 5000000,
       %(prefix)s || %(camera)s || '/' || n,
       (extract(hour from t)::int / 6) %% 2 = 0
FROM (
    SELECT n, %(first)s::timestamptz + make_interval(secs => n * %(segment)s) AS t
    FROM generate_series(0, %(count)s - 1) AS n
) s
-- one 5-minute outage a day, at a time of day of the camera's own
WHERE NOT (extract(epoch from t)::bigint %% 86400 BETWEEN %(outage)s AND %(outage)s + 299)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(name: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return (
        f"{name}: p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
        f"max {max(ms):.1f} ms ({len(ms)} queries)"
    )


def generate(cameras: list[int], days: int, segment: int) -> None:
    count = int(days * 86400 / segment)
    first = END - timedelta(days=days)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for i, camera in enumerate(cameras):
            cursor.execute(
                GENERATE,
                {"camera": camera, "segment": segment, "prefix": PREFIX, "first": first, "count": count,
                 "outage": (camera * 7919) % 86000},
            )  # fmt: skip
            print(f"  camera {i + 1}/{len(cameras)}: {cursor.rowcount} rows", file=sys.stderr)
        # The visibility map lets the timeline read the covering index alone (autovacuum keeps it so).
        cursor.execute("VACUUM ANALYZE recordings_segment")
    print(f"generated {days} days x {len(cameras)} cameras in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--segment", type=int, default=10)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="leave the bench rows (and cameras) in the database")
    parser.add_argument("--reuse", action="store_true", help="query the rows a previous --keep run left")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the benchmark is for PostgreSQL (DATABASE_URL)")

    from cameras.models import Camera
    from recordings import timeline
    from recordings.models import Segment

    if args.reuse:
        cameras = list(Camera.objects.filter(name__startswith="bench-timeline ").values_list("id", flat=True))
    else:
        cameras = [
            Camera.objects.create(name=f"bench-timeline {i}", ip=f"127.1.{i // 250}.{i % 250 + 1}").id
            for i in range(args.cameras)
        ]
        generate(cameras, args.days, args.segment)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('recordings_segment'))"
                           " FROM recordings_segment")  # fmt: skip
            rows, size = cursor.fetchone()
        print(f"recordings_segment: {rows} rows, {size} with its indexes")
        rng = random.Random(15)
        first = END - timedelta(days=args.days)
        latest_start = max(0, args.days - 7) * 86400

        def window() -> tuple[datetime, datetime]:
            start = first + timedelta(seconds=rng.randint(0, latest_start))
            return start, start + timedelta(days=7)

        for name, size in (("7-day timeline, 1 camera", 1), ("7-day timeline, 16 cameras at once", 16)):
            times, spans = [], 0
            for _ in range(args.queries if size == 1 else max(5, args.queries // 10)):
                chosen = rng.sample(cameras, min(size, len(cameras)))
                start, end = window()
                began = time.perf_counter()
                found = timeline.spans_by_camera(chosen, start, end, tolerance=1.5)
                times.append(time.perf_counter() - began)
                spans += sum(len(v) for v in found.values())
            print(figures(name, times) + f"; {spans / len(times):.0f} spans per answer")
        start, end = window()
        with connection.cursor() as cursor:
            sql = timeline.ISLANDS_SQL.format(table="recordings_segment")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, {
                "gap": timedelta(seconds=1.5), "cameras": [cameras[0]], "scan_from": start - timeline.lookback(),
                "start": start, "end": end})  # fmt: skip
            plan = [row[0] for row in cursor.fetchall()]
        print("plan (1 camera):\n  " + "\n  ".join(line for line in plan if "Scan" in line or "Execution" in line))
    finally:
        if not args.keep:
            Segment.objects.filter(path__startswith=PREFIX).delete()
            Camera.objects.filter(id__in=cameras).delete()


if __name__ == "__main__":
    main()
