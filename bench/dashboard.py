"""Benchmark: what one dashboard refresh (the panel the admin index fetches every few seconds) costs as
cameras and footage grow, for an administrator (every camera) and a user (a few cameras).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench .venv/bin/python bench/dashboard.py \
        [--cameras 128] [--segments 200000,1000000] [--user-cameras 8] [--runs 5]

Creates the cameras (each with a running 24/7 media channel, the first 16 as ANPR gates, some jobs and
plate reads), then segment rows (no files) up to each count in turn, and times the disk figures alone
(a sum over every segment, cached DASHBOARD_DISK_SECONDS) and GET /admin/dashboard/panel/ through
Django's test client (disk figures cached, as between most refreshes): median and worst, and its queries.
Rows are deleted afterwards. Run it on a database of its own.
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

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.metrics import grow_segments  # noqa: E402  (the same footage as the /metrics bench)
from cameras.models import Camera  # noqa: E402
from lprnvr.dashboard import disk_panel  # noqa: E402
from plates.models import AnprCamera, PlateJob, PlateJobCamera, PlateRead  # noqa: E402
from recordings.models import MediaChannel, Segment  # noqa: E402


def timed(client: Client, runs: int) -> tuple[list[float], int]:
    client.get("/admin/dashboard/panel/", HTTP_ACCEPT="text/html")  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/admin/dashboard/panel/", HTTP_ACCEPT="text/html")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/dashboard/panel/", HTTP_ACCEPT="text/html")
    return times, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=128)
    parser.add_argument("--segments", default="200000,1000000")
    parser.add_argument("--gates", type=int, default=16)
    parser.add_argument("--user-cameras", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_test_environment()  # the test client's host and response context
    cameras = Camera.objects.bulk_create(
        [Camera(name=f"bench-{i}", ip=f"127.2.{i // 250}.{i % 250 + 1}") for i in range(args.cameras)]
    )
    admin = User.objects.create(username="bench-dash-admin", role="admin")
    user = User.objects.create(username="bench-dash-user", role="user")
    try:
        user.cameras.add(*cameras[: args.user_cameras])
        MediaChannel.objects.bulk_create([MediaChannel(camera=c, state="running", continuous=True) for c in cameras])
        AnprCamera.objects.bulk_create(
            [AnprCamera(camera=c, last_synced_at=timezone.now()) for c in cameras[: args.gates]]
        )
        for n, camera in enumerate(cameras[: args.gates]):
            job = PlateJob.objects.create(operation="add", status="failed" if n % 2 else "running")
            PlateJobCamera.objects.create(job=job, camera=camera, camera_address=camera.address, last_error="x")
            PlateRead.objects.bulk_create([PlateRead(camera=camera, number=f"BD{n:02d}{i:03d}") for i in range(50)])
        clients = {}
        for name, who in (("admin", admin), ("user", user)):
            clients[name] = Client()
            clients[name].force_login(who)
        start = timezone.now() - timedelta(days=7)
        made = 0
        for target in (int(n) for n in args.segments.split(",")):
            made = grow_segments(cameras, made=made, target=target, start=start, prefix="bench-dash")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE recordings_segment")
            disk = []
            for _ in range(args.runs):
                started = time.perf_counter()
                disk_panel()
                disk.append(time.perf_counter() - started)
            print(
                f"{args.cameras} cameras, {made} segments: disk figures (recomputed every DASHBOARD_DISK_SECONDS) "
                f"median {statistics.median(disk) * 1000:.0f} ms"
            )
            for name, client in clients.items():
                times, queries = timed(client, args.runs)
                print(
                    f"{args.cameras} cameras, {made} segments, as {name}: panel median "
                    f"{statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms, {queries} queries"
                )
    finally:
        ids = [c.id for c in cameras]
        Segment.objects.filter(camera_id__in=ids).delete()
        PlateJob.objects.filter(cameras__camera_id__in=ids).delete()
        Camera.objects.filter(id__in=ids).delete()
        User.objects.filter(username__startswith="bench-dash-").delete()


if __name__ == "__main__":
    main()
