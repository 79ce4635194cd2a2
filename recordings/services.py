"""Everything the API does to media: leases on live streams, recordings, signed URLs (exports: exports.py).

These functions only write desired state; `manage.py run_media` makes it happen.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from cameras.models import Camera
from lprnvr.errors import Conflict, InsufficientStorage, ServiceUnavailable

from . import retention, storage
from .clients import ffmpeg
from .models import LiveViewer, MediaChannel, Recording, RecordingStatus, Segment
from .supervisor import supervisor_alive

URL_SALT = "recordings.hls"
HLS_FILE = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(m3u8|m4s|mp4)$")


def wake_supervisor() -> None:
    """Tell run_media that desired state changed, once the transaction commits (PostgreSQL NOTIFY).

    Only a shortcut: the supervisor also polls every MEDIA_POLL_INTERVAL, so a lost notification (or
    another database) delays the change by at most that much.
    """
    from django.db import connection

    def notify() -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("NOTIFY lprnvr_media")

    transaction.on_commit(notify)


class LimitReached(exceptions.APIException):
    status_code = 429
    default_code = "limit_reached"


# --- live ---------------------------------------------------------------------------------------
def live_streams_in_use() -> set[int]:
    return set(LiveViewer.objects.active().values_list("camera_id", flat=True).distinct())


def request_live(*, camera: Camera, user) -> None:
    """Lease (or renew) the user's live view of a camera; MAX_STREAMS counts cameras being watched."""
    if not camera.is_active:
        raise Conflict(_("This camera is disabled."), code="camera_disabled")
    with transaction.atomic():
        in_use = live_streams_in_use()
        if camera.id not in in_use and len(in_use) >= settings.MAX_STREAMS:
            raise LimitReached(
                _("The maximum of %(n)d simultaneous live streams is reached.") % {"n": settings.MAX_STREAMS},
                code="max_streams",
            )
        _lease, created = LiveViewer.objects.update_or_create(
            camera=camera, user=user, defaults={"last_seen": timezone.now()}
        )
    if created:
        wake_supervisor()


def release_live(*, camera: Camera, user) -> int:
    deleted, _ = LiveViewer.objects.filter(camera=camera, user=user).delete()
    wake_supervisor()
    return deleted


def renew_live(*, camera_id: int, user_id: int) -> None:
    """A player fetched the playlist: keep its lease (written at most every 5 s)."""
    now = timezone.now()
    updated = LiveViewer.objects.filter(
        camera_id=camera_id, user_id=user_id, last_seen__lt=now - timedelta(seconds=5)
    ).update(last_seen=now)
    if not updated and not LiveViewer.objects.filter(camera_id=camera_id, user_id=user_id).exists():
        LiveViewer.objects.get_or_create(camera_id=camera_id, user_id=user_id, defaults={"last_seen": now})


def playlist_ready(camera_id: int) -> bool:
    """The live playlist exists, is fresh, and lists at least one segment."""
    path = storage.hls_dir(camera_id) / ffmpeg.PLAYLIST
    try:
        if time.time() - path.stat().st_mtime > settings.MEDIA_STALL_TIMEOUT:
            return False
        return "#EXTINF" in path.read_text()
    except (FileNotFoundError, OSError):
        return False


def wait_until_playable(camera_ids: list[int], timeout: float | None = None) -> set[int]:
    """Wait until each camera's playlist is playable (or the timeout); return the ready ones."""
    deadline = time.monotonic() + (settings.MEDIA_READY_TIMEOUT if timeout is None else timeout)
    ready: set[int] = set()
    while True:
        ready |= {c for c in camera_ids if c not in ready and playlist_ready(c)}
        if len(ready) == len(camera_ids) or time.monotonic() >= deadline:
            return ready
        time.sleep(0.2)


def not_ready_error(camera: Camera) -> ServiceUnavailable:
    if not supervisor_alive():
        return ServiceUnavailable(_("The media supervisor (run_media) is not running."), code="media_down")
    channel = MediaChannel.objects.filter(camera=camera).first()
    detail = f": {channel.last_error}" if channel and channel.last_error else ""
    return ServiceUnavailable(_("The stream is not playable yet%(detail)s. Retry.") % {"detail": detail}, "not_ready")


def signed_token(*, camera_id: int, user_id: int, generation: int = 0) -> str:
    """A live-stream token, valid MEDIA_URL_TTL seconds (players renew it: the live page re-fetches
    its URL before then) and only while the user's token generation is unchanged (a password, role
    or active change, a logout everywhere). Never logged: lprnvr.redaction masks it."""
    return signing.dumps({"c": camera_id, "u": user_id, "g": generation}, salt=URL_SALT, compress=True)


