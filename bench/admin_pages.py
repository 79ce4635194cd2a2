"""Benchmark: the plate admin pages with 5,000 plates on 2 ANPR cameras and a 5,000-plate job.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench REDIS_URL=redis://127.0.0.1:6379/1
    python manage.py migrate && python bench/admin_pages.py [--plates 5000 --runs 20]

Builds the data through the services (`push_plates` to both cameras: 5,000 plates, one job with 10,000
per-plate rows, 40 of them failed; the job's task is not sent), a drift of 2,000 missing and 1,000
unexpected plates on one camera, then times each page through Django's test client signed in as an
administrator (whole request: middleware, session, queries, template), `--runs` times after one warm-up.
Prints per page the median and p95 wall time, the queries per request, the body size and the table rows
it holds; with `--heights`, also each page's height in headless Chromium at 1440x900 (a `runserver` on a
free loopback port over the same database, and bench/page_heights.js). The rows it creates are deleted
at the end. No camera is contacted (the cameras point at a closed loopback port).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

import django  # noqa: E402

django.setup()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def heights(username: str, password: str, paths: list[str]) -> dict[str, int]:
    """Each page's height in Chromium, served by a `runserver` over the same database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        done = subprocess.run(
            ["node", str(ROOT / "bench" / "page_heights.js"), f"http://127.0.0.1:{port}", username, password, *paths],
            capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plates", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--heights", action="store_true", help="page heights in headless Chromium too")
    args = parser.parse_args()

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from accounts.models import User
    from cameras.models import Brand, Camera
    from plates import services
    from plates.models import AnprCamera, Plate, PlateJob, PlateJobItem, Status

    setup_test_environment()
    services.jobs._enqueue = lambda ids: None  # the pages are measured, not the cameras
    stamp = int(time.time())
    cameras = [
        Camera.objects.create(name=f"Bench gate {i}", ip=f"127.0.9.{i + 1}", http_port=9, brand=Brand.HIKVISION)
        for i in range(2)
    ]
    admin = User.objects.create_user(f"bench-admin-{stamp}", password="bench-pass-1", role="admin")
    numbers = [f"BN{stamp % 10000:04d}{i:05d}" for i in range(args.plates)]
    try:
        started = time.perf_counter()
        with transaction.atomic():
            job = services.push_plates(cameras=cameras, numbers=numbers, user=admin)
        build = time.perf_counter() - started
        items = PlateJobItem.objects.filter(job_camera__job=job)
        first = list(items.order_by("id").values_list("id", flat=True)[:40])
        items.exclude(id__in=first).update(status=Status.SUCCEEDED, detail="added", finished_at=timezone.now())
        items.filter(id__in=first).update(status=Status.FAILED, last_error="the camera refused the record")
        job.cameras.update(status=Status.FAILED, last_error="40 plates refused")
        PlateJob.objects.filter(pk=job.pk).update(status=Status.PARTIAL, finished_at=timezone.now())
        AnprCamera.objects.filter(camera=cameras[0]).update(
            drift={
                "missing": numbers[:2000],
                "unexpected": [f"ODD{i:05d}" for i in range(1000)],
                "to_remove": [],
                "duplicates": numbers[2000:2010],
                "mismatched": numbers[2010:2100],
            },
            last_synced_at=timezone.now(),
        )
        row = job.cameras.order_by("id").last()
        print(
            f"{args.plates} plates on {len(cameras)} cameras; job #{job.pk} with {items.count()} per-plate rows "
            f"(built by push_plates in {build:.2f} s)"
        )
        client = Client()
        client.force_login(admin)
        client.get("/admin/")
        pages = [
            ("plate list", "/admin/plates/plate/"),
            (
                "plate list, gate + validity + owner filters",
                f"/admin/plates/plate/?camera={cameras[0].pk}&validity=valid&owner=x",
            ),
            ("plate list, search", f"/admin/plates/plate/?q={numbers[4321]}"),
            ("job list", "/admin/plates/platejob/"),
            ("job page", f"/admin/plates/platejob/{job.pk}/change/"),
            (
                "job per-plate rows, one camera, page 50",
                f"/admin/plates/platejob/{job.pk}/change/?camera={row.pk}&page=50",
            ),
            ("job per-plate rows, failed", f"/admin/plates/platejob/{job.pk}/change/?status=failed"),
            ("job camera page (redirect followed)", f"/admin/plates/platejobcamera/{row.pk}/change/"),
            ("drift list", "/admin/plates/anprcamera/"),
            ("drift page (3,100 plates drifted)", f"/admin/plates/anprcamera/{cameras[0].pk}/change/"),
        ]
        tall = heights(admin.username, "bench-pass-1", [url for _name, url in pages]) if args.heights else {}
        print(f"{'page':45} {'median':>8} {'p95':>8} {'queries':>8} {'bytes':>8} {'rows':>5} {'height':>8}")
        for name, url in pages:
            client.get(url, follow=True)  # warm-up
            times = []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as queries:
                    t0 = time.perf_counter()
                    response = client.get(url, follow=True)
                    times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (url, response.status_code)
            body = response.content
            print(
                f"{name:45} {statistics.median(times) * 1000:6.0f}ms {p95(times) * 1000:6.0f}ms "
                f"{len(queries):8d} {len(body):8d} {body.count(b'<tr'):5d} {tall.get(url, '-'):>6}px"
            )
        t0 = time.perf_counter()
        response = client.get("/admin/plates/plate/export/")
        size = sum(len(chunk) for chunk in response.streaming_content)
        print(f"{'export CSV, all plates':45} {(time.perf_counter() - t0) * 1000:6.0f}ms (one run) {size:>17d}")
    finally:
        PlateJob.objects.filter(requested_by=admin).delete()
        Plate.objects.filter(number__in=numbers).delete()
        Camera.objects.filter(pk__in=[c.pk for c in cameras]).delete()
        admin.delete()


if __name__ == "__main__":
    main()
