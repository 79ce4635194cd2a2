"""The event listener: converges the plate-read sources in the database to armed alert streams.

Run by `manage.py run_events` (never a Celery task: it holds connections open for days, like the media
supervisor). One thread per armed camera holds `alertStream` open through the one ISAPI client and
parses it (`plates/clients/isapi_events.py`); the reads go through one queue to a few ingest threads
that store them (`plates.services.reads.ingest_read`), so 128 cameras cost 128 sockets but only
EVENTS_INGEST_WORKERS database connections. Camera threads never touch the database: they report
into memory, and the main thread writes the sources' state once per pass.

- Reconnects step through EVENTS_BACKOFF_STEPS; a stream up EVENTS_HEALTHY_AFTER resets the steps.
- A stream without a heartbeat (or any part) for EVENTS_SILENCE_SECONDS is dropped and reopened.
- Refused credentials are recorded on the camera (`AnprCamera.auth_failed_at`, shared with the plates
  client) and never retried until they change or the lock ends (`services.devices.auth_block`).
- On every (re)connection, where the camera offers `vehicleDetect/plates`, the reads since the last
  one stored are fetched (backfill); repeats collapse in `ingest_read`. A listening-mode camera (it
  posts to us; nothing to reconnect) is backfilled every EVENTS_BACKFILL_INTERVAL instead.
"""

from __future__ import annotations

import logging
import queue
import select
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Max
from django.utils import timezone

from cameras.clients import isapi as camera_isapi
from cameras.models import Camera
from lprnvr.instance_lock import hold_instance_lock
from lprnvr.monitoring.heartbeats import EVENTS, Heartbeat

from ..clients import isapi_events as ev
from ..models import AnprEventSource, DefaultCameraCredentials, EventMode, EventState
from ..services import devices
from . import sources

log = logging.getLogger("plates.events")

HEARTBEAT_WRITE_EVERY = 15.0  # seconds between two writes of one camera's last heartbeat


def heartbeat_path() -> Path:
    return Path(settings.EVENTS_RUN_DIR) / "heartbeat"


@dataclass
class Report:
    """What one camera thread has to say since the last pass (read and reset by the main thread)."""

    state: str | None = None
    error: str | None = None
    heartbeat_at: object = None
    connected_at: object = None
    reconnects: int = 0
    rejected: Counter = field(default_factory=Counter)
    auth_failure: camera_isapi.BadCredentials | None = None
    connected_ok: bool = False

    @property
    def heartbeat_only(self) -> bool:
        return (
            self.state is None and self.error is None and self.connected_at is None and not self.reconnects
            and not self.rejected and self.auth_failure is None and not self.connected_ok
        )  # fmt: skip


def camera_client(host: str, port: int, credentials: tuple[str, str], read_timeout: float) -> camera_isapi.ISAPIClient:
    username, password = credentials
    timeouts = camera_isapi.Timeouts(settings.EVENTS_CONNECT_TIMEOUT, read_timeout)
    return camera_isapi.ISAPIClient(host, port=port, username=username, password=password, timeouts=timeouts)


class ListeningBackfill(threading.Thread):
    """A listening-mode camera's backfill, now and then: the reads it could not post to us while our
    door was down (the camera does not queue them). One short-lived thread per pass."""

    def __init__(self, supervisor: Supervisor, camera: Camera, credentials: tuple[str, str]):
        super().__init__(name=f"events-backfill{camera.pk}", daemon=True)
        self.supervisor = supervisor
        self.camera_id = camera.pk
        self.host, self.port = camera.ip, camera.http_port
        self.credentials = credentials

    def client(self, read_timeout: float) -> camera_isapi.ISAPIClient:
        return camera_client(self.host, self.port, self.credentials, read_timeout)

    def run(self) -> None:
        try:
            self.supervisor.backfill(self)
        except camera_isapi.BadCredentials as exc:
            self.supervisor.report(self.camera_id, auth_failure=exc, error=str(exc))
        except Exception:  # a bug must not end the listener
            log.exception("camera %s: backfill failed", self.camera_id)


