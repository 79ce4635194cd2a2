"""Media fixtures: a real GStreamer RTSP server on 127.0.0.1 and a real `manage.py run_media` supervisor.

Both run as child processes of the test; the supervisor reads the test database, so tests using it
need committed rows (`transactional_db`, which these fixtures request).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.waiting import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / "cameras" / "tests" / "doubles" / "rtsp_server.py"  # the one RTSP double
SYSTEM_PYTHON = "/usr/bin/python3"  # GStreamer's Python bindings exist only for Debian's interpreter


class RtspServer:
    """GStreamer's RTSP server with live H.264 test sources at rtsp://127.0.0.1:<port>/stream<N>."""

    def __init__(self, port: int, *extra: str) -> None:
        self.port, self.extra, self.proc = port, list(extra), None

    def url(self, n: int = 1) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream{n}"

    def start(self) -> RtspServer:
        # Its stderr goes to a file: GStreamer's warnings must not fill a pipe nobody reads, and a
        # server that cannot build its pipeline says why there (shown in the assertion below).
        with tempfile.TemporaryFile("w+") as errors:
            self.proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), *self.extra],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            line = self.proc.stdout.readline()
            if not line.startswith("ready"):
                self.proc.wait(10)
                errors.seek(0)
                raise AssertionError(f"RTSP server did not start (exit {self.proc.returncode}): {errors.read()}")
        return self

    def stop(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def rtsp_server():
    server = RtspServer(free_port()).start()
    yield server
    server.stop()


class SupervisorProcess:
    """`manage.py run_media` as a child process, on the test database and the test's folders."""

    def __init__(self, env: dict, log_path: Path) -> None:
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self) -> SupervisorProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_media"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def media_env(transactional_db, settings, tmp_path):
    """Settings shared by the test process and its supervisor child (same folders, same database)."""
    settings.MEDIA_RUN_DIR = tmp_path / "run"
    settings.MEDIA_READY_TIMEOUT = 25
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "RECORDINGS_DIR": str(settings.RECORDINGS_DIR),
        "HLS_OUTPUT_DIR": str(settings.HLS_OUTPUT_DIR),
        "MEDIA_RUN_DIR": str(settings.MEDIA_RUN_DIR),
        "MEDIA_BACKOFF_STEPS": "0.5,1,2,3",
        "MEDIA_SOCKET_TIMEOUT": "3",
        "MEDIA_STALL_TIMEOUT": "8",
        "MEDIA_POLL_INTERVAL": "0.5",
        "DISK_FREE_FLOOR_BYTES": str(settings.DISK_FREE_FLOOR_BYTES),
        "LOG_LEVEL": "DEBUG",
    }
    return env


@pytest.fixture
def supervisor(media_env, tmp_path):
    proc = SupervisorProcess(media_env, tmp_path / "run_media.log").start()
    yield proc
    proc.stop()
    # Nothing may outlive the supervisor.
    from recordings import storage
    from recordings.clients import ffmpeg

    mine = storage.instance_id() + "/"
    wait_for(lambda: not [p for p, m in ffmpeg.find_leftovers() if m.startswith(mine)], 15, message="ffmpeg exit")


@pytest.fixture
def ffprobe_duration():
    def probe(path) -> float:
        out = subprocess.run(
            [settings.FFPROBE_BINARY, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return float(out.stdout.strip())

    return probe
