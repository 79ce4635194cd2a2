"""Cameras as ANPR devices: credentials, the client, refused credentials and locks, the per-camera lease."""

from __future__ import annotations

import random
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from cameras.models import Camera
from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from ..clients import isapi
from ..models import (
    AnprCamera,
    AnprEventSource,
    DefaultCameraCredentials,
)

# --- Cameras as devices ------------------------------------------------------------------------


def camera_credentials(camera: Camera) -> tuple[str, str]:
    if camera.username or camera.password:
        return camera.username, camera.password
    defaults = DefaultCameraCredentials.objects.order_by("-updated_at").first()
    if defaults is not None:
        return defaults.username, defaults.password
    return "", ""


def set_default_credentials(*, username: str, password: str) -> None:
    DefaultCameraCredentials.objects.all().delete()
    DefaultCameraCredentials.objects.create(username=username, password=password)


def anpr_for(camera: Camera) -> AnprCamera:
    device, _ = AnprCamera.objects.get_or_create(camera=camera)
    return device


def client_for_camera(camera: Camera, device: AnprCamera | None = None) -> isapi.ISAPIClient:
    """The ISAPI client for a camera, with the family we already detected and our timeouts."""
    username, password = camera_credentials(camera)
    return isapi.client_for(
        camera.ip,
        port=camera.http_port,
        channel=camera.channel,
        username=username,
        password=password,
        family=(device.family if device else None) or None,
        timeouts=isapi.Timeouts(settings.PLATES_CONNECT_TIMEOUT, settings.PLATES_READ_TIMEOUT),
        page_size=settings.PLATES_SEARCH_PAGE_SIZE,
        batch_size=settings.PLATES_BATCH_SIZE,
    )


def auth_block(camera: Camera, device: AnprCamera) -> str | None:
    """Why we must not talk to this camera now (its credentials were refused), or None.

    A refused password is not tried again until it changes (the lockout counts every try); a lock
    is waited out.
    """
    if device.auth_failed_at is None:
        return None
    if device.locked_until and device.locked_until > timezone.now():
        # The lock is on our address, not on the credentials: new ones would fail too (and count).
        left = int((device.locked_until - timezone.now()).total_seconds()) + 1
        return f"{device.auth_error} (locked for {left} s more; not retried until then)"
    fingerprint = isapi.credentials_fingerprint(*camera_credentials(camera))
    if fingerprint != device.auth_fingerprint:
        return None  # credentials changed since: try them
    if device.locked_until:
        return None  # the lock is over: one more try
    return f"{device.auth_error} (not retried until the camera's credentials are changed)"


def record_auth_failure(camera: Camera, device: AnprCamera, exc: isapi.BadCredentials) -> None:
    device.auth_failed_at = timezone.now()
    device.auth_fingerprint = isapi.credentials_fingerprint(*camera_credentials(camera))
    device.auth_error = str(exc)
    device.locked_until = (
        timezone.now() + timedelta(seconds=exc.unlock_time) if exc.locked and exc.unlock_time else None
    )
    if exc.locked and not exc.unlock_time:
        device.locked_until = timezone.now() + timedelta(seconds=1800)
    device.save(update_fields=["auth_failed_at", "auth_fingerprint", "auth_error", "locked_until"])
    if exc.locked:
        until = device.locked_until.isoformat() if device.locked_until else None
        alerts.emit(kind=EventKind.CAMERA_LOCKED, camera=camera, detail={"locked_until": until, "error": str(exc)})


def clear_auth_failure(camera: Camera) -> None:
    AnprCamera.objects.filter(camera=camera).update(
        auth_failed_at=None, auth_fingerprint="", auth_error="", locked_until=None
    )


def remember_family(device: AnprCamera, client: isapi.ISAPIClient) -> None:
    """Keep the firmware family a client detected. A camera newly known to be ANPR gets a plate-read
    source (armed, EVENTS_AUTO_ENABLE): its reads are kept without anyone having to ask."""
    if client.family and client.family != device.family:
        device.family = client.family
        device.family_detected_at = timezone.now()
        AnprCamera.objects.filter(pk=device.pk).update(
            family=device.family, family_detected_at=device.family_detected_at
        )
        if settings.EVENTS_AUTO_ENABLE:
            # Never changes a source that exists: an administrator's "off" or "listening" stays.
            AnprEventSource.objects.get_or_create(camera_id=device.pk)


def claim_camera(camera_id: int) -> str | None:
    """Take the camera's lease (one job at a time per camera); the token, or None if it is held."""
    AnprCamera.objects.get_or_create(camera_id=camera_id)
    token = secrets.token_hex(8)
    now = timezone.now()
    got = (
        AnprCamera.objects.filter(pk=camera_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=token, lease_until=now + timedelta(seconds=settings.PLATES_CAMERA_LEASE))
    )
    return token if got else None


class LeaseLost(Exception):
    """The camera's lease passed to another job: this attempt stops where it is."""


class CameraLease:
    """A held camera lease, renewed while the attempt works (`keep()` after each batch): an attempt
    longer than PLATES_CAMERA_LEASE keeps the camera, and one whose lease was taken stops."""

    def __init__(self, camera_id: int, token: str):
        self.camera_id, self.token = camera_id, token
        self._renewed = time.monotonic()

    def keep(self) -> None:
        """Renew once a quarter of the lease has passed; LeaseLost if another holder has it now."""
        if time.monotonic() - self._renewed < settings.PLATES_CAMERA_LEASE / 4:
            return
        until = timezone.now() + timedelta(seconds=settings.PLATES_CAMERA_LEASE)
        if not AnprCamera.objects.filter(pk=self.camera_id, lease_owner=self.token).update(lease_until=until):
            raise LeaseLost(f"camera {self.camera_id}: its lease was taken over by another job")
        self._renewed = time.monotonic()


def release_camera(camera_id: int, token: str) -> None:
    AnprCamera.objects.filter(pk=camera_id, lease_owner=token).update(lease_owner="", lease_until=None)


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), capped."""
    base = min(settings.PLATES_RETRY_MAX_DELAY, settings.PLATES_RETRY_BASE_DELAY * 2 ** max(0, attempt - 1))
    return base * (0.5 + random.random())