class CameraStream(threading.Thread):
    """One camera's armed alertStream: connect, backfill, read, reconnect; until stopped."""

    def __init__(self, supervisor: Supervisor, camera: Camera, credentials: tuple[str, str], *, version=None):
        super().__init__(name=f"events-cam{camera.pk}", daemon=True)
        self.version = version  # (camera row updated_at, default credentials updated_at) it started with
        self.supervisor = supervisor
        self.camera_id = camera.pk
        self.host, self.port = camera.ip, camera.http_port
        self.credentials = credentials
        self.stopping = threading.Event()
        self._stream: camera_isapi.Stream | None = None

    def stop(self) -> None:
        self.stopping.set()
        stream = self._stream
        if stream is not None:
            stream.abort()

    def client(self, read_timeout: float) -> camera_isapi.ISAPIClient:
        return camera_client(self.host, self.port, self.credentials, read_timeout)

    def run(self) -> None:
        attempt, connected_before = 0, False
        steps = settings.EVENTS_BACKOFF_STEPS
        while not self.stopping.is_set():
            self.supervisor.report(self.camera_id, state=EventState.CONNECTING)
            started = time.monotonic()
            try:
                self._session(reconnect=connected_before)
                error = "the camera closed the stream"
            except camera_isapi.BadCredentials as exc:
                self.supervisor.report(self.camera_id, auth_failure=exc, state=EventState.AUTH_FAILED, error=str(exc))
                return  # never retried here: the main thread decides when the credentials changed
            except camera_isapi.ISAPIError as exc:
                error = str(exc)
            except Exception as exc:  # a bug must not end the camera's listening for good
                log.exception("camera %s: stream failed", self.camera_id)
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self._stream = None
            if self.stopping.is_set():
                return
            if self.supervisor.connected.get(self.camera_id):
                connected_before = True
            if time.monotonic() - started > settings.EVENTS_HEALTHY_AFTER:
                attempt = 0
            delay = steps[min(attempt, len(steps) - 1)]
            attempt += 1
            log.info("camera %s: %s; reconnecting in %s s", self.camera_id, error, delay)
            self.supervisor.report(self.camera_id, state=EventState.BACKOFF, error=error)
            self.stopping.wait(delay)

    def _session(self, *, reconnect: bool) -> None:
        silence = settings.EVENTS_SILENCE_SECONDS
        with self.client(read_timeout=silence) as client:
            stream = client.open_stream(camera_isapi.ALERT_STREAM, read_timeout=silence)
            self._stream = stream
            if self.stopping.is_set():
                stream.abort()
            with stream:
                self.supervisor.connected[self.camera_id] = True
                self.supervisor.report(
                    self.camera_id,
                    state=EventState.CONNECTED,
                    error="",
                    connected_at=timezone.now(),
                    reconnects=1 if reconnect else 0,
                    connected_ok=True,
                )
                self.supervisor.backfill(self)
                self._read(stream)

    def _read(self, stream: camera_isapi.Stream) -> None:
        reader = ev.MultipartReader(ev.boundary_from(stream.content_type), max_part=settings.EVENTS_MAX_PART_BYTES)
        assembler = ev.AlertAssembler(max_picture=settings.READS_MAX_PICTURE_BYTES)
        silence = settings.EVENTS_SILENCE_SECONDS
        alive = time.monotonic()
        try:
            for chunk in stream.chunks():
                items = reader.feed(chunk)
                for item in items:
                    for event in assembler.feed(item):
                        if isinstance(event, ev.Heartbeat):
                            alive = time.monotonic()
                            self.supervisor.report(self.camera_id, heartbeat_at=timezone.now())
                        else:
                            self._deliver(event)
                            alive = time.monotonic()
                if time.monotonic() - alive > silence:
                    raise camera_isapi.DeviceTimeout(f"camera {self.camera_id}: no heartbeat for {silence:g} s")
                if self.stopping.is_set():
                    return
        finally:
            # What was whole is kept (an alert whose pictures were cut still counts), the rest counted.
            for item in reader.close():
                for event in assembler.feed(item):
                    self._deliver(event)
            for event in assembler.flush():
                self._deliver(event)

    def _deliver(self, event) -> None:
        if isinstance(event, ev.Read):
            self.supervisor.ingest.put((self.camera_id, event.alert, event.pictures, "stream"))
        elif isinstance(event, ev.Rejected):
            log.warning("camera %s: part skipped (%s) %s", self.camera_id, event.reason, event.detail[:200])
            self.supervisor.report(self.camera_id, rejected=event.reason)


