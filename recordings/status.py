"""What a camera's video is doing now, in words: the state the dashboard, the camera pages and the
camera API show (recording, live, reconnecting, down...), its last frame, and its last error as a
sentence a person can act on (never an RTSP URL: errors are stored redacted and redacted again here).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cameras.clients import ffprobe
from lprnvr.redaction import redact

from . import storage
from .clients import ffmpeg
from .models import MediaChannel, ProcessState, Recording, Segment

RECORDING, LIVE, RECONNECTING, DOWN, IDLE, OFF = "recording", "live", "reconnecting", "down", "idle", "off"
STATE_LABELS = {
    RECORDING: gettext_lazy("Recording"),
    LIVE: gettext_lazy("Live, not recording"),
    RECONNECTING: gettext_lazy("Reconnecting"),
    DOWN: gettext_lazy("Down"),
    IDLE: gettext_lazy("Not streaming (nobody watching or recording)"),
    OFF: gettext_lazy("Switched off"),
}
_URL_PREFIX = re.compile(r"^\w+://\S+?:\s+")
#: The order the dashboard lists states in: trouble first.
STATE_ORDER = [DOWN, RECONNECTING, RECORDING, LIVE, IDLE, OFF]


def with_media_status(cameras):
    """Cameras annotated with what the camera list shows of their media: the media row, whether a
    recording is active now (`has_active_recording`) and the end of their newest segment
    (`newest_segment_end`)."""
    # Newest by start (a camera's segments follow each other): the (camera, start) index answers it.
    newest = Segment.objects.filter(camera=OuterRef("pk")).order_by("-start").values("end")[:1]
    return cameras.select_related("media").annotate(
        has_active_recording=Exists(Recording.objects.active().filter(camera=OuterRef("pk"))),
        newest_segment_end=Subquery(newest),
    )


def channel_of(camera) -> MediaChannel | None:
    try:
        return camera.media
    except MediaChannel.DoesNotExist:
        return None


def _active_recording(camera) -> bool:
    value = getattr(camera, "has_active_recording", None)
    if value is None:
        value = Recording.objects.active().filter(camera=camera).exists()
    return bool(value)


def is_recording(camera) -> bool:
    """Seed 002's `is_recording`: a recording of the camera is active (even while its stream
    reconnects), or the camera records 24/7 and its process runs."""
    if _active_recording(camera):
        return True
    channel = channel_of(camera)
    return channel is not None and channel.continuous and channel.state == ProcessState.RUNNING


def playlist_mtime(camera_id: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(storage.hls_dir(camera_id) / ffmpeg.PLAYLIST).st_mtime, tz=UTC)
    except OSError:
        return None


def last_frame(camera) -> datetime | None:
    """When the camera last gave us video: the newer of its newest segment's end and the live playlist's
    last write (ffmpeg rewrites it every HLS segment while the stream runs)."""
    newest = getattr(camera, "newest_segment_end", None)
    if newest is None and not hasattr(camera, "newest_segment_end"):
        newest = Segment.objects.filter(camera=camera).aggregate(end=Max("end"))["end"]
    times = [t for t in (newest, playlist_mtime(camera.pk), camera.last_seen) if t is not None]
    return max(times) if times else None


def state_of(camera) -> str:
    """One of RECORDING, LIVE, RECONNECTING, DOWN, IDLE, OFF."""
    if not camera.is_active or camera.retired_at is not None:
        return OFF
    channel = channel_of(camera)
    if channel is None or channel.state == ProcessState.IDLE:
        return IDLE
    if channel.state == ProcessState.RUNNING:
        return RECORDING if is_recording(camera) else LIVE
    if channel.state == ProcessState.DOWN:
        return DOWN
    return RECONNECTING  # starting or backing off


def failure_in_words(kind: str) -> str:
    """A stream failure (`cameras.clients.ffprobe.FAILURE_*`) as a sentence."""
    return {
        ffprobe.FAILURE_AUTH: _("The camera refused the user name or password."),
        ffprobe.FAILURE_TIMEOUT: _("The camera did not answer in time."),
        ffprobe.FAILURE_UNREACHABLE: _("The camera cannot be reached on the network."),
        ffprobe.FAILURE_NO_STREAM: _("The camera has no video stream at that address."),
    }.get(kind, _("The video stream failed."))


def error_in_words(text: str) -> str:
    """The media process's last error as a sentence, with the device's own reason kept after it."""
    text = redact(text or "").strip()
    if not text:
        return ""
    if text.startswith("recordings storage:"):
        return _("Recording is stopped: the recordings disk cannot be used (%(reason)s).") % {
            "reason": text.removeprefix("recordings storage:").strip()
        }
    if text.startswith("stalled"):
        return _("The camera stopped sending video; the connection is being restarted.")
    reason = failure_in_words(ffprobe.classify(text))
    # ffmpeg says "<url>: <reason>": the reason is what a person needs (the URL is on the camera page).
    detail = _URL_PREFIX.sub("", text.removeprefix("probe:").strip()) or text
    return _("%(reason)s The camera said: %(detail)s") % {"reason": reason, "detail": detail}


@dataclass(frozen=True)
class CameraMedia:
    """A camera's media at a glance."""

    state: str
    label: str
    recording: bool
    continuous: bool
    retention_days: int | None
    last_frame: datetime | None
    error: str  # in words; "" when the stream is fine
    failures: int


def camera_media(camera) -> CameraMedia:
    channel = channel_of(camera)
    state = state_of(camera)
    error = error_in_words(channel.last_error) if channel is not None and state in (RECONNECTING, DOWN) else ""
    return CameraMedia(
        state=state,
        label=str(STATE_LABELS[state]),
        recording=is_recording(camera),
        continuous=bool(channel and channel.continuous),
        retention_days=channel.retention_days if channel else None,
        last_frame=last_frame(camera),
        error=error,
        failures=channel.failures if channel else 0,
    )
