"""A real RTSP server (GStreamer) for the ffprobe step of discovery tests and benchmarks.

Run with Debian's /usr/bin/python3 (the GStreamer bindings exist only there), never the venv:

    /usr/bin/python3 rtsp_server.py '<json config>'

Config: a list of servers, each `{"address": "127.0.0.12", "port": 554, "paths": ["/Streaming/Channels/101"],
"username": "admin", "password": "pw"}` (no username: no authentication; digest otherwise, like the cameras).
GStreamer matches mounts on the path only, so Dahua's `/cam/realmonitor?channel=N&subtype=M` all reach one
mount: the recorder double announces its channel count over HTTP and discovery only probes those. Prints "READY" once
every server listens. One shared low-resolution encoder per path keeps the CPU cost tiny.
"""

import json
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=10/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bframes=0 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def build(spec: dict) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address(spec["address"])
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
    for path in spec["paths"]:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE)
        factory.set_shared(True)
        if role is not None:
            factory.add_role_from_structure(role)
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on {spec['address']}:{spec.get('port', 554)}")
    return server


def main() -> None:
    Gst.init(None)
    specs = json.loads(sys.argv[1])
    servers = [build(spec) for spec in specs]
    print("READY", len(servers), flush=True)
    loop = GLib.MainLoop()
    try:
        loop.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