def read_token(token: str) -> tuple[int, int, int] | None:
    """(camera id, user id, token generation) of a valid, unexpired token, else None."""
    try:
        data = signing.loads(token, salt=URL_SALT, max_age=settings.MEDIA_URL_TTL)
        return int(data["c"]), int(data["u"]), int(data.get("g", 0))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def token_still_allowed(camera_id: int, user_id: int, generation: int) -> bool:
    """The token's user is still active, with the same token generation, and still allowed on the
    camera (cached briefly: players poll). What every signed media URL (live, playback) checks."""
    from django.core.cache import cache

    from accounts.models import User

    key = f"recordings:hls-allowed:{camera_id}:{user_id}:{generation}"
    allowed = cache.get(key)
    if allowed is None:
        user = User.objects.filter(id=user_id, is_active=True, token_generation=generation).first()
        allowed = bool(user and Camera.objects.visible_to(user).filter(id=camera_id).exists())
        cache.set(key, allowed, 10)
    return allowed


def hls_url(*, camera: Camera, user) -> str:
    """A URL any player can open without headers: the token in the path, so relative segment URLs keep it."""
    token = signed_token(camera_id=camera.id, user_id=user.id, generation=user.token_generation)
    return f"/api/cameras/streams/{token}/{ffmpeg.PLAYLIST}"


def hls_file(camera_id: int, name: str) -> Path | None:
    """The HLS file of a camera by name, or None: names are checked, never joined blindly (no traversal)."""
    if not HLS_FILE.match(name):
        return None
    folder = storage.hls_dir(camera_id).resolve()
    path = (folder / name).resolve()
    return path if path.parent == folder and path.is_file() else None


# --- recordings ---------------------------------------------------------------------------------
def start_recording(*, camera: Camera, user, duration: int | None) -> Recording:
    """A recording of `duration` seconds (or until stopped) from now. 429 over the user's limit, 507 when full."""
    if not camera.is_active:
        # A disabled or retired camera is never run: the recording would hold no video.
        raise Conflict(_("This camera is disabled."), code="camera_disabled")
    fault = storage.root_fault(indexed=Segment.objects.exists())
    if fault is not None:
        raise ServiceUnavailable(
            _("Recording is stopped: the recordings storage is not usable (%(id)s).") % {"id": fault.id},
            code="recordings_storage",
        )
    if not retention.can_accept_recording():
        raise InsufficientStorage(_("Not enough disk space for a new recording."))
    with transaction.atomic():
        active = Recording.objects.active().filter(user=user).select_for_update()
        if len(active) >= settings.MAX_RECORDINGS_PER_USER:
            raise LimitReached(
                _("You already have %(n)d active recordings (the maximum).") % {"n": settings.MAX_RECORDINGS_PER_USER},
                code="max_recordings",
            )
        now = timezone.now()
        wake_supervisor()
        return Recording.objects.create(
            camera=camera,
            camera_ip=camera.address,
            user=user,
            start_time=now,
            end_time=now + timedelta(seconds=duration) if duration else None,
        )


def stop_recordings(*, camera: Camera, user) -> int:
    """Stop the active recordings on a camera: the user's own, or every one for an administrator."""
    now = timezone.now()
    recs = Recording.objects.filter(camera=camera, status=RecordingStatus.RECORDING).filter(
        Q(end_time__isnull=True) | Q(end_time__gt=now)
    )
    if not user.is_admin:
        recs = recs.filter(user=user)
    # Anchored: a stopped recording is not moved to the camera's first frame any more.
    wake_supervisor()
    return recs.update(end_time=now, anchored=True, stopped_reason="stopped by user")


def delete_recording(*, recording: Recording) -> None:
    """Delete a recording and the video nothing else keeps (another recording, continuous retention)."""
    if recording.file_path:
        Path(recording.file_path).unlink(missing_ok=True)
    camera_id = recording.camera_id
    recording.delete()
    if camera_id is not None:
        retention.remove_unkept_after_delete(camera_id)


def set_continuous(*, camera: Camera, continuous: bool, retention_days: int | None) -> MediaChannel:
    channel, _ = MediaChannel.objects.get_or_create(camera=camera)
    channel.continuous = continuous
    if retention_days is not None:
        channel.retention_days = retention_days
    channel.save(update_fields=["continuous", "retention_days", "updated_at"])
    wake_supervisor()
    return channel
