"""Media nodes benchmark: N `run_media` nodes on one PostgreSQL database and one recordings folder.

Prints
  1. failover time (SIGKILL of one node -> every camera recorded again by exactly one live node), p50 and max
     over --kills kills (the killed node is restarted and the cameras rebalanced between kills);
  2. video lost per failover: per moved camera, the gap in the index between the killed node's last
     segment and the new owner's first one (p50, max);
  3. CPU of the supervisors (not ffmpeg) per node, with the nodes sharing the cameras, beside one
     node alone holding --channels cameras: what the leases, renewals and assignment cost.

Sources: GStreamer's RTSP server (cameras/tests/doubles/rtsp_server.py, /usr/bin/python3), one path
(one encoder, 320x180 at 10 fps by default) per camera. All traffic on 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench \\
      .venv/bin/python bench/media_nodes.py --nodes 3 --channels 32 --kills 5
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from media_channels import cpu_seconds, ensure_database  # noqa: E402  (the sibling benchmark's helpers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--channels", type=int, default=32, help="cameras per node")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--lease", type=float, default=15.0, help="MEDIA_LEASE_SECONDS")
    parser.add_argument("--seconds", type=float, default=30, help="CPU measurement window")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument(
        "--paths", type=int, default=0,
        help="RTSP paths (encoders) the cameras are spread over; 0: one per camera. GStreamer's shared path "
        "broke here when a killed node dropped dozens of its clients at once",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=18754)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lprnvr-nodes-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None))
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lprnvr_bench")
    ensure_database(db_url)
    common = {
        **os.environ,
        "RECORDINGS_DIR": str(work / "recordings"),
        "HLS_OUTPUT_DIR": str(work / "hls"),
        "MEDIA_LEASE_SECONDS": str(args.lease),
        "LOG_LEVEL": "INFO",
    }
    os.environ.update(common)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from cameras.models import Camera
    from recordings import storage
    from recordings.clients import ffmpeg
    from recordings.models import MediaChannel, MediaLease, MediaNode, Recording, Segment

    call_command("migrate", verbosity=0)
    for model in (Segment, Recording, MediaLease, MediaChannel, MediaNode):
        model.objects.all().delete()
    Camera.objects.filter(name__startswith="bench-").delete()

    def rtsp_server() -> subprocess.Popen:
        proc = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "cameras/tests/doubles/rtsp_server.py"), "--port", str(args.port),
             "--paths", str(paths), "--size", args.size, "--fps", str(args.fps), "--bitrate", "150"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout.readline().startswith("ready"), "RTSP server did not start"
        return proc

    total = args.nodes * args.channels
    paths = args.paths or total
    server = rtsp_server()
    cameras = []
    for i in range(total):
        camera = Camera.objects.create(
            name=f"bench-{i}",
            ip="127.0.0.1",
            http_port=20000 + i,
            rtsp_url=f"rtsp://127.0.0.1:{args.port}/stream{i % paths + 1}",
        )
        MediaChannel.objects.create(camera=camera, continuous=True)
        cameras.append(camera.id)

    procs: dict[str, subprocess.Popen] = {}

    def start(name: str, capacity: int = 128) -> None:
        env = {**common, "MEDIA_NODE_NAME": name, "MEDIA_RUN_DIR": str(work / f"run-{name}"),
               "MEDIA_NODE_MAX_CHANNELS": str(capacity)}  # fmt: skip
        log = open(work / f"{name}.log", "ab")
        procs[name] = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_media"], env=env, stdout=log,
                                       stderr=subprocess.STDOUT)  # fmt: skip

    def writers() -> dict[int, list[str]]:
        by_pid = {p.pid: n for n, p in procs.items() if p.poll() is None}
        mine = storage.instance_id() + "/"
        found = defaultdict(list)
        for pid, marker in ffmpeg.find_leftovers():
            if not marker.startswith(mine):
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                found[int(marker.rsplit("/", 1)[1])].append(by_pid.get(int(fields[1]), "orphan"))
        return found

    def settled(without: str | None = None) -> bool:
        w = writers()
        return all(len(w.get(c, [])) == 1 and w[c][0] not in (without, "orphan") for c in cameras)

    def wait(predicate, timeout: float) -> float:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if predicate():
                return time.monotonic() - began
            time.sleep(0.2)
        raise SystemExit(f"timed out after {timeout} s; writers: {dict(writers())}; logs in {work}")

    def supervisor_cpu(names: list[str]) -> dict[str, float]:
        before = {n: cpu_seconds(procs[n].pid) for n in names}
        time.sleep(args.seconds)
        return {n: (cpu_seconds(procs[n].pid) - before[n]) / args.seconds for n in names}

    try:
        # One node alone with --channels cameras (the others are not started yet): the single-node stack.
        MediaChannel.objects.exclude(camera_id__in=cameras[: args.channels]).update(continuous=False)
        start("solo")
        wait(lambda: all(len(writers().get(c, [])) == 1 for c in cameras[: args.channels]), 120)
        time.sleep(5)
        solo = supervisor_cpu(["solo"])["solo"]
        procs["solo"].terminate()
        procs["solo"].wait(30)
        del procs["solo"]
        MediaNode.objects.filter(name="solo").delete()
        # A fresh source: GStreamer's shared media does not always come back once its last client left.
        server.kill()
        server.wait()
        server = rtsp_server()

        MediaChannel.objects.update(continuous=True)
        names = [f"node{i + 1}" for i in range(args.nodes)]
        for name in names:
            start(name)
        wait(lambda: settled() and len({w[0] for w in writers().values()}) == args.nodes, 180)
        time.sleep(args.lease)
        shared = supervisor_cpu(names)

        failovers, gaps = [], []
        for k in range(args.kills):
            victim = names[k % len(names)]
            moved = [c for c, w in writers().items() if w == [victim]]
            killed_at = timezone.now()
            procs[victim].kill()
            procs[victim].wait()
            failovers.append(wait(lambda v=victim: settled(without=v), 4 * args.lease + 30))
            # Lost video: the largest hole in each moved camera's index around the kill, once the new
            # owner has indexed a couple of segments.
            wait(
                lambda m=moved, t=killed_at: all(
                    Segment.objects.filter(camera_id=c, start__gt=t).count() >= 2 for c in m
                ),
                90,
            )
            for c in moved:
                spans = list(
                    Segment.objects.filter(camera_id=c, end__gt=killed_at - timedelta(seconds=30))
                    .order_by("start")
                    .values_list("start", "end")
                )
                holes = [(b[0] - a[1]).total_seconds() for a, b in itertools.pairwise(spans)]
                gaps.append(max([0.0, *holes]))
            print(f"kill {k + 1}: {victim}, {len(moved)} cameras, all recorded again after {failovers[-1]:.1f} s")
            start(victim)
            wait(lambda v=victim: settled() and v in {w[0] for w in writers().values()}, 120)
            time.sleep(args.lease)

        def pct(values, p):
            return sorted(values)[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

        print(f"\n{args.nodes} nodes x {args.channels} cameras, MEDIA_LEASE_SECONDS={args.lease:g}, {args.kills} kills")
        print(f"failover (SIGKILL -> every camera recorded once again): p50 {statistics.median(failovers):.1f} s, "
              f"max {max(failovers):.1f} s")  # fmt: skip
        if gaps:
            print(f"video lost per moved camera (index gap): p50 {statistics.median(gaps):.1f} s, "
                  f"p95 {pct(gaps, 95):.1f} s, max {max(gaps):.1f} s")  # fmt: skip
        per_node = statistics.mean(shared.values())
        print(f"supervisor CPU, one node alone with {args.channels} cameras: {solo * 100:.1f}% of a core")
        print(f"supervisor CPU per node, {args.nodes} nodes sharing {total} cameras: {per_node * 100:.1f}% of a core "
              f"({', '.join(f'{n} {v * 100:.1f}%' for n, v in shared.items())})")  # fmt: skip
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.send_signal(signal.SIGKILL)
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
