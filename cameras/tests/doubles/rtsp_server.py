"""The one RTSP double: GStreamer's gst-rtsp-server with live H.264 test sources, for tests and benchmarks.

Run it with Debian's interpreter, which has the GStreamer bindings (never the project's virtualenv):

    /usr/bin/python3 rtsp_server.py --port 8554 [--size 1280x720] [--bframes 0] [--audio aac] [--paths 2]
    /usr/bin/python3 rtsp_server.py --config '<json list of servers>'
    /usr/bin/python3 rtsp_server.py --check        # can every pipeline below be built here?

`--port` serves `/stream1` .. `/stream<N>` on 127.0.0.1 (the media tests and benchmarks). `--config` takes
a list of servers, each `{"address": "127.0.0.12", "port": 554, "paths": ["/Streaming/Channels/101"],
"username": "admin", "password": "pw", "size": "320x240", "fps": 10}` (no username: no authentication;
Digest otherwise, like the cameras; the discovery lab). Every path has one shared encoder whatever the
number of clients, and the sources are live (`is-live=true`): clients see a stream that never ends.

Every pipeline is built once before the server listens: an element that is not installed is an error
on stderr naming it and its Debian package, with exit status 2, never a 5XX to the first client.
Prints "ready <port> ..." on stdout once every server listens.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys

# Every element a pipeline below may use, with the Debian package that provides it. The test
# preflight (tests/preflight.py) checks each with gst-inspect-1.0; add an element here when you use it.
ELEMENT_PACKAGES = {
    "videotestsrc": "gstreamer1.0-plugins-base",
    "audiotestsrc": "gstreamer1.0-plugins-base",
    "audioconvert": "gstreamer1.0-plugins-base",
    "audioresample": "gstreamer1.0-plugins-base",
    "clockoverlay": "gstreamer1.0-x",
    "x264enc": "gstreamer1.0-plugins-ugly",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "rtpmp4apay": "gstreamer1.0-plugins-good",
    "mulawenc": "gstreamer1.0-plugins-good",
    "rtppcmupay": "gstreamer1.0-plugins-good",
    "avenc_aac": "gstreamer1.0-libav",
}
BINDINGS_PACKAGES = "python3-gst-1.0 gir1.2-gst-rtsp-server-1.0"


def pipeline(
    *,
    size: str = "640x360",
    fps: int = 25,
    bitrate: int = 800,
    bframes: int = 0,
    audio: str = "none",
    pattern: int | str = 0,
    overlay: bool = True,
) -> str:
    """The launch string of one path: H.264 video (a clock drawn on it), optionally AAC or PCMU audio."""
    width, height = (int(x) for x in size.split("x"))
    video = (
        f"videotestsrc is-live=true pattern={pattern} ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"{'! clockoverlay ' if overlay else ''}! x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate} "
        f"key-int-max={fps} bframes={bframes} ! video/x-h264,profile={'main' if bframes else 'baseline'} "
        "! rtph264pay name=pay0 pt=96 config-interval=1"
    )
    if audio == "aac":
        video += " audiotestsrc is-live=true wave=sine ! audioconvert ! avenc_aac ! rtpmp4apay name=pay1 pt=97"
    elif audio == "pcmu":
        video += (
            " audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! mulawenc ! rtppcmupay name=pay1 pt=0"
        )
    return f"( {video} )"


def all_pipelines() -> list[str]:
    """One launch string of each shape the tests use (every element of ELEMENT_PACKAGES appears)."""
    return [pipeline(audio=audio) for audio in ("none", "aac", "pcmu")] + [pipeline(overlay=False)]


def elements_of(launch: str) -> list[str]:
    """The element names in a gst-launch description (not caps, properties or brackets)."""
    tokens = re.sub(r"[()!]", " ", launch).split()
    return list(dict.fromkeys(t for t in tokens if "=" not in t and "/" not in t))


def package_of(element: str) -> str:
    return ELEMENT_PACKAGES.get(element, "unknown: find it with `apt-file search` or gst-inspect-1.0 on a full system")


def missing_elements(launches: list[str]) -> list[str]:
    from gi.repository import Gst

    names = dict.fromkeys(name for launch in launches for name in elements_of(launch))
    return [name for name in names if Gst.ElementFactory.find(name) is None]


def fail_if_unbuildable(launches: list[str]) -> None:
    """Exit 2 with the missing elements and their packages, or with GStreamer's own parse error."""
    from gi.repository import GLib, Gst

    missing = missing_elements(launches)
    if missing:
        for name in missing:
            print(f"rtsp_server: no GStreamer element {name!r} (Debian package {package_of(name)})", file=sys.stderr)
        raise SystemExit(2)
    for launch in dict.fromkeys(launches):
        try:
            Gst.parse_launch(launch.strip("() "))
        except GLib.Error as exc:
            print(f"rtsp_server: cannot build pipeline {launch!r}: {exc.message}", file=sys.stderr)
            raise SystemExit(2) from exc


