"""The fence watchdog of one media node: a separate, Django-free process started by the supervisor.

`python fence_watchdog.py <stamp> <seconds> <supervisor pid>`. The supervisor's lease-renewal thread
touches <stamp> after every renewal. When the stamp is older than <seconds> (a share of
MEDIA_LEASE_SECONDS) and the stamp says other nodes are alive ("shared"), the supervisor is frozen
(SIGSTOP, a stuck VM) or cut off from the database: the cameras may be taken by another node after
the lease, so this kills the supervisor's ffmpeg children first. It exits with its supervisor.
"""

import os
import signal
import sys
import time
from pathlib import Path


def children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"ffmpeg" in cmdline.split(b"\0")[0]:
            pids.append(int(entry.name))
    return pids


def main(stamp: Path, seconds: float, parent: int) -> None:
    while os.getppid() == parent:
        try:
            age = time.time() - stamp.stat().st_mtime
            shared = stamp.read_text().startswith("shared")
        except OSError:
            age, shared = 0.0, False
        if shared and age > seconds:
            for pid in children(parent):
                try:
                    os.kill(pid, signal.SIGKILL)
                    print(f"fence watchdog: lease renewal {age:.1f} s old: killed ffmpeg pid {pid}", flush=True)
                except ProcessLookupError:
                    pass
        time.sleep(0.25)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
