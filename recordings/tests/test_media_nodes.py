"""Media nodes end to end: three real `run_media` processes on one PostgreSQL database and one
(shared) recordings folder, real ffmpeg against the GStreamer RTSP double, cameras recording
continuously; and the assignment rules on their own."""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cameras.models import Camera
from cameras.tests.factories import CameraFactory
from conftest import client_for
from recordings import nodes, storage
from recordings.clients import ffmpeg
from recordings.models import MediaChannel, MediaLease, MediaNode, Recording, RecordingStatus, Segment
from tests.waiting import free_port, wait_for

from .conftest import RtspServer, SupervisorProcess

LEASE = 6  # MEDIA_LEASE_SECONDS in these tests (15 by default): failover within 2 x LEASE
CAMERAS = 9


# --- the rules, without processes --------------------------------------------------------------------
def test_cameras_are_shared_by_capacity_and_only_the_excess_moves():
    three = {"a": 128, "b": 128, "c": 128}
    alone = nodes.plan_shares(me="a", desired=set(range(9)), held=set(), free=set(range(9)), nodes={"a": 128}, pins={})
    assert alone.take == list(range(9)) and not alone.release
    # b and c arrive: a gives up only what is over its share (ceil(9/3) = 3), the rest keeps running.
    crowded = nodes.plan_shares(me="a", desired=set(range(9)), held=set(range(9)), free=set(), nodes=three, pins={})
    assert crowded.release == {3, 4, 5, 6, 7, 8} and not crowded.take
    # One camera over the share stays: two nodes never trade a camera back and forth.
    assert not nodes.plan_shares(
        me="a", desired=set(range(9)), held={0, 1, 2, 3}, free=set(), nodes=three, pins={}
    ).release
    taker = nodes.plan_shares(me="b", desired=set(range(9)), held=set(), free={3, 4, 5, 6, 7, 8}, nodes=three, pins={})
    assert taker.take == [3, 4, 5]
    # Capacity weighs: a 2-channel node takes at most 2.
    small = nodes.plan_shares(
        me="s", desired=set(range(9)), held=set(), free=set(range(9)), nodes={"s": 2, "a": 128}, pins={}
    )
    assert small.take == [0]  # ceil(9 * 2 / 130) = 1
    full = nodes.plan_shares(me="s", desired=set(range(9)), held=set(), free=set(range(9)), nodes={"s": 2}, pins={})
    assert full.take == [0, 1]


def test_pins_draining_and_nodes_not_alive():
    three = {"a": 128, "b": 128, "c": 128}
    pinned = nodes.plan_shares(me="b", desired={1, 2}, held={1}, free={2}, nodes=three, pins={1: "a", 2: "b"})
    assert pinned.release == {1} and pinned.take == [2]
    # A draining node is not in `nodes` (only live, not draining ones are): it gives everything up.
    draining = nodes.plan_shares(me="c", desired={1, 2}, held={1, 2}, free=set(), nodes={"a": 128}, pins={})
    assert draining.release == {1, 2} and not draining.take
    # A camera nobody wants any more is given back.
    assert nodes.plan_shares(me="a", desired=set(), held={5}, free=set(), nodes=three, pins={}).release == {5}


@pytest.mark.django_db(transaction=True)
def test_a_lease_is_taken_by_one_node_and_a_lost_one_is_fenced(settings):
    settings.MEDIA_LEASE_SECONDS = LEASE
    camera = CameraFactory()
    a, b = nodes.Node("a"), nodes.Node("b")
    a.register()
    b.register()
    MediaLease.objects.create(camera=camera)
    assert a.claim(camera.id) == 1
    assert b.claim(camera.id) is None  # held and not expired: the conditional UPDATE finds no row
    with a.guard(camera.id):
        pass  # a's lease is current: a may index
    # a stops renewing (frozen); its lease expires; b takes it under a new generation.
    MediaLease.objects.filter(camera=camera).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert b.claim(camera.id) == 2
    with pytest.raises(nodes.LeaseLost):
        with a.guard(camera.id):
            pytest.fail("a node that lost the lease must not index")
    assert not a.holds(camera.id) and a.take_lost() == {camera.id}
    assert b.renew() == set() and a.renew() == set()
    # A lease expired but not taken by anyone stays its holder's: a slow pass costs no restart.
    MediaLease.objects.filter(camera=camera).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert b.renew() == set() and b.current(camera.id)


