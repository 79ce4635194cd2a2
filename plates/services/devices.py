"""Cameras as ANPR devices: credentials, the client, refused credentials and locks, the per-camera lease."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
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
    """Why we must not talk to this camera now (its credentials were refused), or None."""
    return device.auth_block(isapi.credentials_fingerprint(*camera_credentials(camera)))


def record_auth_failure(camera: Camera, device: AnprCamera, exc: isapi.BadCredentials) -> None:
    device.record_auth_failure(exc, isapi.credentials_fingerprint(*camera_credentials(camera)))
    if exc.locked:
        until = device.locked_until.isoformat() if device.locked_until else None
        alerts.emit(kind=EventKind.CAMERA_LOCKED, camera=camera, detail={"locked_until": until, "error": str(exc)})


def clear_auth_failure(camera: Camera) -> None:
    anpr_for(camera).clear_auth_failure()


class AuthBlocked(isapi.PermanentError):
    """The camera refused these credentials before (or locked us out): not tried again now."""

    def __init__(self, message: str, *, unlock_time: int | None = None):
        super().__init__(message)
        self.unlock_time = unlock_time


@contextmanager
def device_session(camera: Camera, device: AnprCamera | None = None) -> Iterator[isapi.ISAPIClient]:
    """`with device_session(camera) as client:` talks to a camera as an ANPR device, once.

    Refuses (AuthBlocked) a camera whose credentials were refused until they change or its lock
    ends; records refused credentials (BadCredentials) and clears an old refusal when the camera
    takes them; keeps the firmware family the client detected, whatever happened. Errors propagate.
    """
    device = device or anpr_for(camera)
    blocked = auth_block(camera, device)
    if blocked:
        raise AuthBlocked(blocked, unlock_time=device.unlock_left())
    client = client_for_camera(camera, device)
    try:
        yield client
    except isapi.BadCredentials as exc:
        record_auth_failure(camera, device, exc)
        raise
    else:
        device.clear_auth_failure()
    finally:
        remember_family(device, client)


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
    return AnprCamera.claim_lease(camera_id)


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
        if not AnprCamera.renew_lease(self.camera_id, self.token):
            raise LeaseLost(f"camera {self.camera_id}: its lease was taken over by another job")
        self._renewed = time.monotonic()


def release_camera(camera_id: int, token: str) -> None:
    AnprCamera.release_lease(camera_id, token)


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), capped."""
    base = min(settings.PLATES_RETRY_MAX_DELAY, settings.PLATES_RETRY_BASE_DELAY * 2 ** max(0, attempt - 1))
    return base * (0.5 + random.random())