def import_bindings():
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtsp", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
    except (ImportError, ValueError) as exc:
        print(f"rtsp_server: GStreamer Python bindings missing ({exc}); install {BINDINGS_PACKAGES}", file=sys.stderr)
        raise SystemExit(2) from exc
    Gst.init(None)
    return GLib, Gst, GstRtsp, GstRtspServer


def launch_for(spec: dict) -> str:
    return pipeline(
        size=spec.get("size", "640x360"),
        fps=int(spec.get("fps", 25)),
        bitrate=int(spec.get("bitrate", 800)),
        bframes=int(spec.get("bframes", 0)),
        audio=spec.get("audio", "none"),
        pattern=spec.get("pattern", 0),
        overlay=spec.get("overlay", True),
    )


def build(spec: dict, GLib, Gst, GstRtsp, GstRtspServer):
    server = GstRtspServer.RTSPServer()
    server.set_address(spec.get("address", "127.0.0.1"))
    server.set_service(str(spec.get("port", 554)))
    mounts = server.get_mount_points()
    role = None
    if spec.get("username"):
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.set_realm("IP Camera(00001)")
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_digest(spec["username"], spec["password"], token)
        server.set_auth(auth)
        role = Gst.Structure.new_from_string(
            "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )
    for n, path in enumerate(spec["paths"], start=1):
        factory = GstRtspServer.RTSPMediaFactory()
        # The pattern differs per path (a looped frame must not match another path's), unless set.
        factory.set_launch(launch_for({"pattern": n % 20, **spec}))
        factory.set_shared(True)
        if role is not None:
            factory.add_role_from_structure(role)
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {spec.get('address', '127.0.0.1')}:{spec.get('port')}", file=sys.stderr)
        raise SystemExit(1)
    return server


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[dict]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="build every pipeline shape, then exit")
    parser.add_argument("--config", help="JSON list of servers (see the module docstring)")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=800, help="kbit/s")
    parser.add_argument("--bframes", type=int, default=0)
    parser.add_argument("--audio", choices=["none", "aac", "pcmu"], default="none")
    parser.add_argument("--paths", type=int, default=2, help="serve /stream1 .. /streamN")
    args = parser.parse_args(argv)
    if args.config:
        return args, json.loads(args.config)
    spec = {"address": "127.0.0.1", "port": args.port, "paths": [f"/stream{n}" for n in range(1, args.paths + 1)]}
    spec.update(size=args.size, fps=args.fps, bitrate=args.bitrate, bframes=args.bframes, audio=args.audio)
    return args, [spec]


def main(argv: list[str]) -> int:
    args, specs = parse_args(argv)
    GLib, Gst, GstRtsp, GstRtspServer = import_bindings()
    if args.check:
        fail_if_unbuildable(all_pipelines())
        print("ok", flush=True)
        return 0
    fail_if_unbuildable([launch_for(spec) for spec in specs])
    servers = [build(spec, GLib, Gst, GstRtsp, GstRtspServer) for spec in specs]
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("ready", " ".join(str(spec.get("port", 554)) for spec in specs), flush=True)
    loop.run()
    del servers
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
