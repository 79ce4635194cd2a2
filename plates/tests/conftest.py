"""Fixtures for the plates tests: fast timeouts and backoffs, and camera doubles registered as cameras."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from cameras.models import Brand, Camera

from .camera_double import CameraDouble

ROOT = Path(__file__).resolve().parents[2]


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


class Listener:
    """`manage.py run_events` as a child process, on the test database."""

    def __init__(self, env: dict, log_path: Path):
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self) -> Listener:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "run_events"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def listener(transactional_db, settings, tmp_path):
    """The real `manage.py run_events` on the test database, with short polls, silences and backoffs."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "READS_DIR": str(settings.READS_DIR),
        "EVENTS_RUN_DIR": str(tmp_path / "events"),
        "EVENTS_POLL_INTERVAL": "0.3",
        "EVENTS_SILENCE_SECONDS": "2",
        "EVENTS_BACKOFF_STEPS": "0.3,0.5,1",
        "EVENTS_CONNECT_TIMEOUT": "2",
        "EVENTS_BACKFILL_INTERVAL": "0.5",
        "LOG_LEVEL": "DEBUG",
    }
    proc = Listener(env, tmp_path / "run_events.log").start()
    yield proc
    proc.stop()
    assert proc.proc.returncode == 0, proc.log()[-3000:]
