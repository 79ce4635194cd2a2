"""The built-in /metrics families, read from the database at each scrape (see `metrics.family`).

Per camera, labelled `camera_id` and `camera` (its name): media process state, starts, failures,
footage kept, recording; per ANPR camera: list sizes, drift, sync, the read source's state and last
read; jobs by status; service heartbeats; disk space. Ages are computed at scrape time; a camera that
never had a read, or a service never seen, has no age sample.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cameras.models import Camera, DiscoveryJob
from plates.models import AnprCamera, AnprEventSource, CameraPlate, EventState, PlateJob, Status
from recordings import storage
from recordings.models import ProcessState, Recording, Segment

from . import heartbeats
from .metrics import family

CAMERA = ["camera_id", "camera"]
# The keys of AnprCamera.drift (plates.reconcile.drift), each a list of plate numbers.
DRIFT_KINDS = ("missing", "unexpected", "to_remove", "duplicates", "mismatched")


def _gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=[*CAMERA, *labels])


def _camera_names() -> dict[int, str]:
    return dict(Camera.objects.values_list("id", "name"))


@family
def media():
    state = _gauge(
        "lprnvr_camera_media_state", "1 for the state the camera's media process is in, 0 for the others.", "state"
    )
    starts = CounterMetricFamily(
        "lprnvr_camera_media_starts",
        "Times the media supervisor started the camera's process (its rate is the restarts).",
        labels=CAMERA,
    )
    failures = _gauge("lprnvr_camera_media_failures", "Consecutive failed starts of the camera's process.")
    continuous = _gauge("lprnvr_camera_continuous_recording", "1 when the camera records 24/7.")
    recording = _gauge("lprnvr_camera_recording_active", "1 while a recording of the camera covers now.")
    segments = _gauge("lprnvr_camera_segments", "Recorded segments of the camera kept on disk (indexed).")
    size = _gauge("lprnvr_camera_segment_bytes", "Bytes of recorded segments of the camera kept on disk.")
    last = _gauge("lprnvr_camera_last_segment_end_timestamp_seconds", "End of the camera's newest indexed segment.")
    active = set(Recording.objects.active().exclude(camera=None).values_list("camera_id", flat=True))
    kept_rows = Segment.objects.order_by().values("camera_id").annotate(n=Count("id"), size=Sum("size"), end=Max("end"))
    footage = {row["camera_id"]: row for row in kept_rows}
    rows = Camera.objects.order_by("id").values_list(
        "id", "name", "media__state", "media__starts", "media__failures", "media__continuous"
    )
    for camera_id, name, current, started, failed, is_continuous in rows:
        labels = [str(camera_id), name]
        current = current or ProcessState.IDLE  # no media row yet: never started
        for value in ProcessState.values:
            state.add_metric([*labels, value], 1 if value == current else 0)
        starts.add_metric(labels, started or 0)
        failures.add_metric(labels, failed or 0)
        continuous.add_metric(labels, 1 if is_continuous else 0)
        recording.add_metric(labels, 1 if camera_id in active else 0)
        kept = footage.get(camera_id)
        segments.add_metric(labels, kept["n"] if kept else 0)
        size.add_metric(labels, kept["size"] if kept else 0)
        if kept:
            last.add_metric(labels, kept["end"].timestamp())
    yield from (state, starts, failures, continuous, recording, segments, size, last)


@family
def anpr_lists():
    listed = _gauge("lprnvr_anpr_list_plates", "Plates the camera's list here says it must hold.")
    removals = _gauge("lprnvr_anpr_pending_removals", "Plates to take off the camera, not confirmed gone yet.")
    held = _gauge("lprnvr_anpr_camera_plates", "Plates on the camera at its last sync (as it reported them).")
    drift = _gauge(
        "lprnvr_anpr_drift_plates",
        "Plates by which the camera's list differs from ours at its last sync, by kind.",
        "kind",
    )
    synced = _gauge("lprnvr_anpr_last_sync_timestamp_seconds", "When the camera's list was last read.")
    refused = _gauge("lprnvr_anpr_credentials_refused", "1 while the camera refuses our credentials (never retried).")
    locked = _gauge("lprnvr_anpr_locked", "1 while the camera locks our address out (too many failed logins).")
    counts: dict[int, dict[bool, int]] = {}
    for camera_id, desired, n in (
        CameraPlate.objects.order_by()
        .values("camera_id", "desired")
        .annotate(n=Count("id"))
        .values_list("camera_id", "desired", "n")
    ):
        counts.setdefault(camera_id, {})[desired] = n
    devices = {
        row[0]: row[1:]
        for row in AnprCamera.objects.values_list(
            "camera_id", "drift", "plate_count", "last_synced_at", "auth_failed_at", "locked_until"
        )
    }
    names = _camera_names()
    now = timezone.now()
    for camera_id in sorted(set(counts) | set(devices)):
        labels = [str(camera_id), names.get(camera_id, "")]
        listed.add_metric(labels, counts.get(camera_id, {}).get(True, 0))
        removals.add_metric(labels, counts.get(camera_id, {}).get(False, 0))
        if camera_id not in devices:
            continue
        report, plate_count, synced_at, refused_at, locked_until = devices[camera_id]
        for kind in DRIFT_KINDS:
            drift.add_metric([*labels, kind], len((report or {}).get(kind) or []))
        if plate_count is not None:
            held.add_metric(labels, plate_count)
        if synced_at is not None:
            synced.add_metric(labels, synced_at.timestamp())
        refused.add_metric(labels, 1 if refused_at else 0)
        locked.add_metric(labels, 1 if locked_until and locked_until > now else 0)
    yield from (listed, removals, held, drift, synced, refused, locked)


@family
def anpr_events():
    state = _gauge(
        "lprnvr_anpr_events_state", "1 for the state the camera's plate-read source is in, 0 for the others.", "state"
    )
    read_age = _gauge("lprnvr_anpr_last_read_age_seconds", "Seconds since the camera's last plate read.")
    beat_age = _gauge(
        "lprnvr_anpr_events_heartbeat_age_seconds", "Seconds since the camera's alert stream last sent a heartbeat."
    )
    reads = CounterMetricFamily("lprnvr_anpr_reads", "Plate reads received from the camera.", labels=CAMERA)
    reconnects = CounterMetricFamily(
        "lprnvr_anpr_events_reconnects", "Reconnections of the camera's alert stream.", labels=CAMERA
    )
    now = timezone.now()
    rows = AnprEventSource.objects.order_by("camera_id").values_list(
        "camera_id", "camera__name", "state", "last_read_at", "last_heartbeat_at", "reads_received", "reconnects"
    )
    for camera_id, name, current, read_at, beat_at, received, reconnected in rows:
        labels = [str(camera_id), name]
        for value in EventState.values:
            state.add_metric([*labels, value], 1 if value == current else 0)
        if read_at is not None:
            read_age.add_metric(labels, max(0.0, (now - read_at).total_seconds()))
        if beat_at is not None:
            beat_age.add_metric(labels, max(0.0, (now - beat_at).total_seconds()))
        reads.add_metric(labels, received)
        reconnects.add_metric(labels, reconnected)
    yield from (state, read_age, beat_age, reads, reconnects)


@family
def jobs():
    for name, doc, model, statuses in (
        ("lprnvr_plate_jobs", "Plate jobs by status.", PlateJob, Status.values),
        ("lprnvr_discovery_jobs", "Discovery jobs by status.", DiscoveryJob, DiscoveryJob.Status.values),
    ):
        gauge = GaugeMetricFamily(name, doc, labels=["status"])
        counts = dict(model.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in statuses:
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge


@family
def services():
    up = GaugeMetricFamily(
        "lprnvr_service_up",
        "1 when the service beat within SERVICE_STALE_SECONDS on that host, "
        '0 when stale or (host "") expected and never seen.',
        labels=["service", "host"],
    )
    age = GaugeMetricFamily(
        "lprnvr_service_heartbeat_age_seconds",
        "Seconds since the service's last heartbeat on that host.",
        labels=["service", "host"],
    )
    for status in heartbeats.service_states():
        up.add_metric([status.service, status.host], 1 if status.ok else 0)
        if status.age_seconds is not None:
            age.add_metric([status.service, status.host], status.age_seconds)
    yield from (up, age)


def volumes() -> dict[str, object]:
    """The folders whose disks /metrics reports (several may share one disk)."""
    return {"recordings": settings.RECORDINGS_DIR, "reads": settings.READS_DIR, "var": settings.VAR_DIR}


@family
def disk():
    labels = ["volume"]
    total = GaugeMetricFamily("lprnvr_disk_total_bytes", "Size of the disk the folder is on.", labels=labels)
    used = GaugeMetricFamily("lprnvr_disk_used_bytes", "Bytes used on the disk the folder is on.", labels=labels)
    free = GaugeMetricFamily("lprnvr_disk_free_bytes", "Bytes free on the disk the folder is on.", labels=labels)
    for volume, folder in volumes().items():
        usage = storage.disk_usage(folder)
        total.add_metric([volume], usage.total)
        used.add_metric([volume], usage.used)
        free.add_metric([volume], usage.free)
    yield from (total, used, free)
    yield GaugeMetricFamily(
        "lprnvr_disk_free_floor_bytes",
        "Free space under which recording stops and old footage goes (DISK_FREE_FLOOR_BYTES).",
        value=settings.DISK_FREE_FLOOR_BYTES,
    )
    yield GaugeMetricFamily(
        "lprnvr_recordings_quota_bytes", "RECORDINGS_QUOTA_BYTES (0: no quota).", value=settings.RECORDINGS_QUOTA_BYTES
    )
