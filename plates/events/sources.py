"""Plate-read sources: the per-camera row `run_events` converges to, its push secret, its counters,
the camera's listening slots (`httpHosts`). Services: keyword-only, they do the writing."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cameras.models import Camera
from lprnvr.redaction import redact

from ..clients import isapi_events
from ..models import AnprEventSource, EventMode, PlateRead, RefusedPush
from ..services import devices

log = logging.getLogger("plates.events")

NOTIFY_CHANNEL = "lprnvr_events"


def wake_listener() -> None:
    """Tell a running `run_events` to re-read its desired state now (PostgreSQL NOTIFY)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def enable(*, camera: Camera, mode: str = EventMode.ARMING, enabled: bool = True) -> AnprEventSource:
    source, _ = AnprEventSource.objects.get_or_create(camera=camera)
    source.mode, source.enabled = mode, enabled
    source.save(update_fields=["mode", "enabled", "updated_at"])
    transaction.on_commit(wake_listener)
    return source


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rotate_secret(*, source: AnprEventSource) -> str:
    """A new push secret: returned once (to show), stored only hashed; the old one stops working."""
    secret = secrets.token_urlsafe(24)
    source.secret_hash, source.secret_set_at = _hash(secret), timezone.now()
    source.save(update_fields=["secret_hash", "secret_set_at", "updated_at"])
    return secret


def push_path(*, camera_id: int, secret: str) -> str:
    return f"/api/plates/events/push/{camera_id}/{secret}/"


def source_for_push(*, camera_id: int, secret: str) -> AnprEventSource | None:
    """The enabled listening-mode source this secret opens, or None (unknown camera, wrong secret)."""
    source = AnprEventSource.objects.filter(camera_id=camera_id, enabled=True, camera__is_active=True).first()
    if source is None or not source.secret_hash or not secret:
        return None
    if not secrets.compare_digest(source.secret_hash, _hash(secret)):
        return None
    return source


def count_rejected(*, camera_id: int | None, reasons: dict[str, int], detail: str = "") -> None:
    """Count rejected input by reason on the camera's source (and log it, redacted)."""
    if not reasons:
        return
    log.warning("camera %s: rejected %s %s", camera_id or "?", dict(reasons), redact(detail)[:300])
    if camera_id is None:
        return
    with transaction.atomic():
        source = AnprEventSource.objects.select_for_update().filter(camera_id=camera_id).first()
        if source is None:
            return
        counts = dict(source.rejected)
        for reason, n in reasons.items():
            counts[reason] = counts.get(reason, 0) + n
        source.rejected = counts
        source.save(update_fields=["rejected", "updated_at"])


def record_state(
    *,
    camera_id: int,
    state: str | None = None,
    error: str | None = None,
    heartbeat_at: datetime | None = None,
    read_at: datetime | None = None,
    reads: int = 0,
    reconnects: int = 0,
    connected_at: datetime | None = None,
) -> None:
    """What the listener reports about one source (counters add up)."""
    fields: dict = {"updated_at": timezone.now()}
    if state is not None:
        fields["state"] = state
    if error is not None:
        fields["last_error"] = redact(error)[:2000]
        if error:
            fields["last_error_at"] = timezone.now()
    if heartbeat_at is not None:
        fields["last_heartbeat_at"] = heartbeat_at
    if read_at is not None:
        fields["last_read_at"] = read_at
    if connected_at is not None:
        fields["connected_at"] = connected_at
    if reads:
        fields["reads_received"] = F("reads_received") + reads
    if reconnects:
        fields["reconnects"] = F("reconnects") + reconnects
    AnprEventSource.objects.filter(camera_id=camera_id).update(**fields)


def backfill_cursor(*, camera: Camera) -> datetime | None:
    """Where a backfill starts: the camera time of the last read stored, in the camera's offset."""
    last = (
        PlateRead.objects.filter(camera=camera, camera_time__isnull=False)
        .order_by("-camera_time")
        .values_list("camera_time", "camera_utc_offset")
        .first()
    )
    if last is None:
        return None
    when, offset = last
    if offset is not None:
        when = when.astimezone(dt_timezone(timedelta(minutes=offset)))
    return when


