"""RTSP stream validation with ffprobe: one bounded subprocess per URL, a bounded pool for many.

ffprobe's own messages repeat the URL, credentials included: every text kept from it is redacted.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lprnvr.redaction import redact

FAILURE_AUTH = "auth"
FAILURE_TIMEOUT = "timeout"
FAILURE_NO_STREAM = "no_stream"
FAILURE_UNREACHABLE = "unreachable"
FAILURE_ERROR = "error"


@dataclass
class StreamProbe:
    ok: bool
    failure: str = ""  # one of FAILURE_*
    detail: str = ""  # redacted, short
    codec: str = ""
    width: int = 0
    height: int = 0


def classify(stderr: str) -> str:
    # URLs are removed first: a path or the "?timeout=" option must not look like a status.
    text = re.sub(r"\S+://\S+", " ", stderr).lower()
    if "401" in text or "unauthorized" in text or "403 forbidden" in text:
        return FAILURE_AUTH
    if "timed out" in text or "timeout" in text:
        return FAILURE_TIMEOUT
    if "connection refused" in text or "no route to host" in text or "network is unreachable" in text:
        return FAILURE_UNREACHABLE
    if (
        "404" in text
        or "not found" in text
        or "454" in text
        or "invalid data" in text
        or "no streams" in text
        or "4xx client error" in text
        or "describe failed" in text
    ):
        return FAILURE_NO_STREAM
    return FAILURE_ERROR


def argv(url: str, *, timeout: float, binary: str = "ffprobe") -> list[str]:
    return [
        binary,
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-timeout",
        str(int(timeout * 1_000_000)),  # socket I/O timeout, microseconds (ffmpeg >= 5)
        "-analyzeduration",
        "1000000",
        "-probesize",
        "500000",
        "-show_entries",
        "stream=codec_type,codec_name,width,height",
        "-of",
        "json",
        url,
    ]


def probe(url: str, *, timeout: float = 8, binary: str = "ffprobe") -> StreamProbe:
    """Check that `url` serves a video stream; never raises for device-side failures."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv(url, timeout=timeout, binary=binary),
            capture_output=True,
            text=True,
            timeout=timeout + 5,  # wall clock bound on top of the socket timeout
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return StreamProbe(ok=False, failure=FAILURE_TIMEOUT, detail=f"no answer within {timeout + 5:.0f} s")
    except OSError as exc:
        return StreamProbe(ok=False, failure=FAILURE_ERROR, detail=f"cannot run ffprobe: {exc.strerror}")
    stderr = done.stderr.strip()
    if done.returncode != 0:
        last = stderr.splitlines()[-1] if stderr else f"ffprobe exit {done.returncode}"
        failure = classify(stderr)
        if failure in (FAILURE_NO_STREAM, FAILURE_ERROR) and time.monotonic() - started >= timeout * 0.9:
            # A server that accepts and never answers ends as "Invalid data" once the socket timeout hits.
            failure = FAILURE_TIMEOUT
        return StreamProbe(ok=False, failure=failure, detail=redact(last)[:300])
    try:
        streams = json.loads(done.stdout or "{}").get("streams", [])
    except json.JSONDecodeError:
        streams = []
    video = next((s for s in streams if s.get("codec_type", "video") == "video" and s.get("codec_name")), None)
    if video is None:
        return StreamProbe(ok=False, failure=FAILURE_NO_STREAM, detail="no video stream in the answer")
    return StreamProbe(
        ok=True,
        codec=video.get("codec_name", ""),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
    )


def probe_many(
    urls: list[str], *, timeout: float = 8, concurrency: int = 4, binary: str = "ffprobe", on_result=None
) -> list[StreamProbe]:
    """Probe URLs with at most `concurrency` ffprobe processes at once; results in input order."""
    results: list[StreamProbe | None] = [None] * len(urls)

    def one(index: int) -> None:
        results[index] = probe(urls[index], timeout=timeout, binary=binary)
        if on_result is not None:
            on_result(index, results[index])

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="ffprobe") as pool:
        list(pool.map(one, range(len(urls))))
    return [r for r in results if r is not None]