@pytest.mark.django_db(transaction=True)
def test_assignment_through_the_database_pins_and_drains(settings):
    settings.MEDIA_LEASE_SECONDS = LEASE
    cameras = {CameraFactory().id for _ in range(4)}
    a, b = nodes.Node("a"), nodes.Node("b")
    a.register()
    assert set(a.assign(cameras).take) == cameras  # alone: all of them
    b.register()
    assert b.assign(cameras).take == []  # all held: b waits for a to give up its excess
    given = a.assign(cameras).release
    assert len(given) == 2  # share ceil(4/2) = 2; the other two keep running on a
    for camera_id in given:
        a.release(camera_id)
    assert set(b.assign(cameras).take) == given
    # A pin moves one camera to its node, and only that one.
    pinned = min(set(a.held))
    MediaChannel.objects.create(camera_id=pinned, pinned_node=MediaNode.objects.get(name="b"))
    assert a.assign(cameras).release == {pinned}
    a.release(pinned)
    assert b.assign(cameras).take == [pinned]
    # Draining b: it gives everything up; a takes it all.
    MediaNode.objects.filter(name="b").update(draining=True)
    drained = b.assign(cameras).release
    assert drained == set(b.held)
    for camera_id in drained:
        b.release(camera_id)
    assert set(a.assign(cameras).take) == drained and set(a.held) == cameras


# --- three real nodes ----------------------------------------------------------------------------------
class Cluster:
    """Three `run_media` nodes (n1, n2, n3) with their own names and run dirs, one database, one RECORDINGS_DIR."""

    def __init__(self, env: dict, tmp_path: Path) -> None:
        self.procs: dict[str, SupervisorProcess] = {}
        for name in ("n1", "n2", "n3"):
            node_env = {
                **env,
                "MEDIA_NODE_NAME": name,
                "MEDIA_RUN_DIR": str(tmp_path / f"run-{name}"),
                "MEDIA_LEASE_SECONDS": str(LEASE),
                "MEDIA_SEGMENT_SECONDS": "4",
            }
            self.procs[name] = SupervisorProcess(node_env, tmp_path / f"{name}.log")
        self.violations: list[str] = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self, *names: str) -> None:
        for name in names or self.procs:
            self.procs[name].start()
        if not self._sampler.is_alive():
            self._sampler.start()

    def writers(self) -> dict[int, list[str]]:
        """camera id -> who runs an ffmpeg for it now (node name, or "orphan" for one whose node is gone)."""
        by_pid = {p.proc.pid: name for name, p in self.procs.items() if p.proc and p.proc.poll() is None}
        mine = storage.instance_id() + "/"
        found = defaultdict(list)
        for pid, marker in ffmpeg.find_leftovers():
            if not marker.startswith(mine):
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            found[int(marker.rsplit("/", 1)[1])].append(by_pid.get(ppid, "orphan"))
        return dict(found)

    def _sample(self) -> None:
        # "No two nodes write the same camera at the same time, ever": watched the whole test long.
        while not self._stop.wait(0.3):
            for camera_id, who in self.writers().items():
                if len(who) > 1:
                    self.violations.append(f"{time.strftime('%X')} camera {camera_id}: {who}")

    def holders(self) -> dict[str, set[int]]:
        """node -> cameras it runs ffmpeg for (from the process list)."""
        held = defaultdict(set)
        for camera_id, who in self.writers().items():
            for name in who:
                held[name].add(camera_id)
        return dict(held)

    def stop(self) -> None:
        self._stop.set()
        for proc in self.procs.values():
            if proc.proc and proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGCONT)
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.log()[-6000:]}" for name, p in self.procs.items())


