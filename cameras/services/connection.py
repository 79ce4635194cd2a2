"""Asking a camera, now, whether it works: a snapshot and a connection test, for the camera page.

Both talk to the device through the one client of each protocol (ffprobe/ffmpeg for RTSP, the ISAPI
client for Hikvision) and answer in words; the device's own reason is kept, never a credential.
Each is one request per button press: a camera refusing the credentials is never asked twice in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from cameras.clients import errors, ffprobe, isapi
from cameras.models import Brand, Camera
from lprnvr.redaction import redact
from recordings import status as media_status
from recordings.clients import ffmpeg  # the one ffmpeg command line builder


class SnapshotFailed(Exception):
    """No picture could be taken; `str()` says why, in words, with the device's reason."""


@dataclass
class Check:
    """One test of the connection: what was tried, whether it worked, and what came back."""

    name: str
    ok: bool
    summary: str
    detail: str = ""


@dataclass
class ConnectionReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)


def _device_failure(exc: errors.DeviceError) -> str:
    if isinstance(exc, isapi.DeviceLocked):
        return _("The camera locked us out after failed logins.")
    if isinstance(exc, errors.DeviceAuthError):
        return _("The camera refused the user name or password.")
    if isinstance(exc, errors.DeviceTimeout):
        return _("The camera did not answer in time.")
    if isinstance(exc, errors.DeviceUnreachable):
        return _("The camera cannot be reached on the network.")
    return _("The camera answered something we did not understand.")


def _isapi_client(camera: Camera) -> isapi.ISAPIClient:
    timeout = settings.CAMERA_TEST_TIMEOUT
    return isapi.ISAPIClient(
        camera.ip,
        port=camera.http_port,
        username=camera.username,
        password=camera.password,
        timeouts=isapi.Timeouts(timeout, timeout),
        scheme="https" if camera.http_port == 443 else "http",
    )


def test_rtsp(*, camera: Camera) -> Check:
    """ffprobe on the camera's main stream."""
    result = ffprobe.probe(camera.stream_url(), timeout=settings.CAMERA_TEST_TIMEOUT, binary=settings.FFPROBE_BINARY)
    if result.ok:
        summary = _("Video stream found: %(codec)s %(width)dx%(height)d.") % {
            "codec": result.codec,
            "width": result.width,
            "height": result.height,
        }
        return Check(_("RTSP stream"), True, summary)
    return Check(_("RTSP stream"), False, media_status.failure_in_words(result.failure), redact(result.detail))


def test_isapi(*, camera: Camera) -> Check:
    """ISAPI deviceInfo with the camera's credentials (one login attempt)."""
    try:
        with _isapi_client(camera) as client:
            info = client.device_info()
    except errors.DeviceError as exc:
        return Check(_("ISAPI (web service)"), False, _device_failure(exc), redact(str(exc)))
    summary = _("Answered as %(model)s, firmware %(firmware)s, serial %(serial)s.") % {
        "model": info.model or "?",
        "firmware": info.firmware or "?",
        "serial": info.serial or "?",
    }
    return Check(_("ISAPI (web service)"), True, summary)


def test_connection(*, camera: Camera) -> ConnectionReport:
    """The RTSP stream and, for a Hikvision camera, its ISAPI web service."""
    report = ConnectionReport(checks=[test_rtsp(camera=camera)])
    if camera.brand == Brand.HIKVISION:
        report.checks.append(test_isapi(camera=camera))
    return report


def take_snapshot(*, camera: Camera) -> bytes:
    """A JPEG of what the camera sees now: the ISAPI picture for a Hikvision camera, else (or when
    that fails for any reason but refused credentials) a frame of the live RTSP stream."""
    reasons = []
    if camera.brand == Brand.HIKVISION:
        try:
            with _isapi_client(camera) as client:
                return client.picture(camera.channel)
        except errors.DeviceAuthError as exc:  # the stream has the same credentials: do not try again
            raise SnapshotFailed(f"{_device_failure(exc)} ({redact(str(exc))})") from None
        except errors.DeviceError as exc:
            reasons.append(f"ISAPI: {redact(str(exc))}")
    try:
        return ffmpeg.snapshot(
            camera.stream_url(),
            binary=settings.FFMPEG_BINARY,
            timeout=settings.CAMERA_TEST_TIMEOUT * 2,
            socket_timeout=settings.CAMERA_TEST_TIMEOUT,
        )
    except ffmpeg.FFmpegError as exc:
        reasons.append(f"RTSP: {redact(str(exc))}")
    kind = ffprobe.classify(" ".join(reasons))
    raise SnapshotFailed(f"{media_status.failure_in_words(kind)} ({'; '.join(reasons)})")
