"""The dashboard's reads: what the admin index (every role's landing page) shows at a glance.

Cameras by stream state, ANPR gates by list state, plate jobs running and failed, the recordings
disk, the services' heartbeats (administrators), the latest plate reads and alerts. Every row goes
through the models' `visible_to(user)`, so a user or viewer sees only their cameras' rows; every item
carries the URL of the page where it is acted on, when the user may open that page.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db.models import Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cameras.models import Camera
from lprnvr.monitoring.heartbeats import service_states
from lprnvr.monitoring.models import Liveness
from lprnvr.redaction import redact
from plates.models import AnprCamera, PlateJob, PlateRead, Status
from recordings import retention, status, storage
from recordings.models import Segment

from .visibility import is_admin

MAX_CAMERAS = 200  # rows listed; the counts cover every camera
MAX_JOBS = 5
MAX_READS = 10
FAILED_JOBS_WINDOW = timedelta(hours=24)

IN_SYNC, DRIFTED, LOCKED, UNREACHABLE, NOT_SYNCED = "in_sync", "drifted", "locked", "unreachable", "not_synced"
RUNNING_JOB = (Status.PENDING, Status.RUNNING, Status.RETRYING)
FAILED_JOB = (Status.FAILED, Status.PARTIAL)


def dashboard(request) -> dict:
    """Everything the dashboard shows to `request.user` (the request decides which pages it may open)."""
    user = request.user
    return {
        "generated_at": timezone.now(),
        "cameras": camera_panel(request),
        "gates": gate_panel(request),
        "jobs": job_panel(request),
        "disk": cached_disk_panel(),
        "services": service_panel() if is_admin(user) else None,
        "reads": read_panel(request),
        "alerts": alert_panel(request),
    }


def _viewable(request, model) -> bool:
    if not admin.site.is_registered(model):
        return False
    return admin.site.get_model_admin(model).has_view_permission(request)


def change_url(request, model, pk) -> str:
    """The admin page of a row, or "" when the user may not open it."""
    if not _viewable(request, model):
        return ""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def changelist_url(request, model) -> str:
    if not _viewable(request, model):
        return ""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


# --- cameras --------------------------------------------------------------------------------------
def camera_panel(request) -> dict:
    cameras = status.with_media_status(Camera.objects.visible_to(request.user).in_service()).order_by("name", "pk")
    live = _url("admin:recordings_live")
    rows = []
    for camera in cameras:
        media = status.camera_media(camera)
        rows.append(
            {
                "id": camera.pk,
                "name": camera.name,
                "address": camera.address,
                "state": media.state,
                "label": media.label,
                "recording": media.recording,
                "continuous": media.continuous,
                "last_frame": media.last_frame,
                "error": media.error,
                "url": change_url(request, Camera, camera.pk) or live,
            }
        )
    counts = dict.fromkeys(status.STATE_ORDER, 0)
    for row in rows:
        counts[row["state"]] += 1
    rows.sort(key=lambda r: (status.STATE_ORDER.index(r["state"]), r["name"].lower()))
    return {
        "total": len(rows),
        "counts": [{"state": s, "label": str(status.STATE_LABELS[s]), "count": counts[s]} for s in status.STATE_ORDER],
        "by_state": counts,
        "rows": rows[:MAX_CAMERAS],
    }


# --- ANPR gates -----------------------------------------------------------------------------------
GATE_LABELS = {
    IN_SYNC: gettext_lazy("In sync"),
    DRIFTED: gettext_lazy("Drifted"),
    LOCKED: gettext_lazy("Locked or credentials refused"),
    UNREACHABLE: gettext_lazy("Unreachable"),
    NOT_SYNCED: gettext_lazy("Not synced yet"),
}
GATE_ORDER = [LOCKED, UNREACHABLE, DRIFTED, NOT_SYNCED, IN_SYNC]


def gate_state(device: AnprCamera, now) -> tuple[str, str]:
    """(state, the device's reason in words) of an ANPR camera's plate list."""
    if device.locked_until and device.locked_until > now:
        return LOCKED, _("The camera locked us out after failed logins, until %(time)s.") % {
            "time": timezone.localtime(device.locked_until).strftime("%H:%M:%S")
        }
    if device.auth_failed_at:
        return LOCKED, _("The camera refused the credentials: %(reason)s") % {
            "reason": redact(device.auth_error or _("no reason given"))
        }
    if device.last_sync_error:
        return UNREACHABLE, _("The last sync failed: %(reason)s") % {"reason": redact(device.last_sync_error)}
    if device.has_drift:
        drift = device.drift
        return DRIFTED, _("%(missing)d missing, %(unexpected)d unexpected, %(duplicates)d duplicated plates.") % {
            "missing": len(drift.get("missing") or []),
            "unexpected": len(drift.get("unexpected") or []),
            "duplicates": len(drift.get("duplicates") or []),
        }
    if device.last_synced_at is None:
        return NOT_SYNCED, ""
    return IN_SYNC, ""


def gate_panel(request) -> dict:
    now = timezone.now()
    devices = (
        AnprCamera.objects.visible_to(request.user)
        .filter(camera__retired_at__isnull=True)
        .select_related("camera")
        .order_by("camera__name", "pk")
    )
    monitor = _url("admin:plates_gate_monitor")
    rows = []
    for device in devices:
        state, reason = gate_state(device, now)
        rows.append(
            {
                "id": device.pk,
                "name": device.camera.name,
                "address": device.camera.address,
                "state": state,
                "label": str(GATE_LABELS[state]),
                "reason": reason,
                "plates": device.plate_count,
                "last_synced_at": device.last_synced_at,
                "url": change_url(request, AnprCamera, device.pk) or monitor,
            }
        )
    counts = dict.fromkeys(GATE_ORDER, 0)
    for row in rows:
        counts[row["state"]] += 1
    rows.sort(key=lambda r: (GATE_ORDER.index(r["state"]), r["name"].lower()))
    return {
        "total": len(rows),
        "counts": [{"state": s, "label": str(GATE_LABELS[s]), "count": counts[s]} for s in GATE_ORDER],
        "by_state": counts,
        "rows": rows,
    }


# --- jobs -----------------------------------------------------------------------------------------
def _job_row(request, job: PlateJob) -> dict:
    errors = [redact(e) for e in job.cameras.exclude(last_error="").values_list("last_error", flat=True)[:2]]
    return {
        "id": job.pk,
        "operation": job.get_operation_display(),
        "status": job.status,
        "status_label": job.get_status_display(),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": "; ".join(errors),
        "url": change_url(request, PlateJob, job.pk),
    }


def job_panel(request) -> dict:
    jobs = PlateJob.objects.visible_to(request.user)
    running = jobs.filter(status__in=RUNNING_JOB)
    failed = jobs.filter(status__in=FAILED_JOB).filter(
        Q(finished_at__gte=timezone.now() - FAILED_JOBS_WINDOW) | Q(finished_at__isnull=True)
    )
    return {
        "running_count": running.count(),
        "failed_count": failed.count(),
        "running": [_job_row(request, job) for job in running.order_by("-created_at", "-id")[:MAX_JOBS]],
        "failed": [_job_row(request, job) for job in failed.order_by("-created_at", "-id")[:MAX_JOBS]],
        "list_url": changelist_url(request, PlateJob),
    }


# --- disk -----------------------------------------------------------------------------------------
DISK_CACHE_KEY = "dashboard:disk"


def cached_disk_panel() -> dict:
    """`disk_panel`, at most DASHBOARD_DISK_SECONDS old: it sums every segment row (a quarter of a
    second at a million), and the disk does not change much between two refreshes of every open page."""
    panel = cache.get(DISK_CACHE_KEY)
    if panel is None:
        panel = disk_panel()
        cache.set(DISK_CACHE_KEY, panel, settings.DASHBOARD_DISK_SECONDS)
    return panel


def disk_panel(*, now=None) -> dict:
    """The recordings disk: used, free, and how long footage lasts at the rate of the last 24 hours."""
    now = now or timezone.now()
    usage = storage.disk_usage()
    per_day = Segment.objects.filter(end__gte=now - timedelta(days=1)).aggregate(total=Sum("size"))["total"] or 0
    footage = retention.segment_bytes()
    room = usage.free - settings.DISK_FREE_FLOOR_BYTES
    if settings.RECORDINGS_QUOTA_BYTES:
        room = min(room, settings.RECORDINGS_QUOTA_BYTES - footage - retention.cache_bytes())
    room = max(0, room)
    return {
        "total": usage.total,
        "used": usage.used,
        "free": usage.free,
        "footage": footage,
        "per_day": per_day,
        # Until the disk (or the quota) is full, at today's rate, if nothing were deleted ...
        "days_left": round(room / per_day, 1) if per_day else None,
        # ... and how many days of footage the store holds at that rate (what retention can keep).
        "days_of_footage": round((footage + room) / per_day, 1) if per_day else None,
        "low": retention.floor_shortfall() > 0,
        "fault": str(storage.root_fault(indexed=footage > 0) or ""),
    }


# --- services -------------------------------------------------------------------------------------
def service_panel() -> dict:
    labels = dict(Liveness.choices)
    rows = [
        {
            "service": s.service,
            "host": s.host,
            "state": s.state,
            "label": str(labels[s.state]),
            "beat_at": s.beat_at,
            "age_seconds": s.age_seconds,
        }
        for s in service_states()
    ]
    return {"rows": rows, "failing": sum(1 for r in rows if r["state"] != Liveness.OK)}


# --- plate reads and alerts -----------------------------------------------------------------------
def read_panel(request) -> dict:
    reads = PlateRead.objects.visible_to(request.user).select_related("camera")[:MAX_READS]
    return {
        "url": _url("admin:plates_reads"),
        "rows": [
            {
                "id": read.pk,
                "number": read.number or read.plate_as_read,
                "camera": read.camera.name,
                "received_at": read.received_at,
                "verdict": read.get_our_verdict_display(),
                "flagged": read.flagged,
            }
            for read in reads
        ],
    }


def alert_panel(request) -> dict:
    """The latest alerts the user may see (lprnvr.alerts.selectors)."""
    from lprnvr.alerts.selectors import latest_alerts

    return {"rows": latest_alerts(request.user, limit=MAX_READS)}