def wait(predicate, timeout: float, describe):
    """wait_for, with a failure message built only when it fails (the nodes' logs are long)."""
    try:
        return wait_for(predicate, timeout, interval=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {describe()}") from None


def all_recorded_once(cluster: Cluster, cameras: list[int]) -> bool:
    writers = cluster.writers()
    return all(len(writers.get(c, [])) == 1 for c in cameras)


def index_overlaps(camera_ids: list[int]) -> list[str]:
    """Consecutive segments of one camera, indexed by two nodes, that overlap in time (two writers at once)."""
    found = []
    for camera_id in camera_ids:
        previous = None
        for seg in Segment.objects.filter(camera_id=camera_id).order_by("start"):
            # Where the writer changes: the new node's first segment starts after the old one's last ends
            # (names have one-second resolution). Within one run, the first segment's length includes
            # the RTSP start-up burst and may overlap its successor by a second or two: not a second writer.
            changed = previous is not None and previous.node != seg.node
            if changed and seg.start < previous.end - timedelta(seconds=1.1):
                found.append(
                    f"camera {camera_id}: {previous.path} {previous.start:%X}+{previous.duration:.2f}s ({previous.node})"
                    f" / {seg.path} {seg.start:%X}+{seg.duration:.2f}s ({seg.node})"
                )
            previous = seg
    return found


@pytest.fixture
def rtsp_nine():
    server = RtspServer(free_port(), "--paths", str(CAMERAS), "--size", "320x180", "--fps", "10", "--bitrate", "150")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(media_env, tmp_path):
    c = Cluster(media_env, tmp_path)
    yield c
    c.stop()
    mine = storage.instance_id() + "/"
    wait_for(lambda: not [p for p, m in ffmpeg.find_leftovers() if m.startswith(mine)], 20, message="ffmpeg exit")


@pytest.mark.media
def test_three_nodes_record_each_camera_once_through_kill_freeze_and_drain(
    rtsp_nine, cluster, make_user, ffprobe_duration
):
    assert connection.vendor == "postgresql"
    cameras = []
    for n in range(1, CAMERAS + 1):
        camera = CameraFactory(ip="127.0.0.1", http_port=8100 + n, rtsp_url=rtsp_nine.url(n))
        MediaChannel.objects.create(camera=camera, continuous=True)
        cameras.append(camera.id)
    cluster.start()

    # Spread: every camera recorded by exactly one node, every node with a share.
    wait(
        lambda: all_recorded_once(cluster, cameras) and len(cluster.holders()) == 3,
        90,
        lambda: f"spread over three nodes: {cluster.writers()}\n{cluster.logs()}",
    )
    wait_for(lambda: all(Segment.objects.filter(camera_id=c).exists() for c in cameras), 30, message="segments")
    assert set(MediaNode.objects.alive().values_list("name", flat=True)) == {"n1", "n2", "n3"}

    # A recording spanning the failover, on a camera of the node about to be killed.
    victim = "n1"
    victim_cameras = cluster.holders()[victim]
    spanned = min(victim_cameras)
    user = make_user("admin")
    client = client_for(user)
    address = Camera.objects.get(id=spanned).address
    response = client.post(f"/api/nvr/record/{address}", {"duration": 40}, format="json")
    assert response.status_code == 201, response.content
    rec_id = response.json()["recording_id"]
    time.sleep(8)

    # SIGKILL: its cameras record again elsewhere within 2 x the lease.
    killed_at = time.monotonic()
    cluster.procs[victim].kill()
    wait(
        lambda: all_recorded_once(cluster, cameras) and victim not in cluster.holders(),
        2 * LEASE + 10,  # a behaviour, not a speed: bench/media_nodes.py measures the time
        lambda: f"failover: {cluster.writers()}\n{cluster.logs()}",
    )
    failover = time.monotonic() - killed_at
    print(f"failover of {len(victim_cameras)} cameras after SIGKILL: {failover:.1f} s (lease {LEASE} s)")

    # The recorded camera's new owner has indexed video of it before the killed node comes back.
    wait(
        lambda: Segment.objects.filter(camera_id=spanned).exclude(node=victim).exists(),
        30,
        lambda: f"segments of camera {spanned} from its new owner\n{cluster.logs()}",
    )

    # A live viewer of a moved camera gets a playable URL again (the new owner writes the same HLS folder).
    moved_address = Camera.objects.get(id=spanned).address
    live = client.get(f"/api/cameras/stream/{moved_address}")
    assert live.status_code == 200, live.content
    playlist = client.get(urlsplit(live.json()["hls_url"]).path)
    assert playlist.status_code == 200 and "#EXTINF" in b"".join(playlist.streaming_content).decode()

    # The killed node comes back: it takes only what the others give up; nothing runs twice.
    before = cluster.writers()
    cluster.start(victim)
    wait(
        lambda: victim in cluster.holders() and all_recorded_once(cluster, cameras),
        60,
        lambda: f"restarted node's share: {cluster.writers()}\n{cluster.logs()}",
    )
    time.sleep(LEASE)
    moved = [c for c in cameras if cluster.writers().get(c) != before.get(c)]
    assert len(moved) <= 4, (before, cluster.writers())  # its share, not every camera

    # The recording that spans the failover downloads as one MP4 through the central API.
    rec = wait(
        lambda: Recording.objects.filter(id=rec_id, status=RecordingStatus.COMPLETED).first(),
        60,
        lambda: f"recording completed\n{cluster.logs()}",
    )
    writers_of_span = set(
        Segment.objects.filter(camera_id=spanned, start__lt=rec.end_time, end__gt=rec.start_time).values_list(
            "node", flat=True
        )
    )
    assert victim in writers_of_span and len(writers_of_span) >= 2, (
        rec.start_time,
        rec.end_time,
        list(Segment.objects.filter(camera_id=spanned).values_list("path", "start", "end", "node")),
    )
    download = client.get(f"/api/nvr/recordings/{rec_id}/download")
    assert download.status_code == 200 and download["Content-Type"] == "video/mp4"
    out = Path(settings.MEDIA_RUN_DIR) / "spanning.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(download.streaming_content))
    duration = ffprobe_duration(out)
    # At most the segment being written plus the failover is missing.
    assert 40 - (4 + 2 * LEASE) - 2 <= duration <= 41, duration

    # SIGSTOP: the frozen node's ffmpeg is killed (by its watchdog) before anyone takes its cameras;
    # after SIGCONT it finds its leases gone and records none of them twice.
    frozen = "n2"
    frozen_cameras = cluster.holders().get(frozen, set())
    assert frozen_cameras
    cluster.procs[frozen].proc.send_signal(signal.SIGSTOP)
    wait(
        lambda: all_recorded_once(cluster, cameras) and frozen not in cluster.holders(),
        2 * LEASE + 10,
        lambda: f"failover from the frozen node: {cluster.writers()}\n{cluster.logs()}",
    )
    cluster.procs[frozen].proc.send_signal(signal.SIGCONT)
    time.sleep(LEASE)
    assert all_recorded_once(cluster, cameras), cluster.writers()
    assert "lease lost" in cluster.procs[frozen].log() or "fence watchdog" in cluster.procs[frozen].log()

    # Draining: the node's cameras move, then it takes none.
    drained = "n3"
    MediaNode.objects.filter(name=drained).update(draining=True)
    wait(
        lambda: drained not in cluster.holders() and all_recorded_once(cluster, cameras),
        60,
        lambda: f"drain: {cluster.writers()}\n{cluster.logs()}",
    )
    assert not MediaLease.objects.filter(node=drained).exists()

    # Never two writers of one camera: by the process list, all along, and by the index.
    assert cluster.violations == [], cluster.violations
    overlaps = index_overlaps(cameras)
    assert overlaps == [], "\n".join(overlaps)


@pytest.mark.django_db
def test_stats_show_the_nodes_to_administrators_only(make_user):
    camera = CameraFactory()
    node = MediaNode.objects.create(name="rack-2", max_channels=64, seen_at=timezone.now(), channels=1)
    MediaLease.objects.create(
        camera=camera, node=node.name, generation=3, expires_at=timezone.now() + timedelta(seconds=60)
    )
    admin, viewer = make_user("admin"), make_user("viewer")
    viewer.cameras.add(camera)
    shown = client_for(admin).get("/stats").json()["media_nodes"]
    assert [(n["name"], n["alive"], n["max_channels"], n["cameras"]) for n in shown] == [
        ("rack-2", True, 64, [camera.id])
    ]
    assert client_for(viewer).get("/stats").json()["media_nodes"] == []
