"""Secrets generated once and kept under var/ for installs that set none in the environment.

Web, worker, beat and media start at the same time (docker compose) and share var/: each may find the
file missing. The file is written in full under a temporary name and then linked into place, which
fails if another process got there first (O_EXCL semantics): every process ends up with the one key
that won, and nobody ever reads a half-written or empty file as a key.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def _create(path: Path, value: str) -> None:
    """Put `value` at `path` unless a file is already there (then leave that one)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and refuses to replace: the first writer wins
        except FileExistsError:
            pass
        except OSError:
            # A filesystem without hard links: create it exclusively in place. Readers that catch it
            # before the write see it empty, and wait (below) instead of taking "" as the key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
    finally:
        os.unlink(temporary)


def persistent_secret(path: Path, *, wait: float = 5.0) -> str:
    """The secret kept at `path`, generated (atomically) the first time."""
    deadline = time.monotonic() + wait
    while True:
        try:
            value = path.read_text().strip()
        except FileNotFoundError:
            _create(path, secrets.token_urlsafe(50))
            continue
        if value:
            return value
        if time.monotonic() >= deadline:
            raise ImproperlyConfigured(
                f"{path} is empty. Delete it to generate a new secret (data encrypted with the old one is lost), "
                "or set the secret in the environment."
            )
        time.sleep(0.05)  # another process created it and is writing it now
