"""Small helpers the tests of every app share: waiting for a condition, a free loopback port."""

from __future__ import annotations

import socket
import time


def wait_for(predicate, timeout: float = 15, interval: float = 0.25, message: str = "condition"):
    """The first truthy value of `predicate()`, polled every `interval` s; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