class Supervisor:
    def __init__(self) -> None:
        self.streams: dict[int, CameraStream] = {}
        self.ingest: queue.Queue = queue.Queue(maxsize=10_000)
        self.reports: dict[int, Report] = {}
        self.connected: dict[int, bool] = {}
        self.reads: Counter = Counter()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._lock_file = None
        self._listen_conn = None
        self._listen_retry = 0.0
        self._ingesters: list[threading.Thread] = []
        self._backfills = threading.BoundedSemaphore(max(1, settings.EVENTS_INGEST_WORKERS))
        self._heartbeat_written: dict[int, float] = {}
        self._listening_backfills: dict[int, tuple[float, ListeningBackfill | None]] = {}
        self.heartbeat = Heartbeat(EVENTS)  # this process's row in monitoring (one write per SERVICE_HEARTBEAT_SECONDS)

    # --- reports from the camera threads (memory only) ------------------------------------------
    def report(self, camera_id: int, *, rejected: str | None = None, **values) -> None:
        with self._lock:
            rep = self.reports.setdefault(camera_id, Report())
            for key, value in values.items():
                if key == "reconnects":
                    rep.reconnects += value
                elif key == "connected_ok":
                    rep.connected_ok = rep.connected_ok or value
                else:
                    setattr(rep, key, value)
            if rejected:
                rep.rejected[rejected] += 1

    # --- lifecycle --------------------------------------------------------------------------------
    def acquire_lock(self) -> None:
        """One listener per installation: two would store every read twice as often (and hold two
        arming slots per camera)."""
        self._lock_file = hold_instance_lock(settings.EVENTS_RUN_DIR, "listener", "run_events")

    def run(self) -> None:
        self.acquire_lock()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.stopping.set())
        for n in range(settings.EVENTS_INGEST_WORKERS):
            thread = threading.Thread(target=self._ingest_loop, name=f"events-ingest{n}", daemon=True)
            thread.start()
            self._ingesters.append(thread)
        log.info("event listener running")
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                close_old_connections()
                self.tick()
            except Exception:
                log.exception("event listener pass failed")
            self._wait(max(0.05, settings.EVENTS_POLL_INTERVAL - (time.monotonic() - started)))
        self.shutdown()

    def shutdown(self) -> None:
        for stream in self.streams.values():
            stream.stop()
        for stream in self.streams.values():
            stream.join(timeout=5)
        # Reads already received are stored before we go.
        deadline = time.monotonic() + 10
        while self.ingest.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in self._ingesters:
            self.ingest.put(None)
        self.flush_reports()
        AnprEventSource.objects.filter(camera_id__in=list(self.streams)).update(state=EventState.IDLE)
        log.info("event listener stopped")

    def _wait(self, timeout: float) -> None:
        """Sleep until the next pass, or until a NOTIFY on lprnvr_events (an admin change)."""
        listener = self._listener()
        if listener is None:
            self.stopping.wait(timeout)
            return
        try:
            if select.select([listener], [], [], timeout)[0]:
                listener.poll()
                listener.notifies.clear()
        except Exception:
            log.warning("notification listener lost; polling only until it reconnects")
            self._listen_conn = None
            self.stopping.wait(timeout)

    def _listener(self):
        if self._listen_conn is not None or connection.vendor != "postgresql":
            return self._listen_conn
        if time.monotonic() < self._listen_retry:
            return None
        try:
            import psycopg2

            conn = psycopg2.connect(**connection.get_connection_params())
            conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with conn.cursor() as cursor:
                cursor.execute(f"LISTEN {sources.NOTIFY_CHANNEL}")
            self._listen_conn = conn
        except Exception:
            self._listen_retry = time.monotonic() + 30
            log.warning("cannot LISTEN for changes; polling every %s s", settings.EVENTS_POLL_INTERVAL)
        return self._listen_conn

    # --- one pass ---------------------------------------------------------------------------------
    def tick(self) -> None:
        heartbeat_path().touch()  # the container healthcheck's (docker-compose.yml)
        self.heartbeat(streams=len(self.streams))
        # A thread that ended (refused credentials) reported why before ending: flush after looking,
        # so its refusal is recorded before we decide whether to start it again.
        ended = {camera_id for camera_id, stream in self.streams.items() if not stream.is_alive()}
        self.flush_reports()
        # Cheap columns only: decrypting every camera's password each pass is what costs at 128
        # cameras. A camera row or the default credentials changing is what restarts a stream.
        defaults_at = DefaultCameraCredentials.objects.aggregate(at=Max("updated_at"))["at"]
        wanted = {
            camera_id: (mode, state, (updated_at, defaults_at))
            for camera_id, mode, state, updated_at in AnprEventSource.objects.filter(
                enabled=True, camera__is_active=True
            ).values_list("camera_id", "mode", "state", "camera__updated_at")
        }
        for camera_id, stream in list(self.streams.items()):
            mode, _state, version = wanted.get(camera_id, (None, None, None))
            if camera_id in ended or mode != EventMode.ARMING or version != stream.version:
                stream.stop()
                del self.streams[camera_id]
                self.connected.pop(camera_id, None)
        for camera_id in set(self._listening_backfills) - {c for c, w in wanted.items() if w[0] == EventMode.LISTENING}:
            del self._listening_backfills[camera_id]
        for camera_id, (mode, state, version) in wanted.items():
            if mode == EventMode.LISTENING:
                if state != EventState.LISTENING:
                    sources.record_state(camera_id=camera_id, state=EventState.LISTENING, error="")
                self._backfill_listening(camera_id)
                continue
            if camera_id in self.streams:
                continue
            camera = Camera.objects.filter(pk=camera_id).first()
            if camera is None:
                continue
            block = devices.auth_block(camera, devices.anpr_for(camera))
            if block:
                if state != EventState.AUTH_FAILED:
                    sources.record_state(camera_id=camera_id, state=EventState.AUTH_FAILED, error=block)
                continue
            stream = CameraStream(self, camera, devices.camera_credentials(camera), version=version)
            self.streams[camera_id] = stream
            stream.start()

    def _backfill_listening(self, camera_id: int) -> None:
        """Every EVENTS_BACKFILL_INTERVAL (and when first seen), fetch what a listening-mode camera
        read since the last read stored: pushes lost while we were down or unreachable."""
        due, running = self._listening_backfills.get(camera_id, (0.0, None))
        now = time.monotonic()
        if now < due or (running is not None and running.is_alive()):
            return
        camera = Camera.objects.filter(pk=camera_id).first()
        if camera is None or devices.auth_block(camera, devices.anpr_for(camera)):
            self._listening_backfills[camera_id] = (now + settings.EVENTS_BACKFILL_INTERVAL, None)
            return
        thread = ListeningBackfill(self, camera, devices.camera_credentials(camera))
        self._listening_backfills[camera_id] = (now + settings.EVENTS_BACKFILL_INTERVAL, thread)
        thread.start()

    def flush_reports(self) -> None:
        with self._lock:
            reports, self.reports = self.reports, {}
            reads, self.reads = self.reads, Counter()
        now = time.monotonic()
        for camera_id in set(reports) | set(reads):
            rep = reports.get(camera_id) or Report()
            if rep.heartbeat_only and not reads.get(camera_id):
                # 128 cameras beating every few seconds would be a write per heartbeat: one per
                # HEARTBEAT_WRITE_EVERY per camera is enough to show it is alive (silence is
                # detected in memory).
                if now - self._heartbeat_written.get(camera_id, 0.0) < HEARTBEAT_WRITE_EVERY:
                    with self._lock:
                        pending = self.reports.setdefault(camera_id, Report())
                        pending.heartbeat_at = pending.heartbeat_at or rep.heartbeat_at
                    continue
            if rep.heartbeat_at is not None:
                self._heartbeat_written[camera_id] = now
            if rep.auth_failure is not None:
                camera = Camera.objects.filter(pk=camera_id).first()
                if camera is not None:
                    devices.record_auth_failure(camera, devices.anpr_for(camera), rep.auth_failure)
                    log.warning("camera %s: %s; not retried until its credentials change", camera_id, rep.auth_failure)
            elif rep.connected_ok:
                camera = Camera.objects.filter(pk=camera_id).first()
                if camera is not None:
                    devices.clear_auth_failure(camera)
            sources.record_state(
                camera_id=camera_id,
                state=rep.state,
                error=rep.error,
                heartbeat_at=rep.heartbeat_at,
                connected_at=rep.connected_at,
                reconnects=rep.reconnects,
                reads=reads.get(camera_id, 0),
                read_at=timezone.now() if reads.get(camera_id) else None,
            )
            if rep.rejected:
                sources.count_rejected(camera_id=camera_id, reasons=dict(rep.rejected))

    # --- backfill (from a camera thread, on its own short-lived client) ---------------------------
    def backfill(self, stream: CameraStream | ListeningBackfill) -> None:
        with self._backfills:  # a camera thread on the database: a few at a time (connections)
            self._backfill(stream)

    def _backfill(self, stream: CameraStream | ListeningBackfill) -> None:
        camera = Camera.objects.filter(pk=stream.camera_id).first()
        try:
            if camera is None:
                return
            source = AnprEventSource.objects.filter(camera_id=stream.camera_id).first()
            if source is not None and source.backfill_supported is False:
                return
            cursor = sources.backfill_cursor(camera=camera)
            if cursor is None:
                return
            with stream.client(read_timeout=15) as client:
                try:
                    # From a second before the last stored read: the camera times reads by the second
                    # and answers those strictly after picTime, so a read in the same second as the
                    # last one stored is not lost; the overlap collapses in ingest_read.
                    body = client.vehicle_detect_plates(ev.backfill_request(cursor - timedelta(seconds=1)))
                except camera_isapi.NotSupported:
                    sources.record_backfill(camera_id=camera.pk, supported=False, cursor=None)
                    return
                except camera_isapi.PermanentError as exc:
                    if exc.http_status in (403, 404):
                        sources.record_backfill(camera_id=camera.pk, supported=False, cursor=None)
                        return
                    raise
            alerts = ev.parse_backfill(body, tz=ev.offset_of(cursor))
            sources.record_backfill(camera_id=camera.pk, supported=True, cursor=cursor)
            for alert in alerts:
                self.ingest.put((camera.pk, alert, {}, "backfill"))
            if alerts:
                log.info("camera %s: backfill of %d reads since %s", camera.pk, len(alerts), cursor.isoformat())
        except camera_isapi.BadCredentials:
            raise
        except (camera_isapi.ISAPIError, ev.EventsError) as exc:
            log.warning("camera %s: backfill failed: %s", stream.camera_id, exc)
        finally:
            close_old_connections()
            connection.close()

    # --- storing reads ----------------------------------------------------------------------------
    def _ingest_loop(self) -> None:
        from ..services.reads import ingest_read

        cameras: dict[int, Camera] = {}
        while True:
            item = self.ingest.get()
            try:
                if item is None:
                    return
                camera_id, alert, pictures, source = item
                close_old_connections()
                camera = cameras.get(camera_id) or Camera.objects.filter(pk=camera_id).first()
                if camera is None:
                    continue
                cameras[camera_id] = camera
                _row, created = ingest_read(camera=camera, alert=alert, pictures=pictures, source=source)
                with self._lock:
                    self.reads[camera_id] += 1
                if not created:
                    log.debug("camera %s: repeat of a stored read (%s)", camera_id, source)
            except Exception:
                log.exception("storing a read failed")
                if item is not None:
                    self.report(item[0], rejected="store_failed")
            finally:
                self.ingest.task_done()
