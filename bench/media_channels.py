"""Media engine benchmark: N channels recorded and live at once through the supervisor.

Prints, per channel: CPU (share of one core) and proportional memory (PSS) for
  1. the whole stack: `manage.py run_media` + its ffmpeg processes (one per camera: MP4 segments + live HLS);
  2. bare ffmpeg: the same ffmpeg command lines started directly, no supervisor;
  3. the seed's design: ffmpeg re-encoding with libx264 (-preset fast -crf 23, 2 Mb/s), measured on a
     couple of channels and scaled to N (it cannot run N at once here);
plus the time from the API call to a playable live playlist (cold: first probe; warm: probe cached) and the
live latency of the HLS output (keyframe reaching an RTSP client -> listed in the playlist; a player adds its hold-back).

All traffic stays on 127.0.0.1. The RTSP source is, with `--source gstreamer` (default), GStreamer's RTSP
server (cameras/tests/doubles/rtsp_server.py, run with /usr/bin/python3), one shared encoder for every channel so
that the source costs the same whatever N; with `--source clip`, for machines without GStreamer,
bench/rtsp_clip_server.py looping a clip that ffmpeg/libx264 encodes first (same size, rate, bitrate and
1 s GOP, no B-frames) to every client at live pace. Either way the source's CPU is printed apart, not counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lprnvr_bench \
      .venv/bin/python bench/media_channels.py --channels 32 --seconds 30
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (children not included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK


MEMORY = {"kind": "PSS"}  # what pss_bytes() could read: PSS, or RSS where the kernel has no smaps (gVisor)


def pss_bytes(pid: int) -> int:
    for name in ("smaps_rollup", "smaps"):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue
        values = re.findall(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
        if values:
            return sum(int(v) for v in values) * 1024
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return 0
    MEMORY["kind"] = "RSS"
    return int(match.group(1)) * 1024 if match else 0


def measure(pids_fn, seconds: float) -> tuple[float, int, int]:
    """(CPU cores used over the window, PSS bytes at the end, process count) for the pids pids_fn() returns."""
    pids = pids_fn()
    before = {pid: cpu_seconds(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    after = {pid: cpu_seconds(pid) for pid in pids}
    used = sum(after[p] - before[p] for p in pids if after[p] >= before[p])
    return used / elapsed, sum(pss_bytes(p) for p in pids), len(pids)


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist (local PostgreSQL, trust auth; no psql needed)."""
    import psycopg2

    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(base + "/postgres", connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30, help="measurement window per phase")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--bitrate", type=int, default=2000, help="source kbit/s")
    parser.add_argument("--x264-channels", type=int, default=2)
    parser.add_argument("--port", type=int, default=18654)
    parser.add_argument(
        "--source", choices=["gstreamer", "clip"], default="gstreamer",
        help="RTSP test source: GStreamer's server (live x264enc) or bench/rtsp_clip_server.py looping a clip",
    )  # fmt: skip
    parser.add_argument("--bare-first", action="store_true", help="measure bare ffmpeg before the stack, not after")
    parser.add_argument("--clip-seconds", type=int, default=20, help="length of the looped clip (--source clip)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) for inspection")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lprnvr-bench-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None))
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lprnvr_bench")
    ensure_database(db_url)
    env = {
        **os.environ,
        "RECORDINGS_DIR": str(work / "recordings"),
        "HLS_OUTPUT_DIR": str(work / "hls"),
        "MEDIA_RUN_DIR": str(work / "run"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
    # One bench user starts every recording, and the first camera's live view comes on top of N.
    env.setdefault("MAX_RECORDINGS_PER_USER", str(max(50, args.channels)))
    env.setdefault("MAX_STREAMS", str(max(128, args.channels + 1)))
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from accounts.services import issue_tokens
    from cameras.models import Camera
    from recordings import storage
    from recordings.clients import ffmpeg
    from recordings.models import LiveViewer, MediaChannel, Recording, Segment

    call_command("migrate", verbosity=0)
    # A clean slate in the benchmark database.
    for model in (Segment, Recording, LiveViewer, MediaChannel):
        model.objects.all().delete()
    Camera.objects.filter(name__startswith="bench-").delete()

    if args.source == "clip":
        from rtsp_clip_server import make_clip

        t = time.monotonic()
        clip = make_clip(settings.FFMPEG_BINARY, work / "clip.h264", size=args.size, fps=25, kbps=args.bitrate,
                         seconds=args.clip_seconds)  # fmt: skip
        print(f"  clip: {args.clip_seconds} s, {clip.stat().st_size * 8 / args.clip_seconds / 1000:.0f} kbit/s,"
              f" encoded in {time.monotonic() - t:.1f} s", flush=True)  # fmt: skip
        server_argv = [sys.executable, str(ROOT / "bench/rtsp_clip_server.py"), "--port", str(args.port),
                       "--clip", str(clip)]  # fmt: skip
    else:
        server_argv = ["/usr/bin/python3", str(ROOT / "cameras/tests/doubles/rtsp_server.py"), "--port", str(args.port),
                       "--size", args.size, "--bitrate", str(args.bitrate), "--paths", "1"]  # fmt: skip
    # The server's stderr is ours: a pipeline it cannot build is said there, with the missing package.
    server = subprocess.Popen(server_argv, stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().startswith("ready"), f"RTSP server did not start (exit {server.wait(10)})"
    url = f"rtsp://127.0.0.1:{args.port}/stream1"
    # One client held for the whole run: a shared GStreamer media is torn down when its last client
    # leaves, and a client connecting during the teardown gets no frames. Not measured. (The clip
    # server needs none; holding one there costs nothing measured either.)
    keeper = subprocess.Popen(
        [settings.FFMPEG_BINARY, "-nostdin", "-loglevel", "quiet", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
         "-f", "null", "-"],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(2)
    procs: list[subprocess.Popen] = []
    supervisor = None

    def bare_phase() -> tuple[float, int, int, float]:
        """The same ffmpeg command lines as the supervisor's, started directly, no supervisor."""
        info = ffmpeg.probe(url, binary=settings.FFPROBE_BINARY)
        for i in range(args.channels):
            seg, hls = work / "bare" / f"s{i}", work / "bare" / f"h{i}"
            shutil.rmtree(seg, ignore_errors=True)
            shutil.rmtree(hls, ignore_errors=True)
            seg.mkdir(parents=True)
            hls.mkdir(parents=True)
            argv = ffmpeg.channel_argv(
                url, info=info, marker=f"bench-bare/{i}", segment_dir=seg, hls_dir=hls, binary=settings.FFMPEG_BINARY
            )
            procs.append(
                subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TZ": "UTC"}
                )
            )
            if i % 8 == 7:
                time.sleep(1)
        time.sleep(10)
        src0 = cpu_seconds(server.pid)
        bare_cpu, bare_pss, bare_n = measure(lambda: [p.pid for p in procs if p.poll() is None], args.seconds)
        src_bare = (cpu_seconds(server.pid) - src0) / args.seconds
        print(f"  [bare window] {bare_cpu:.3f} cores, {MEMORY['kind']} {bare_pss / 2**20:.0f} MB, {bare_n} processes,"
              f" {_load()}", flush=True)  # fmt: skip
        _stop(procs)

        return bare_cpu, bare_pss, bare_n, src_bare

    try:
        if args.bare_first:  # the other order, to see what the order itself does
            bare_cpu, bare_pss, bare_n, src_bare = bare_phase()
        admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": "admin"})
        client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(admin)['token']}")
        cameras = [
            Camera.objects.create(name=f"bench-{i}", ip="127.0.0.1", http_port=10000 + i, rtsp_url=url)
            for i in range(args.channels)
        ]
        supervisor = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_media"], env=env, stdout=subprocess.DEVNULL,
            stderr=open(work / "run_media.log", "wb"),
        )  # fmt: skip
        time.sleep(2)

        # --- time to playable: cold (first start probes the stream), then warm (probe cached) ---
        first = cameras[0]
        t = time.monotonic()
        r = client.get(f"/api/cameras/stream/{first.address}")
        cold = time.monotonic() - t
        assert r.status_code == 200, r.content
        client.delete(f"/api/cameras/stream/{first.address}")
        mine = storage.instance_id() + "/"
        while [p for p, m in ffmpeg.find_leftovers() if m.startswith(mine)]:
            time.sleep(0.2)
        time.sleep(1.5)
        t = time.monotonic()
        r = client.get(f"/api/cameras/stream/{first.address}")
        warm = time.monotonic() - t
        assert r.status_code == 200, r.content

        # --- N channels recorded and live at once ---
        for camera in cameras:
            assert (
                client.post(f"/api/nvr/record/{camera.address}", "{}", content_type="application/json").status_code
                == 201
            )
        for camera in cameras:
            LiveViewer.objects.update_or_create(camera=camera, user=admin)

        def stack_pids() -> list[int]:
            return [supervisor.pid] + [p for p, m in ffmpeg.find_leftovers() if m.startswith(mine)]

        deadline = time.monotonic() + 60 + args.channels
        while len(stack_pids()) < args.channels + 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(10)  # past the staggered start
        ready = len([c for c in cameras if _playlist_ok(storage.hls_dir(c.id))])
        latency = live_latency(url, storage.hls_dir(first.id), 12, settings.FFMPEG_BINARY)
        src0, sup0 = cpu_seconds(server.pid), cpu_seconds(supervisor.pid)
        stack_cpu, stack_pss, stack_n = measure(stack_pids, args.seconds)
        src_stack = (cpu_seconds(server.pid) - src0) / args.seconds
        sup_cpu = (cpu_seconds(supervisor.pid) - sup0) / args.seconds
        print(f"  [stack window] {stack_cpu:.3f} cores (supervisor {sup_cpu:.3f}), {MEMORY['kind']}"
              f" {stack_pss / 2**20:.0f} MB, {stack_n} processes,"
              f" playable {ready}/{args.channels}, {_load()}", flush=True)  # fmt: skip
        sup_pss = pss_bytes(supervisor.pid)
        segments = Segment.objects.count()

        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(60)
        supervisor = None

        if not args.bare_first:
            bare_cpu, bare_pss, bare_n, src_bare = bare_phase()

        # --- the seed's libx264 recording, a couple of channels, scaled ---
        for i in range(args.x264_channels):
            out = work / f"x264-{i}.mp4"
            procs.append(subprocess.Popen(
                [settings.FFMPEG_BINARY, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
                 "-c:v", "libx264", "-preset", "fast", "-crf", "23", "-maxrate", "2M", "-bufsize", "4M",
                 "-an", "-f", "mp4", str(out)],
                stdin=subprocess.DEVNULL, stderr=open(work / f"x264-{i}.log", "wb"),
            ))  # fmt: skip
        time.sleep(8 if procs else 0)
        x_cpu, x_pss, x_n = measure(
            lambda: [p.pid for p in procs if p.poll() is None], min(args.seconds, 20) if procs else 0
        )
        if not x_n and args.x264_channels:
            print("libx264 runs failed:", (work / "x264-0.log").read_text()[-500:])
            x_n = 1
        _stop(procs)
        server_cpu = cpu_seconds(server.pid)
    finally:
        if supervisor is not None:
            supervisor.terminate()
            supervisor.wait(30)
        _stop(procs)
        _stop([keeper])
        server.terminate()
        server.wait(10)
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    n = args.channels
    mb = 1024 * 1024
    print(
        f"media_channels: {n} channels, source {args.size} {args.bitrate} kbit/s 25 fps H.264"
        f" ({'GStreamer' if args.source == 'gstreamer' else 'looped clip'}, 127.0.0.1),"
        f" {args.seconds:g} s windows{' (bare first)' if args.bare_first else ''}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs"
    )
    print(
        f"  processes up: stack {stack_n} (supervisor + {stack_n - 1} ffmpeg), playlists playable {ready}/{n},"
        f" segments indexed {segments}"
    )
    mem = MEMORY["kind"]
    print(f"  {'':34}{'cores':>8}{'cpu/ch %':>10}{mem + ' MB':>9}{mem + '/ch MB':>11}{'128 ch cores':>14}")

    def row(name, cores, pss, count):
        print(
            f"  {name:34}{cores:8.3f}{100 * cores / count:10.2f}{pss / mb:9.0f}{pss / mb / count:11.1f}"
            f"{cores / count * 128:14.2f}"
        )

    row("stack (run_media + ffmpeg)", stack_cpu, stack_pss, n)
    row("bare ffmpeg -c copy (same argv)", bare_cpu, bare_pss, bare_n)
    if x_n:
        row(f"libx264 fast crf23 ({x_n} ch, scaled)", x_cpu, x_pss, x_n)
    print(
        f"  stack / bare CPU: {stack_cpu / bare_cpu:.2f}x   (supervisor alone: {sup_cpu:.3f} cores,"
        f" {mem} {sup_pss / mb:.0f} MB; its ffmpeg: {stack_cpu - sup_cpu:.3f} cores)"
    )
    if x_n:
        print(f"  libx264 for {n} channels would need {x_cpu / x_n * n:.1f} cores; copy stack uses {stack_cpu:.2f}")
    print(f"  API call -> playable playlist: cold {cold:.2f} s (probe + start), warm {warm:.2f} s")
    print(
        f"  live latency: a keyframe is listed in the playlist {latency['listed']:.2f} s after it reaches a plain"
        f" RTSP client (median of {latency['n']} segments, {latency['target']:.0f} s segments); a player holding"
        f" 2 segments back (the admin grid's hls.js liveSyncDurationCount=2) adds {2 * latency['target']:.0f} s:"
        f" ~{latency['player']:.1f} s glass to glass minus the camera's own encoder delay"
    )
    print(
        f"  (RTSP test server, not part of the stack: {server_cpu:.0f} cpu-s in total; {src_stack:.3f} cores during"
        f" the stack window, {src_bare:.3f} during the bare one)"
    )
    print(f"  ffmpeg: {settings.FFMPEG_BINARY} ({_ffmpeg_version(settings.FFMPEG_BINARY)}); {_load()}")
    return 0


def _ffmpeg_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return " ".join(out.split()[:3])


def _load() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average ?"


def _playlist_ok(folder: Path) -> bool:
    try:
        return "#EXTINF" in (folder / "index.m3u8").read_text()
    except OSError:
        return False


def _nal_key(nal: bytes) -> bytes:
    """A whole IDR NAL's digest: its first bytes alone repeat when the picture's top rows do not change."""
    return hashlib.sha256(nal.rstrip(b"\x00")).digest()


def _first_idr_key_mp4(data: bytes) -> bytes | None:
    """The key of the first IDR NAL in an fMP4 segment (length-prefixed NALs in mdat)."""
    at = data.find(b"mdat")
    if at < 0:
        return None
    pos = at + 4
    while pos + 4 < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        nal = data[pos + 4 : pos + 4 + size]
        if nal and nal[0] & 0x1F == 5:
            return _nal_key(nal)
        pos += 4 + max(size, 1)
    return None


def live_latency(url: str, hls_dir: Path, seconds: float, binary: str = "ffmpeg") -> dict:
    """Time from a keyframe reaching a plain RTSP client to the HLS segment that starts with it being listed.

    Copy mode keeps the bitstream: the same IDR bytes arrive on a direct `ffmpeg -c copy` reader and start
    each fMP4 segment, so the two can be matched exactly. A player then holds a few segments back.
    """
    import threading

    arrivals: dict[bytes, float] = {}
    reader = subprocess.Popen(
        [binary, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-map", "0:v:0",
         "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-flush_packets", "1", "-f", "h264", "pipe:1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def read():
        # A keyframe "arrives" when its NAL unit starts to arrive; its key (a digest) needs the whole NAL.
        buf, started = b"", {}
        while True:
            chunk = reader.stdout.read1(65536)
            if not chunk:
                return
            now = time.time()
            buf += chunk
            i = buf.find(b"\x00\x00\x01", max(0, len(buf) - len(chunk) - 2))
            while i != -1:
                started.setdefault(i, now)
                i = buf.find(b"\x00\x00\x01", i + 3)
            if not started:
                buf = buf[-2:]
                continue
            offsets = sorted(started)
            for at, end in itertools.pairwise(offsets):
                if buf[at + 3] & 0x1F == 5:
                    arrivals.setdefault(_nal_key(buf[at + 3 : end]), started[at])
            last = offsets[-1]
            buf, started = buf[last:], {0: started[last]}

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    seen, delays, target = set(), [], 1.0
    deadline = time.monotonic() + seconds
    playlist = hls_dir / "index.m3u8"
    while time.monotonic() < deadline:
        try:
            text = playlist.read_text()
        except OSError:
            text = ""
        now = time.time()
        m = re.search(r"#EXT-X-TARGETDURATION:(\d+)", text)
        target = float(m.group(1)) if m else target
        names = re.findall(r"^(s\d+\.m4s)$", text, re.MULTILINE)
        for name in names[-1:]:
            if name in seen:
                continue
            seen.add(name)
            try:
                key = _first_idr_key_mp4((hls_dir / name).read_bytes())
            except OSError:
                continue
            if len(seen) > 1 and key in arrivals:
                delays.append(now - arrivals[key])
        time.sleep(0.02)
    reader.terminate()
    reader.wait(10)
    delays.sort()
    listed = delays[len(delays) // 2] if delays else float("nan")
    return {"listed": listed, "n": len(delays), "target": target, "player": listed + 2 * target}


def _stop(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    procs.clear()


if __name__ == "__main__":
    sys.exit(main())
