"""gunicorn settings for every way the web server is started (runstack, Dockerfile, docker-compose):
`gunicorn -c python:lprnvr.gunicorn_conf lprnvr.wsgi:application`.

The access log goes to stdout with every field passed through lprnvr.redaction: the live HLS token
sits in the path (`/api/cameras/streams/<token>/...`) and device credentials in some query strings,
and neither may reach a log file.

Request latencies (monitoring.latency) are kept per worker process: with several workers they go to
files under PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode), set here before any
worker imports prometheus_client, emptied when gunicorn starts (a previous run's figures would add
to ours) and read by /metrics from whichever worker answers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gunicorn.glogging import Logger

from lprnvr.redaction import redact

accesslog = "-"
# Path without the query string: GET /api/cameras/discover carries device credentials there.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
timeout = 120


class RedactingLogger(Logger):
    """gunicorn's logger with every access-log field redacted (request line, path, query, headers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger


def _multiproc_dir() -> Path:
    var = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    return Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(var / "prometheus")))


_multiproc_dir()  # in the environment before the workers fork and import the app


def on_starting(server) -> None:
    folder = _multiproc_dir()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
