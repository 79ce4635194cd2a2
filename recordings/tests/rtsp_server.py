"""A real RTSP server for tests and benchmarks: GStreamer's gst-rtsp-server with a live H.264 test source.

Run it with Debian's interpreter, which has the GStreamer bindings (not the project's virtualenv):

    /usr/bin/python3 recordings/tests/rtsp_server.py --port 8554 [--size 1280x720] [--bframes 0] [--audio]

It binds 127.0.0.1 only and serves `/stream1` and `/stream2` (and `/stream<N>` for N up to --paths), each
from a shared media factory: one encoder per path whatever the number of clients. The source is live
(`is-live=true`), so clients see a stream that never ends, like a camera. Prints "ready <port>" on stdout
once it listens.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def pipeline(width: int, height: int, fps: int, bitrate: int, bframes: int, audio: str, pattern: int) -> str:
    video = (
        f"videotestsrc is-live=true pattern={pattern} ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! clockoverlay ! x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate} "
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=800, help="kbit/s")
    parser.add_argument("--bframes", type=int, default=0)
    parser.add_argument("--audio", choices=["none", "aac", "pcmu"], default="none")
    parser.add_argument("--paths", type=int, default=2, help="serve /stream1 .. /streamN")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for n in range(1, args.paths + 1):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(pipeline(width, height, args.fps, args.bitrate, args.bframes, args.audio, n % 20))
        factory.set_shared(True)
        mounts.add_factory(f"/stream{n}", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