def record_backfill(*, camera_id: int, supported: bool, cursor: datetime | None) -> None:
    fields = {"backfill_supported": supported, "updated_at": timezone.now()}
    if cursor is not None:
        fields["backfill_cursor"] = cursor
    AnprEventSource.objects.filter(camera_id=camera_id).update(**fields)


# --- Listening slots on the camera -------------------------------------------------------------


class SlotsTaken(Exception):
    """Every listening slot of the camera points at another system: none was touched."""


def configure_http_host(*, camera: Camera, url: str) -> str:
    """Point one free `httpHosts` slot of the camera at `url` (our push URL); returns the slot id.

    A slot already pointing at us (same address, port and path prefix) is reused; a slot that points
    anywhere else is never overwritten (an NVR or a central platform holds it): SlotsTaken.
    """
    target = urlsplit(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    device = devices.anpr_for(camera)
    reason = devices.auth_block(camera, device)
    if reason:
        raise devices.isapi.BadCredentials(reason)
    client = devices.client_for_camera(camera, device)  # the thread's cached session: not closed here
    try:
        slots = client.http_hosts()
        free = None
        for slot in slots:
            address = slot.get("ipAddress") or slot.get("hostName") or ""
            ours = address == target.hostname and str(slot.get("portNo")) == str(port)
            if ours and slot.get("url", "").startswith("/api/plates/events/push/"):
                free = slot.get("id")  # already ours (an older secret): update it in place
                break
            if address in ("", "0.0.0.0") and free is None:  # noqa: S104 - an unset slot
                free = slot.get("id")
        if not free:
            raise SlotsTaken(f"camera {camera.pk}: every listening slot points at another system")
        client.set_http_host(
            free, url=target.path, protocol=target.scheme.upper(), address=target.hostname or "", port=port
        )
    except devices.isapi.BadCredentials as exc:
        devices.record_auth_failure(camera, device, exc)
        raise
    return free


def push_refusal(*, camera_id: int, secret: str, address: str | None = None) -> tuple[AnprEventSource | None, str]:
    """(the source this push opens, "") or (None, why it is refused), the refusal counted and logged:
    on the camera's source for a wrong secret, in `RefusedPush` for a camera we have no source for."""
    source = source_for_push(camera_id=camera_id, secret=secret)
    if source is not None:
        return source, ""
    known = AnprEventSource.objects.filter(camera_id=camera_id).exists()
    reason = "wrong_secret" if known else "unknown_camera"
    count_rejected(camera_id=camera_id if known else None, reasons={reason: 1}, detail=f"push refused from {address}")
    if not known:
        count_refused_push(reason=reason, camera_id=camera_id, address=address)
    return None, reason


def _ip_or_none(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def count_refused_push(*, reason: str, camera_id: int | None, address: str | None) -> None:
    """One more push refused before a camera could be named (one row per reason, never per id)."""
    fields = {"last_at": timezone.now(), "last_camera_id": camera_id if camera_id and camera_id < 2**62 else None,
              "last_address": _ip_or_none(address)}  # fmt: skip
    if not RefusedPush.objects.filter(reason=reason).update(count=F("count") + 1, **fields):
        try:
            with transaction.atomic():
                RefusedPush.objects.create(reason=reason, count=1, **fields)
        except IntegrityError:  # created meanwhile by another request
            RefusedPush.objects.filter(reason=reason).update(count=F("count") + 1, **fields)


def ingest_push(
    *, camera_id: int, secret: str, body: bytes, content_type: str, max_part: int, address: str | None = None
) -> tuple[str, bool]:
    """Listening mode: one camera POST. Returns (refusal reason or "", created)."""
    from ..services.reads import ingest_read

    source, reason = push_refusal(camera_id=camera_id, secret=secret, address=address)
    if source is None:
        return reason, False
    try:
        read = isapi_events.read_form(body, content_type, max_part=max_part)
    except isapi_events.EventsError as exc:
        count_rejected(camera_id=camera_id, reasons={exc.reason: 1}, detail=str(exc))
        return exc.reason, False
    rejected: dict[str, int] = {}
    for item in read.rejected:
        rejected[item.reason] = rejected.get(item.reason, 0) + 1
    count_rejected(camera_id=camera_id, reasons=rejected, detail="push parts skipped")
    _row, created = ingest_read(camera=source.camera, alert=read.alert, pictures=read.pictures, source="push")
    record_state(camera_id=camera_id, read_at=timezone.now(), reads=1)
    return "", created
