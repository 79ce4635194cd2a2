"""Fixtures for the plates tests: fast timeouts and backoffs, and camera doubles registered as cameras."""

from __future__ import annotations

import pytest

from cameras.models import Brand, Camera

from .camera_double import CameraDouble


@pytest.fixture(autouse=True)
def _fast_plates(settings):
    settings.PLATES_CONNECT_TIMEOUT = 0.5
    settings.PLATES_READ_TIMEOUT = 0.6
    settings.PLATES_RETRY_ATTEMPTS = 3
    settings.PLATES_RETRY_BASE_DELAY = 0.05
    settings.PLATES_RETRY_MAX_DELAY = 0.2
    settings.PLATES_LEGACY_WAIT = 20.0
    settings.PLATES_CAMERA_LEASE = 60


@pytest.fixture(autouse=True)
def _reads_dir(settings, tmp_path):
    settings.READS_DIR = tmp_path / "reads"


@pytest.fixture
def doubles():
    """`make(family, **options)` -> (CameraDouble serving on 127.0.0.1, its Camera row)."""
    started: list[CameraDouble] = []

    def make(family: str = "A", *, register: bool = True, password: str = "cam-secret-1", **options):  # noqa: S107
        cam = CameraDouble(family, hang_seconds=2.0, **options).start()
        started.append(cam)
        if not register:
            return cam, None
        camera = Camera.objects.create(
            name=f"Gate {cam.port}",
            ip="127.0.0.1",
            http_port=cam.port,
            brand=Brand.HIKVISION,
            username="admin",
            password=password,
        )
        return cam, camera

    yield make
    for cam in started:
        cam.stop()


@pytest.fixture
def operator(make_user):
    """An admin whose password is known and who opted in to HTTP Digest, as the legacy clients need."""
    return make_user("admin", username="gatekeeper", password="gate-pass-42", legacy_digest=True)


@pytest.fixture
def legacy(live_server, operator):
    """POST to a legacy endpoint over real HTTP with HTTP Digest, as the seed's clients do."""
    import requests
    from requests.auth import HTTPDigestAuth

    def post(path: str, body, auth=("gatekeeper", "gate-pass-42"), **kw):
        return requests.post(
            live_server.url + path, json=body, auth=HTTPDigestAuth(*auth) if auth else None, timeout=60, **kw
        )

    return post
