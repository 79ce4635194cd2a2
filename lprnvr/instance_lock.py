"""One supervisor process of a kind per installation, held by an advisory file lock.

The lock goes with the process (the kernel drops it when the process dies), so a crashed supervisor
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO


def hold_instance_lock(run_dir: str | Path, name: str, command: str) -> IO:
    """Take `<run_dir>/<name>.lock` for this process, or exit saying another `command` holds it.
    Keep the returned file open for as long as the lock must be held."""
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    handle = open(run / f"{name}.lock", "w")  # held open for the process's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise SystemExit(f"another {command} holds the lock") from exc
    return handle
