"""What the test suite needs from the machine, checked by function before any test runs.

A missing GStreamer element or ffmpeg muxer used to show up as seven media tests timing out one by
one with a 5XX from the RTSP double. The suite now stops at once, naming what is missing and the
Debian package that provides it (`make test` installs them: scripts/system-deps.sh test).

    python -m tests.preflight      # the same checks, alone; exit status 1 when something is missing

conftest.py runs `problems()` at session start; LPRNVR_SKIP_PREFLIGHT=1 skips it (a developer running a
few unit tests on a machine without the media stack: never in CI).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RTSP_DOUBLE = ROOT / "cameras" / "tests" / "doubles" / "rtsp_server.py"
GST_PYTHON = os.environ.get("GST_PYTHON", "/usr/bin/python3")  # GStreamer's bindings are Debian's interpreter's

# What ffmpeg must have, by section of `ffmpeg -hide_banner -<section>`: the recorder (segment, mp4,
# hls muxers over an rtsp input, audio transcoded to aac), exports (concat demuxer) and ffprobe's checks.
FFMPEG_NEEDS = {
    "muxers": ["segment", "mp4", "hls"],
    "demuxers": ["rtsp", "concat", "mov"],
    "decoders": ["h264", "aac", "pcm_mulaw"],
    "encoders": ["aac"],
}
# Binaries by the package that provides them.
BINARIES = {
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
    "nmap": "nmap",
    "gst-inspect-1.0": "gstreamer1.0-tools",
    "node": "npm (nodejs)",
    "ip": "iproute2",
    "unshare": "util-linux",
    "xgettext": "gettext",  # makemessages, for the Spanish catalogue test
    "msgattrib": "gettext",
}
CHROMIUM = "/usr/bin/chromium"


def load_rtsp_double():
    """The RTSP double's module, for its pipelines and element table (it imports gi only when it runs)."""
    spec = importlib.util.spec_from_file_location("lprnvr_rtsp_double", RTSP_DOUBLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def gstreamer_problems() -> list[str]:
    double = load_rtsp_double()
    out = []
    if not Path(GST_PYTHON).exists():
        return [f"{GST_PYTHON} (Debian's Python, which has the GStreamer bindings): apt-get install python3"]
    probe = _run([GST_PYTHON, "-c", "import gi; [gi.require_version(n, '1.0') for n in ('Gst', 'GstRtsp', "
                  "'GstRtspServer')]; from gi.repository import Gst, GstRtsp, GstRtspServer"])  # fmt: skip
    if probe.returncode != 0:
        out.append(f"GStreamer Python bindings for {GST_PYTHON}: apt-get install {double.BINDINGS_PACKAGES}")
    if not shutil.which("gst-inspect-1.0"):
        return [*out, "gst-inspect-1.0: apt-get install gstreamer1.0-tools"]
    elements = dict.fromkeys(name for launch in double.all_pipelines() for name in double.elements_of(launch))
    unlisted = [name for name in elements if name not in double.ELEMENT_PACKAGES]
    if unlisted:
        out.append(f"elements used by the RTSP double but not in its ELEMENT_PACKAGES: {', '.join(unlisted)}")
    for name in elements:
        if _run(["gst-inspect-1.0", "--exists", name]).returncode != 0:
            package = double.package_of(name)
            out.append(f"GStreamer element {name!r} (gst-inspect-1.0 {name}): apt-get install {package}")
    if not out:
        # The elements exist: can the double really build and start its pipelines here?
        check = _run([GST_PYTHON, str(RTSP_DOUBLE), "--check"], timeout=60)
        if check.returncode != 0:
            out.append(f"the RTSP double cannot build its pipelines: {check.stderr.strip()[-500:]}")
    return out


def ffmpeg_problems() -> list[str]:
    out = []
    if not shutil.which("ffmpeg"):
        return []  # reported with the binaries
    for section, names in FFMPEG_NEEDS.items():
        listing = _run(["ffmpeg", "-hide_banner", f"-{section}"]).stdout
        # Rows look like " DE mp4             MP4 (MPEG-4 Part 14)" or " A....D aac  AAC ...": the name is
        # the second column, and muxer rows may list several names ("mov,mp4,m4a").
        have = {name for line in listing.splitlines() if len(line.split()) > 1 for name in line.split()[1].split(",")}
        out += [f"ffmpeg {section[:-1]} {name!r}: apt-get install ffmpeg" for name in names if name not in have]
    return out


def binary_problems() -> list[str]:
    out = [f"{cmd}: apt-get install {package}" for cmd, package in BINARIES.items() if not shutil.which(cmd)]
    if not Path(CHROMIUM).exists():
        out.append(f"{CHROMIUM} (headless browser tests): apt-get install chromium")
    if not (ROOT / "node_modules" / "playwright-core").is_dir() or not (ROOT / "node_modules" / "hls.js").is_dir():
        out.append("node_modules (hls.js, playwright-core): make assets")
    return out


def tests_use_mqtt() -> bool:
    paths = [*ROOT.glob("*/tests/**/*.py"), *ROOT.glob("lprnvr/*/tests/**/*.py")]  # apps and lprnvr's own apps
    return any("mqtt" in path.read_text(errors="ignore").lower() for path in paths)


def mqtt_problems() -> list[str]:
    if not tests_use_mqtt():
        return []
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
    except OSError:
        return ["an MQTT broker on 127.0.0.1:1883: apt-get install mosquitto (scripts/test-services.sh starts it)"]
    return []


def privilege_problems() -> list[str]:
    # The device doubles listen on ports 80 and 554 of loopback addresses; discovery builds namespaces.
    return [] if os.geteuid() == 0 else ["root: the doubles bind ports 80/554 and the tests create network namespaces"]


def problems() -> list[str]:
    return [*privilege_problems(), *binary_problems(), *gstreamer_problems(), *ffmpeg_problems(), *mqtt_problems()]


def report(found: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in found)
    return f"The test suite cannot run on this machine; missing:\n{lines}\n(`make test` installs these.)"


if __name__ == "__main__":
    found = problems()
    print(report(found) if found else "preflight: everything the tests need is here")
    sys.exit(1 if found else 0)
