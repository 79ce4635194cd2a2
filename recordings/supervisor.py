"""The media supervisor: converges desired state in the database to ffmpeg processes.

One process per camera while anything wants it (a live viewer, an active recording, continuous
recording), always writing both recording segments and live HLS: viewers coming and going never
restart the process, so a recording never has a gap because somebody opened or closed a player.
Segments written while nothing records are deleted as soon as they are indexed.

Run by `manage.py run_media`. Single-threaded by design (PR_SET_PDEATHSIG is per thread); stream
probes, which can block for seconds, run in a small thread pool.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import signal
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts.outages import StreamOutages
from lprnvr.instance_lock import hold_instance_lock
from lprnvr.monitoring.heartbeats import MEDIA, Heartbeat

from . import index, nodes, retention, storage
from .clients import ffmpeg
from .models import LiveViewer, MediaChannel, ProcessState, Recording, RecordingStatus, Segment

log = logging.getLogger("recordings.supervisor")

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
HEALTHY_AFTER = 30.0  # a run this long resets the backoff
ROOT_RECHECK = 10.0  # seconds between checks of the recordings root (see storage.root_fault)


def heartbeat_path() -> Path:
    return Path(settings.MEDIA_RUN_DIR) / "heartbeat"


def supervisor_alive(max_age: float = 10.0) -> bool:
    try:
        return time.time() - heartbeat_path().stat().st_mtime < max_age
    except FileNotFoundError:
        return False


def desired_camera_ids(now: datetime | None = None) -> set[int]:
    """Cameras that must have a running process now."""
    return desired_state(now)[0]


def desired_state(now: datetime | None = None) -> tuple[set[int], set[int], set[int]]:
    """(cameras that must run, cameras whose segments are kept: recording or continuous, continuous ones)."""
    now = now or timezone.now()
    live = LiveViewer.objects.active().values_list("camera_id", flat=True)
    recording = Recording.objects.filter(status=RecordingStatus.RECORDING, start_time__lte=now).filter(
        Q(end_time__isnull=True) | Q(end_time__gt=now) | Q(anchored=False)
    )
    continuous = set(MediaChannel.objects.filter(continuous=True).values_list("camera_id", flat=True))
    keeping = set(recording.values_list("camera_id", flat=True)) | continuous
    wanted = set(live) | keeping
    running = set(Camera.objects.filter(id__in=wanted, is_active=True).values_list("id", flat=True))
    return running, keeping, continuous


@dataclass
class Channel:
    camera_id: int
    proc: subprocess.Popen | None = None
    probe: Future | None = None
    spawned_at: float = 0.0
    stopping_since: float | None = None
    csv_offset: int = 0
    last_segment_end: datetime | None = None
    failures: int = 0
    next_start: float = 0.0
    state: str = ProcessState.IDLE
    last_error: str = ""
    reported: tuple = field(default_factory=tuple)
    healthy: bool = False
    camera_version: datetime | None = None  # Camera.updated_at the process was started with
    leased: bool = False  # started under this node's lease: its segments are indexed only while it holds it

    @property
    def seg_dir(self) -> Path:
        return storage.segment_dir(self.camera_id)

    @property
    def hls_dir(self) -> Path:
        return storage.hls_dir(self.camera_id)

    @property
    def log_path(self) -> Path:
        return Path(settings.MEDIA_RUN_DIR) / "logs" / f"cam{self.camera_id}.log"

    @property
    def marker(self) -> str:
        return f"{storage.instance_id()}/{self.camera_id}"


class Supervisor:
    def __init__(self) -> None:
        self.channels: dict[int, Channel] = {}
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="probe")
        self.stopping = False
        self.last_retention = 0.0
        self.keeping: set[int] = set()
        self.continuous: set[int] | None = None  # None until the first pass: ask the database
        self._lock_file = None
        self._listen_conn = None
        self._listen_retry = 0.0
        self.fault: storage.StorageFault | None = None  # the recordings root cannot be trusted: nothing records
        self.reconciled = False
        self.last_root_check = 0.0
        # This process's row in monitoring (one write per SERVICE_HEARTBEAT_SECONDS), one per node.
        self.heartbeat = Heartbeat(MEDIA, host=settings.MEDIA_NODE_NAME)
        self.node = nodes.Node()  # which cameras are this node's (recordings.nodes)
        self.registered = False
        self.releasing: set[int] = set()  # cameras moving to another node: stopped, then their lease released
        self.outages = StreamOutages()  # camera_down / camera_up alert events

    # --- lifecycle ---------------------------------------------------------------------------------
    def acquire_lock(self) -> None:
        """One supervisor per installation: a second one would fight the first over the same cameras."""
        self._lock_file = hold_instance_lock(settings.MEDIA_RUN_DIR, "supervisor", "run_media")

    def recover(self) -> None:
        """After a crash: stop what the last supervisor left running, then index what it left on disk."""
        mine = storage.instance_id() + "/"
        # Another node's children on this host (same recordings root) are that node's, not leftovers.
        leftovers = [(pid, m) for pid, m in ffmpeg.find_leftovers() if m.startswith(mine) and _orphaned(pid)]
        for pid, marker in leftovers:
            log.info("stopping leftover ffmpeg pid %d (%s)", pid, marker)
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while leftovers and time.monotonic() < deadline:
            leftovers = [(pid, m) for pid, m in leftovers if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
            time.sleep(0.1)
        for pid, _marker in leftovers:
            _signal(pid, signal.SIGKILL)
        elsewhere = self.node.leased_elsewhere()
        for folder in Path(settings.RECORDINGS_DIR).glob("cam*"):
            try:
                camera_id = int(folder.name[3:])
            except ValueError:
                continue
            if camera_id not in elsewhere:  # another node's camera: its list is that node's to read
                self._ingest_csv(Channel(camera_id=camera_id))
        self.check_storage()

    def check_storage(self) -> None:
        """Check the recordings root; reconcile the index against it only while it is healthy.

        A root that is missing, not mounted, without its marker, or with most indexed files gone at
        once stops every process (and retention) until it is back; no index row is dropped meanwhile.
        """
        self.last_root_check = time.monotonic()
        indexed = Segment.objects.exists()
        fault = storage.root_fault(indexed=indexed)
        if fault is not None and fault.id == storage.MARKER_MISSING:
            # An installation from before the marker: its disk is the one that holds the indexed files.
            missing, total = index.missing_rows()
            if not index.too_many_missing(len(missing), total):
                storage.prepare_root()
                fault = storage.root_fault(indexed=indexed)
        if fault is None or fault.id == storage.FILES_MISSING:
            if fault is None:
                storage.prepare_root()
            if fault is not None or not self.reconciled:
                try:
                    # Files another node is writing now are not unlisted leftovers: leave its cameras alone.
                    elsewhere = self.node.leased_elsewhere()
                    scope = (
                        None if not elsewhere else sorted(set(Camera.objects.values_list("id", flat=True)) - elsewhere)
                    )
                    log.info("reconciled the index: %s", index.reconcile(scope))
                    self.reconciled, fault = True, None
                    storage.report_fault(None)
                except index.TooManyMissing as exc:
                    fault = storage.StorageFault(
                        storage.FILES_MISSING,
                        f"{exc} under {storage.root()}: is the right disk mounted? Nothing is dropped; if they "
                        "were deleted on purpose, run `manage.py reconcile_recordings --accept-missing`.",
                    )
                    storage.report_fault(fault)
        else:
            self.reconciled = False  # the disk may come back different: reconcile again then
        if fault != self.fault:
            if fault is None:
                log.warning("recordings storage is healthy again: recording resumes")
            else:
                log.error("recordings storage fault, recording stopped: %s", fault)
        self.fault = fault

    def run(self) -> None:
        self.acquire_lock()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request_stop)
        self.node.register()
        self.registered = True
        self.node.start(settings.MEDIA_RUN_DIR)
        self.recover()
        log.info("media supervisor running (instance %s, node %s)", storage.instance_id(), self.node.name)
        while not self.stopping:
            started = time.monotonic()
            try:
                close_old_connections()
                self.tick()
            except Exception:
                log.exception("supervisor pass failed")
            self._wait(max(0.05, settings.MEDIA_POLL_INTERVAL - (time.monotonic() - started)))
        self.shutdown()

    def _wait(self, timeout: float) -> None:
        """Sleep until the next pass, or until the API notifies a change (PostgreSQL LISTEN)."""
        listener = self._listener()
        if listener is None:
            time.sleep(timeout)
            return
        try:
            if select.select([listener], [], [], timeout)[0]:
                listener.poll()
                listener.notifies.clear()
        except Exception:
            log.warning("notification listener lost; polling only until it reconnects")
            self._listen_conn = None
            time.sleep(timeout)

    def _listener(self):
        """A dedicated connection LISTENing on lprnvr_media (None on other databases or on failure)."""
        if self._listen_conn is not None or connection.vendor != "postgresql":
            return self._listen_conn
        if time.monotonic() < self._listen_retry:
            return None
        try:
            import psycopg2

            params = connection.get_connection_params()
            conn = psycopg2.connect(**params)
            conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with conn.cursor() as cursor:
                cursor.execute("LISTEN lprnvr_media")
            self._listen_conn = conn
        except Exception:
            self._listen_retry = time.monotonic() + 30
            log.warning("cannot LISTEN for changes; polling every %s s", settings.MEDIA_POLL_INTERVAL)
        return self._listen_conn

    def _request_stop(self, signum, frame) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        for ch in self.channels.values():
            if ch.proc and ch.proc.poll() is None:
                ch.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for ch in self.channels.values():
            if ch.proc:
                try:
                    ch.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    ch.proc.kill()
                    ch.proc.wait()
                self._ingest_csv(ch)
                self._set(ch, ProcessState.IDLE)
        self._report()
        self.node.stop()  # the leases go back at once: the other nodes take the cameras without waiting
        self.pool.shutdown(wait=False, cancel_futures=True)

    # --- one pass ----------------------------------------------------------------------------------
    def tick(self) -> None:
        heartbeat_path().touch()  # the container healthcheck's (docker-compose.yml)
        self.heartbeat(channels=sum(1 for ch in self.channels.values() if ch.proc is not None))
        now_mono = time.monotonic()
        if now_mono - self.last_root_check > ROOT_RECHECK:
            self.check_storage()
        desired, self.keeping, self.continuous = desired_state()
        desired = self._my_share(desired)
        blocked: set[int] = set()
        if self.fault is not None:
            blocked, desired = desired, set()  # nothing writes to a root that cannot be trusted
        starts = 0
        for camera_id in sorted(desired):
            ch = self.channels.setdefault(camera_id, Channel(camera_id=camera_id))
            if ch.proc is None and ch.probe is None and now_mono >= ch.next_start:
                if starts >= settings.MEDIA_STARTS_PER_TICK:
                    continue  # stagger: 128 cameras starting at the same instant fall behind real time
                starts += 1
                self._begin_start(ch)
        for ch in list(self.channels.values()):
            if ch.probe is not None and ch.probe.done():
                self._finish_start(ch, wanted=ch.camera_id in desired)
            if ch.proc is not None:
                self._watch(ch, wanted=ch.camera_id in desired)
            elif ch.camera_id in blocked and ch.probe is None:
                self._set(ch, ProcessState.DOWN, f"recordings storage: {self.fault}")  # the camera status says why
            elif ch.camera_id not in desired and ch.probe is None and ch.state != ProcessState.IDLE:
                self._set(ch, ProcessState.IDLE, "")
                ch.failures = 0
        for camera_id in blocked - set(self.channels):
            self._set(self.channels.setdefault(camera_id, Channel(camera_id=camera_id)), ProcessState.DOWN,
                      f"recordings storage: {self.fault}")  # fmt: skip
        self._restart_changed_cameras()
        self._finish_recordings()
        # The free-space floor is one statvfs: checked often, so a filling disk is handled within seconds.
        low_disk = now_mono - self.last_retention > 5 and storage.disk_free() < settings.DISK_FREE_FLOOR_BYTES
        due = low_disk or now_mono - self.last_retention > settings.MEDIA_RETENTION_INTERVAL
        # Retention judges what is on disk: not while the disk is in doubt; with shared storage, one node.
        if due and self.fault is None and self.node.leads():
            self.last_retention = now_mono
            camera_ids = list(Camera.objects.values_list("id", flat=True))
            stats = retention.apply_retention(camera_ids)
            if stats["deleted"] or stats["stopped_recordings"]:
                log.info("retention: %s", stats)
        self._report()

    # --- this node's share (recordings.nodes) -------------------------------------------------------
    def _my_share(self, desired: set[int]) -> set[int]:
        """The desired cameras this node runs now: leases taken and renewed, lost ones fenced, moving ones
        stopped before their lease is given back."""
        if not self.registered:
            self.node.register()  # a pass without run() (tests): the node still takes its cameras
            self.registered = True
        if self.node.renewal_due():
            self.node.renew()
        for camera_id in self.node.take_lost():
            ch = self.channels.get(camera_id)
            if ch is not None:
                self._drop(ch, "lease lost to another node")
        # A node whose disk is faulty gives its cameras to the others, if there are others (alone, it
        # keeps them and reports each camera down with the fault, as a single supervisor always did).
        shares = self.node.assign(desired, give_up=self.fault is not None and self.node.peers > 0)
        self.releasing = (self.releasing | shares.release) & self.node.held_ids()
        for camera_id in list(self.releasing):
            ch = self.channels.get(camera_id)
            if ch is None or (ch.proc is None and ch.probe is None):
                # Stopped and indexed (or never started here): the lease goes, another node takes it.
                if ch is not None:
                    del self.channels[camera_id]
                self.node.release(camera_id)
                self.releasing.discard(camera_id)
        return {c for c in desired if self.node.holds(c) and c not in self.releasing}

    def _drop(self, ch: Channel, why: str) -> None:
        """Forget a camera whose lease is gone: its ffmpeg killed, nothing indexed, no state reported (the
        new owner reports it), its folders left alone (the new owner writes there)."""
        if ch.proc is not None and ch.proc.poll() is None:
            ch.proc.kill()
        if ch.proc is not None:
            ch.proc.wait()
        log.error("camera %d: %s: its ffmpeg is stopped and nothing more is indexed", ch.camera_id, why)
        self.node.set_pid(ch.camera_id, None)
        self.channels.pop(ch.camera_id, None)
        self.releasing.discard(ch.camera_id)

    def _begin_start(self, ch: Channel) -> None:
        camera = Camera.objects.filter(id=ch.camera_id).first()
        if camera is None:
            return
        info = (MediaChannel.objects.filter(camera_id=ch.camera_id).values_list("stream_info", flat=True).first()) or {}
        url = camera.stream_url()
        ch.camera_version = camera.updated_at
        self._set(ch, ProcessState.STARTING)
        ch.leased = self.node.holds(ch.camera_id)
        if info and ch.failures == 0:
            done: Future = Future()
            done.set_result((url, ffmpeg.StreamInfo.from_dict(info)))
            ch.probe = done
        else:
            # Probe first (codec, B-frames, audio), off the main loop: it can take seconds.
            ch.probe = self.pool.submit(_probe, url)

    def _finish_start(self, ch: Channel, *, wanted: bool) -> None:
        future, ch.probe = ch.probe, None
        try:
            url, info = future.result()
        except Exception as exc:
            self._failed(ch, f"probe: {ffmpeg.redact(str(exc))}")
            return
        if not wanted:
            self._set(ch, ProcessState.IDLE, "")
            return
        # Counted here, in the write the start makes anyway: /metrics' restarts are this counter's rate.
        MediaChannel.objects.filter(camera_id=ch.camera_id).update(stream_info=info.as_dict(), starts=F("starts") + 1)
        ch.seg_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(ch.hls_dir, ignore_errors=True)  # a stale playlist must never look live
        ch.hls_dir.mkdir(parents=True, exist_ok=True)
        # The previous run's last lines, then the list goes: ffmpeg truncates it only once it opens
        # it, and reading the old content after the start would skip the new run's first lines.
        self._ingest_csv(ch)
        (ch.seg_dir / ffmpeg.SEGMENT_LIST).unlink(missing_ok=True)
        argv = ffmpeg.channel_argv(
            url,
            info=info,
            marker=ch.marker,
            segment_dir=ch.seg_dir,
            hls_dir=ch.hls_dir,
            segment_seconds=settings.MEDIA_SEGMENT_SECONDS,
            hls_seconds=settings.MEDIA_HLS_SECONDS,
            socket_timeout=settings.MEDIA_SOCKET_TIMEOUT,
            unsupported_audio=settings.MEDIA_UNSUPPORTED_AUDIO,
            binary=settings.FFMPEG_BINARY,
        )
        ch.log_path.parent.mkdir(parents=True, exist_ok=True)
        ch.log_path.write_bytes(b"")
        if ch.leased and not self.node.current(ch.camera_id):
            self._drop(ch, "lease lost before the start")
            return
        ch.proc = ffmpeg.spawn(argv, log_path=ch.log_path)
        self.node.set_pid(ch.camera_id, ch.proc.pid)
        ch.spawned_at = time.monotonic()
        ch.csv_offset = 0
        ch.last_segment_end = None
        ch.stopping_since = None
        ch.healthy = False
        log.info("camera %d: started pid %d: %s", ch.camera_id, ch.proc.pid, ffmpeg.redact_argv(argv))

    def _watch(self, ch: Channel, *, wanted: bool) -> None:
        now = time.monotonic()
        self._ingest_csv(ch)
        code = ch.proc.poll()
        if code is not None and ch.leased and not self.node.current(ch.camera_id):
            # Killed while this node was frozen (the fence watchdog): the folder is the new owner's now,
            # so no sweep of "unlisted" files (they are the segment it is writing).
            self._drop(ch, "lease lost while the process was stopped")
            return
        if code is not None:
            self._ingest_csv(ch)
            continuous = None if self.continuous is None else ch.camera_id in self.continuous
            if self.fault is None and index.sweep_unindexed(ch.camera_id, continuous):
                self._drop_unkept(ch)
            error = ffmpeg.read_log_tail(ch.log_path) or f"ffmpeg exited with {code}"
            ch.proc = None
            self.node.set_pid(ch.camera_id, None)
            if ch.stopping_since is not None or not wanted:
                ch.failures = 0
                self._set(ch, ProcessState.IDLE, "")
                shutil.rmtree(ch.hls_dir, ignore_errors=True)
            else:
                self._failed(ch, error)
            return
        if not wanted and ch.stopping_since is None:
            ch.stopping_since = now
            ch.proc.terminate()  # SIGTERM: ffmpeg closes the segment it is writing
            return
        if ch.stopping_since is not None:
            if now - ch.stopping_since > STOP_GRACE:
                ch.proc.kill()
            return
        age = _output_age(ch)
        if age is not None and age < settings.MEDIA_STALL_TIMEOUT:
            if ch.state != ProcessState.RUNNING:
                self._set(ch, ProcessState.RUNNING, "")
            if not ch.healthy and now - ch.spawned_at > HEALTHY_AFTER:
                ch.healthy, ch.failures = True, 0
        grace = settings.MEDIA_STALL_TIMEOUT + settings.MEDIA_SOCKET_TIMEOUT
        stalled = (age is None and now - ch.spawned_at > grace) or (
            age is not None and age > settings.MEDIA_STALL_TIMEOUT
        )
        if stalled:
            log.warning("camera %d: no output for %.0f s, restarting", ch.camera_id, age or now - ch.spawned_at)
            if ch.leased and not self.node.current(ch.camera_id):
                self._drop(ch, "lease lost")
                return
            ch.proc.kill()
            ch.proc.wait()
            ch.proc = None
            self._ingest_csv(ch)
            if self.fault is None:
                index.sweep_unindexed(
                    ch.camera_id, None if self.continuous is None else ch.camera_id in self.continuous
                )
            self._drop_unkept(ch)
            self._failed(ch, "stalled: no new video")

    def _restart_changed_cameras(self) -> None:
        """A camera edited (URL, credentials, brand) since its process started: stop it; the next pass restarts
        it with a fresh probe."""
        running = {c.camera_id: c for c in self.channels.values() if c.proc is not None and c.stopping_since is None}
        if not running:
            return
        for camera_id, updated_at in Camera.objects.filter(id__in=running).values_list("id", "updated_at"):
            ch = running[camera_id]
            if ch.camera_version is not None and updated_at != ch.camera_version:
                log.info("camera %d changed: restarting its process", camera_id)
                MediaChannel.objects.filter(camera_id=camera_id).update(stream_info={})
                ch.stopping_since = time.monotonic()
                ch.proc.terminate()

    def _failed(self, ch: Channel, error: str) -> None:
        ch.failures += 1
        steps = settings.MEDIA_BACKOFF_STEPS
        delay = steps[min(ch.failures - 1, len(steps) - 1)]
        ch.next_start = time.monotonic() + delay
        state = ProcessState.DOWN if ch.failures >= len(steps) else ProcessState.BACKOFF
        log.warning("camera %d: %s (failure %d, retry in %g s)", ch.camera_id, error, ch.failures, delay)
        self._set(ch, state, error)
        shutil.rmtree(ch.hls_dir, ignore_errors=True)

    def _set(self, ch: Channel, state: str, error: str | None = None) -> None:
        ch.state = state
        if error is not None:
            ch.last_error = error

    def _report(self) -> None:
        """Write process state to MediaChannel rows, only when it changed."""
        for ch in self.channels.values():
            self.outages.observe(ch.camera_id, ch.state, ch.last_error)
            retry = None
            if ch.state in (ProcessState.BACKOFF, ProcessState.DOWN):
                retry = timezone.now() + timedelta(seconds=max(0.0, ch.next_start - time.monotonic()))
            snapshot = (ch.state, ch.last_error, ch.failures)
            if snapshot == ch.reported:
                continue
            fields = {"state": ch.state, "last_error": ch.last_error, "failures": ch.failures, "retry_at": retry}
            if ch.state == ProcessState.RUNNING:
                fields["started_at"] = timezone.now()
            if not MediaChannel.objects.filter(camera_id=ch.camera_id).update(**fields):
                if Camera.objects.filter(id=ch.camera_id).exists():
                    MediaChannel.objects.get_or_create(camera_id=ch.camera_id, defaults=fields)
            ch.reported = snapshot

    # --- segments ----------------------------------------------------------------------------------
    def _ingest_csv(self, ch: Channel) -> None:
        """Index the segments ffmpeg reported complete since the last read (its segment list, CSV)."""
        path = ch.seg_dir / ffmpeg.SEGMENT_LIST
        try:
            with open(path, "rb") as f:
                f.seek(ch.csv_offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        log.debug("camera %d: csv offset %d, %d new bytes", ch.camera_id, ch.csv_offset, end)
        if not end:
            return
        ch.csv_offset += end
        for line in data[:end].decode(errors="replace").splitlines():
            parts = line.strip().split(",")
            if len(parts) != 3:
                continue
            name, seg_start, seg_end = parts
            start = index.segment_start_from_name(name)
            try:
                duration = float(seg_end) - float(seg_start)
            except ValueError:
                continue
            if start is None or duration <= 0:
                continue
            # Names have one-second resolution; within a run segments follow each other exactly.
            if ch.last_segment_end is not None and abs((start - ch.last_segment_end).total_seconds()) < 1.5:
                start = ch.last_segment_end
            continuous = None if self.continuous is None else ch.camera_id in self.continuous
            try:
                with self.node.guard(ch.camera_id) if ch.leased else contextlib.nullcontext():
                    segment = index.index_segment(
                        ch.camera_id, ch.seg_dir / name, start, duration, continuous, node=self.node.name
                    )
            except nodes.LeaseLost:
                log.error("camera %d: %s: segment %s not indexed", ch.camera_id, "lease lost", name)
                return
            log.debug("camera %d: segment %s %.3f s -> %s", ch.camera_id, name, duration, segment and segment.id)
            if segment is not None:
                ch.last_segment_end = segment.end
                self._drop_unkept(ch, segment)

    def _drop_unkept(self, ch: Channel, segment=None) -> None:
        """Video nobody asked to record (live only) is not kept."""
        if ch.camera_id in self.keeping or self.fault is not None:
            return  # recording or continuous: kept (retention decides later)
        unkept = retention.uncovered_segments(ch.camera_id)
        if segment is None or unkept.filter(id=segment.id).exists():
            retention.remove_unkept_after_delete(ch.camera_id)

    def _finish_recordings(self) -> None:
        """Recordings past their end whose last segment is indexed become completed, with size and duration."""
        now = timezone.now()
        due = Recording.objects.filter(status=RecordingStatus.RECORDING, anchored=True, end_time__lte=now)
        elsewhere = self.node.leased_elsewhere()
        for rec in due.exclude(camera_id__in=elsewhere):  # another node's camera: that node finishes it
            ch = self.channels.get(rec.camera_id)
            running = ch is not None and ch.proc is not None
            if running and not rec.camera.segments.filter(end__gte=rec.end_time - timedelta(seconds=1)).exists():
                continue  # the segment holding the end is still being written
            retention.finalize(rec, RecordingStatus.COMPLETED)
        # A recording whose camera never produced video ends too, so it does not hold a process forever.
        Recording.objects.filter(
            status=RecordingStatus.RECORDING, anchored=False, end_time__lte=now - timedelta(minutes=10)
        ).exclude(camera_id__in=elsewhere).update(
            status=RecordingStatus.COMPLETED, stopped_reason="no video from camera"
        )


def _orphaned(pid: int) -> bool:
    """An ffmpeg whose parent is gone (init adopted it), not the child of another live supervisor."""
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return True
    return ppid in (1, os.getpid()) or not Path(f"/proc/{ppid}").exists()


def _probe(url: str):
    return url, ffmpeg.probe(
        url,
        binary=settings.FFPROBE_BINARY,
        timeout=settings.MEDIA_SOCKET_TIMEOUT * 3,
        socket_timeout=settings.MEDIA_SOCKET_TIMEOUT,
    )


def _output_age(ch: Channel) -> float | None:
    """Seconds since ffmpeg last wrote the live playlist (it rewrites it every HLS segment)."""
    try:
        return time.time() - (ch.hls_dir / ffmpeg.PLAYLIST).stat().st_mtime
    except FileNotFoundError:
        return None


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
