"""Media nodes: several `run_media` supervisors on one database, each camera owned by exactly one.

Every supervisor is a node (`MediaNode`, named MEDIA_NODE_NAME). A camera's media work belongs to the
node holding its `MediaLease`: taken with a conditional UPDATE (free, or expired), renewed by the
holder every fifth of MEDIA_LEASE_SECONDS, released when the camera moves. Every take increments the
lease's generation; the holder renews `WHERE node = me AND generation = mine`, so a node that was
frozen or cut off finds out it lost a camera and kills that ffmpeg, and `guard()` refuses to index a
segment under a generation that is not the current one (the row is locked while the segment is
written to the index, so a takeover waits for that write or happens before it).

Times are the database's (`Now()`): the nodes' clocks never have to agree.

Renewal runs in a thread of its own, so a slow pass of the supervisor (ffprobe of a left-over file,
a retention pass) never loses a lease; a frozen process (SIGSTOP) freezes that thread too, and the
fence watchdog (recordings/fence_watchdog.py, a separate process) kills the node's ffmpeg before
anyone else may take its cameras.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Now

from .models import MediaChannel, MediaLease, MediaNode

log = logging.getLogger("recordings.nodes")

# The watchdog kills this node's ffmpeg once its last renewal is older than this share of the lease:
# well before another node may take the cameras (after the whole lease).
FENCE_FRACTION = 0.6
RELEASE_HYSTERESIS = 1  # a node holding one camera more than its share keeps it: no ping-pong


class LeaseLost(Exception):
    """The camera's lease is another node's now (or a newer generation of this one's): stop, index nothing."""


def lease_seconds() -> timedelta:
    return timedelta(seconds=settings.MEDIA_LEASE_SECONDS)


@dataclass
class Shares:
    """What one assignment pass decided for this node."""

    take: list[int] = field(default_factory=list)
    release: set[int] = field(default_factory=set)


def plan_shares(
    *,
    me: str,
    desired: set[int],
    held: set[int],
    free: set[int],
    nodes: dict[str, int],
    pins: dict[int, str],
) -> Shares:
    """Which cameras this node should take and give up (a pure function of one snapshot).

    `nodes`: live, not draining nodes and their capacity; `free`: desired cameras nobody holds a live
    lease on; `pins`: camera -> node name for cameras pinned to a live, not draining node. The
    cameras nobody pinned are shared by capacity: this node's share is ceil(n x its capacity / total
    capacity); it keeps up to one camera more than that (so two nodes never trade one back and
    forth), and it gives up cameras pinned elsewhere, ones nobody wants any more, and all of them
    when it is draining or not counted alive.
    """
    shares = Shares()
    if me not in nodes:
        shares.release = set(held)
        return shares
    capacity = nodes[me]
    pinned_here = {c for c in desired if pins.get(c) == me}
    pool = {c for c in desired if c not in pins}
    shares.release = {c for c in held if c not in desired or (c in pins and pins[c] != me)}
    total = sum(nodes.values()) or 1
    target = min(math.ceil(len(pool) * capacity / total), max(0, capacity - len(pinned_here)))
    held_pool = sorted(c for c in held if c in pool)
    if len(held_pool) > target + RELEASE_HYSTERESIS:
        shares.release |= set(held_pool[target:])  # the highest ids move: deterministic, the rest stay put
    room = capacity - len(held - shares.release)
    shares.take = sorted(c for c in pinned_here if c in free and c not in held)[: max(0, room)]
    room -= len(shares.take)
    deficit = min(room, target - len(held_pool))
    if deficit > 0:
        shares.take += sorted(c for c in pool if c in free and c not in held)[:deficit]
    return shares


class Node:
    """This process as a media node: its row, its leases, the renewal thread and the fence watchdog."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or settings.MEDIA_NODE_NAME
        self.held: dict[int, int] = {}  # camera id -> lease generation
        self.pids: dict[int, int] = {}  # camera id -> ffmpeg pid, killed by the renewal thread on a loss
        self.lost: set[int] = set()
        self.peers = 0  # other live nodes at the last renewal: with none, nobody can take over
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._watchdog: subprocess.Popen | None = None
        self.renewed_at = 0.0  # monotonic time of the last successful renewal
        self.stamp: Path | None = None  # the fence watchdog's (see `start`)
        self._rows: set[int] = set()  # cameras whose lease row exists

    # --- the node row --------------------------------------------------------------------------------
    def register(self) -> None:
        """Write this node's row; wait (up to one lease) while another live process uses the same name."""
        deadline = time.monotonic() + settings.MEDIA_LEASE_SECONDS * 2
        while time.monotonic() < deadline:
            other = MediaNode.objects.alive().filter(name=self.name).exclude(pid=os.getpid()).first()
            if other is None or not _same_name_alive(other):
                break
            log.warning("another run_media named %r is alive (pid %s on %s): waiting", self.name, other.pid, other.host)
            time.sleep(1)
        previous = MediaNode.objects.filter(name=self.name).exclude(pid=os.getpid()).first()
        if previous is not None and not _same_name_alive(previous):
            # Our own predecessor on this host died (its ffmpeg died with it): its leases are free now,
            # so a restarted single node records again at once instead of after MEDIA_LEASE_SECONDS.
            freed = MediaLease.objects.filter(node=self.name).update(node="", expires_at=None)
            if freed:
                log.info("took back %d leases of this node's previous process (pid %s)", freed, previous.pid)
        MediaNode.objects.update_or_create(
            name=self.name,
            defaults={
                "url": settings.MEDIA_NODE_URL,
                "max_channels": settings.MEDIA_NODE_MAX_CHANNELS,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": Now(),
                "seen_at": Now(),
            },
        )
        self.renewed_at = time.monotonic()

    def start(self, run_dir: Path) -> None:
        """Start the renewal thread and the fence watchdog (call once, after `register`)."""
        self.stamp = Path(run_dir) / "lease-stamp"
        self._write_stamp()
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("fence_watchdog.py")),
                str(self.stamp),
                str(settings.MEDIA_LEASE_SECONDS * FENCE_FRACTION),
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
        )
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renewal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Give every lease back (the cameras' processes are stopped) and stop the thread and watchdog."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(DatabaseError):
            for camera_id in self.held_ids():
                self.release(camera_id)
            MediaNode.objects.filter(name=self.name, pid=os.getpid()).update(channels=0)
        if self._watchdog is not None:
            self._watchdog.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(5)

    # --- renewal (its own thread) --------------------------------------------------------------------
    def _renew_loop(self) -> None:
        every = settings.MEDIA_LEASE_SECONDS / 5
        while not self._stop.wait(every):
            try:
                self.renew()
            except DatabaseError as exc:
                log.warning("leases not renewed: %s", exc)
                close_old_connections()
            finally:
                connection.close_if_unusable_or_obsolete()

    def renew(self) -> set[int]:
        """Renew every held lease and this node's row; kill the ffmpeg of any camera lost. Returns the lost."""
        with self._lock:
            held = dict(self.held)
        MediaNode.objects.filter(name=self.name).update(seen_at=Now(), channels=len(held), pid=os.getpid())
        if held:
            MediaLease.objects.filter(node=self.name, camera_id__in=held).update(expires_at=Now() + lease_seconds())
        current = dict(
            MediaLease.objects.filter(node=self.name, camera_id__in=held).values_list("camera_id", "generation")
        )
        lost = {c for c, gen in held.items() if current.get(c) != gen}
        self.peers = MediaNode.objects.alive().exclude(name=self.name).count()
        self.renewed_at = time.monotonic()
        self._write_stamp()
        if lost:
            self._fence(lost)
        return lost

    def _fence(self, lost: set[int]) -> None:
        with self._lock:
            for camera_id in lost:
                if self.held.pop(camera_id, None) is None:
                    continue
                self.lost.add(camera_id)
                pid = self.pids.pop(camera_id, None)
                log.error("camera %d: lease lost to another node: stopping its ffmpeg (pid %s)", camera_id, pid)
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

    def _write_stamp(self) -> None:
        # The watchdog reads the mtime; the content says whether other nodes could take over.
        if self.stamp is not None:
            self.stamp.write_text("shared\n" if self.peers else "solo\n")

    def take_lost(self) -> set[int]:
        """Cameras lost since the last call (their ffmpeg is killed already)."""
        with self._lock:
            lost, self.lost = self.lost, set()
        return lost

    def fenced(self) -> bool:
        """True when the last renewal is so old that other nodes may be about to take our cameras."""
        return self.peers > 0 and time.monotonic() - self.renewed_at > settings.MEDIA_LEASE_SECONDS * FENCE_FRACTION

    # --- assignment (the supervisor's thread) --------------------------------------------------------
    def assign(self, desired: set[int], *, give_up: bool = False) -> Shares:
        """Take this node's share of the desired cameras; say which it should give up (see `plan_shares`).

        `give_up`: this node cannot record now (its recordings disk is faulty): it counts itself out,
        like a draining node, so the others take its cameras."""
        new = desired - self._rows
        if new:  # a lease row per camera, created once (ON CONFLICT DO NOTHING: any node may be first)
            MediaLease.objects.bulk_create([MediaLease(camera_id=c) for c in new], ignore_conflicts=True)
            self._rows |= new
        nodes = dict(MediaNode.objects.alive().filter(draining=False).values_list("name", "max_channels"))
        if give_up:
            nodes.pop(self.name, None)
        pins = {
            c: n
            for c, n in MediaChannel.objects.filter(camera_id__in=desired, pinned_node__isnull=False).values_list(
                "camera_id", "pinned_node__name"
            )
            if n in nodes
        }
        free = set(
            MediaLease.objects.filter(camera_id__in=desired)
            .filter(Q(node="") | Q(expires_at__isnull=True) | Q(expires_at__lt=Now()))
            .values_list("camera_id", flat=True)
        )
        shares = plan_shares(me=self.name, desired=desired, held=self.held_ids(), free=free, nodes=nodes, pins=pins)
        taken = []
        for camera_id in shares.take:
            generation = self.claim(camera_id)
            if generation is not None:
                taken.append(camera_id)
        shares.take = taken
        return shares

    def claim(self, camera_id: int) -> int | None:
        """Take a free or expired lease: its new generation, or None if another node was quicker."""
        with transaction.atomic():
            won = (
                MediaLease.objects.filter(camera_id=camera_id)
                .filter(Q(node="") | Q(expires_at__isnull=True) | Q(expires_at__lt=Now()))
                .update(
                    node=self.name, generation=F("generation") + 1, expires_at=Now() + lease_seconds(), taken_at=Now()
                )
            )
            if not won:
                return None
            generation = MediaLease.objects.filter(camera_id=camera_id).values_list("generation", flat=True).get()
        with self._lock:
            self.held[camera_id] = generation
        log.info("camera %d: lease taken (generation %d)", camera_id, generation)
        return generation

    def release(self, camera_id: int) -> None:
        """Give a lease back once the camera's process has stopped and its segments are indexed."""
        with self._lock:
            generation = self.held.pop(camera_id, None)
            self.pids.pop(camera_id, None)
        if generation is not None:
            MediaLease.objects.filter(camera_id=camera_id, node=self.name, generation=generation).update(
                node="", expires_at=None
            )
            log.info("camera %d: lease released (generation %d)", camera_id, generation)

    def held_ids(self) -> set[int]:
        """The cameras this node holds now (a copy: the renewal thread may drop some meanwhile)."""
        with self._lock:
            return set(self.held)

    def holds(self, camera_id: int) -> bool:
        return camera_id in self.held

    def current(self, camera_id: int) -> bool:
        """Whether the database still has this node's generation of the camera's lease (one query)."""
        generation = self.held.get(camera_id)
        return (
            generation is not None
            and MediaLease.objects.filter(camera_id=camera_id, node=self.name, generation=generation).exists()
        )

    def renewal_due(self) -> bool:
        """True when the caller should renew now: no renewal thread, or it has not run lately (the process
        was frozen: learn what was lost before starting anything)."""
        late = time.monotonic() - self.renewed_at > settings.MEDIA_LEASE_SECONDS / 2.5
        return self._thread is None or late

    def set_pid(self, camera_id: int, pid: int | None) -> None:
        with self._lock:
            if pid is None:
                self.pids.pop(camera_id, None)
            elif camera_id in self.held:
                self.pids[camera_id] = pid

    @contextlib.contextmanager
    def guard(self, camera_id: int):
        """A transaction in which this node's lease on the camera is current and locked: index inside it.

        Raises LeaseLost (and fences the camera) when the lease is another's or of a newer generation."""
        generation = self.held.get(camera_id)
        with transaction.atomic():
            current = (
                MediaLease.objects.select_for_update()
                .filter(camera_id=camera_id, node=self.name, generation=generation)
                .exists()
            )
            if generation is None or not current:
                self._fence({camera_id})
                raise LeaseLost(f"camera {camera_id}: the lease is no longer this node's")
            yield

    def leased_elsewhere(self) -> set[int]:
        """Cameras another node holds a live lease on now: not this node's to index, reconcile or finish."""
        return set(
            MediaLease.objects.exclude(node="")
            .exclude(node=self.name)
            .filter(expires_at__gt=Now())
            .values_list("camera_id", flat=True)
        )

    def leads(self) -> bool:
        """The live node with the smallest name does the installation-wide work (retention in shared storage)."""
        first = MediaNode.objects.alive().order_by("name").values_list("name", flat=True).first()
        return first is None or first == self.name


def _same_name_alive(node: MediaNode) -> bool:
    """Whether a row with this node's name belongs to a process still alive (on this host we can tell)."""
    if node.host != socket.gethostname():
        return True
    if not node.pid:
        return False
    try:
        os.kill(node.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
