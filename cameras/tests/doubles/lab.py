"""A small "site" of device doubles on loopback addresses, for tests and `bench/discovery.py`.

    lab = Lab.start(["127.0.0.17", "127.0.0.18", "127.0.0.19", "127.0.0.20"])
    ...
    lab.stop()

Addresses, in order: an ONVIF camera (clock 7 h off, WS-Discovery unicast responder), a Hikvision camera
(ISAPI + RTSP digest), a Dahua 4-channel DVR (CGI + 37777 + RTSP), an XMEye 2-channel DVR (34567 +
uc-httpd + credentials in the RTSP path). One GStreamer process serves every RTSP path (Debian's python3).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import wsd_responder
from .hikvision import HikvisionCamera
from .http_devices import (
    DahuaHandler,
    Device,
    OnvifHandler,
    Running,
    XMEyeHandler,
    start_http,
    start_tcp,
)

GST_PYTHON = os.environ.get("GST_PYTHON", "/usr/bin/python3")
RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")
# Small, cheap streams: discovery only probes them.
LAB_STREAM = {"size": "320x240", "fps": 10, "bitrate": 300, "pattern": "ball", "overlay": False}
USERNAME = "admin"
PASSWORD = "Cam-pass:1@x"  # URL-hostile on purpose: templates must quote it


@dataclass
class Lab:
    onvif: Device
    hikvision: Device
    dahua: Device
    xmeye: Device
    running: Running = field(default_factory=Running)
    rtsp: subprocess.Popen | None = None
    hikvision_camera: HikvisionCamera | None = None  # the one Hikvision double, serving `hikvision`
    wsd_received: list = field(default_factory=list)
    _sockets: list = field(default_factory=list)

    @property
    def devices(self) -> list[Device]:
        return [self.onvif, self.hikvision, self.dahua, self.xmeye]

    @classmethod
    def start(cls, addresses: list[str], *, extra_onvif: list[str] = ()) -> Lab:
        a_onvif, a_hik, a_dahua, a_xm = addresses
        lab = cls(
            onvif=Device(a_onvif, USERNAME, PASSWORD, manufacturer="Acme Vision", model="AV-IPC200",
                         serial="AV200-0001", mac="00:12:34:00:00:17", firmware="2.4.1",
                         clock_offset=dt.timedelta(hours=-7)),
            hikvision=Device(a_hik, USERNAME, PASSWORD, model="DS-2CD2155FWD-I",
                             serial="DS-2CD2155FWD-I20170725AAWR123456789", mac="44:19:b6:00:00:18", firmware="V5.5.0"),
            dahua=Device(a_dahua, USERNAME, PASSWORD, model="DH-XVR5104HS-X", serial="6G0ABCDPAZ00019",
                         mac="3c:ef:8c:00:00:19", firmware="4.001.0000000.3.R,build:2020-06-01", channels=4),
            xmeye=Device(a_xm, USERNAME, PASSWORD, channels=2),
        )  # fmt: skip
        try:
            lab._start_http()
            lab._start_rtsp()
        except BaseException:
            lab.stop()
            raise
        return lab

    def _start_http(self) -> None:
        start_http(self.running, OnvifHandler, self.onvif, 80)
        hik = self.hikvision
        self.hikvision_camera = HikvisionCamera(
            "A", host=hik.address, port=80, username=hik.username, password=hik.password, model=hik.model,
            serial=hik.serial, mac=hik.mac, firmware=hik.firmware, channels=hik.channels, calls=hik.calls,
            auth_body="html",
        ).start()  # fmt: skip
        start_tcp(self.running, self.hikvision.address, 8000)
        start_http(self.running, DahuaHandler, self.dahua, 80)
        start_tcp(self.running, self.dahua.address, 37777)
        start_http(self.running, XMEyeHandler, self.xmeye, 80)
        start_tcp(self.running, self.xmeye.address, 34567)
        sock, self.wsd_received = wsd_responder.start_thread(
            self.onvif.address,
            xaddr=f"http://{self.onvif.address}/onvif/device_service",
            scopes=["onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/name/Lobby%20camera",
                    "onvif://www.onvif.org/hardware/AV-IPC200"],
        )  # fmt: skip
        self._sockets.append(sock)

    def rtsp_specs(self) -> list[dict]:
        xm_paths = [
            f"/user={quote(USERNAME, safe='')}&password={quote(PASSWORD, safe='')}&channel={ch}&stream={st}.sdp"
            for ch in range(1, self.xmeye.channels + 1)
            for st in (0, 1)
        ]
        hik_paths = [f"/Streaming/Channels/{ch}0{st}" for ch in range(1, self.hikvision.channels + 1) for st in (1, 2)]
        specs = [
            {"address": self.onvif.address, "port": 554, "paths": ["/onvif1", "/onvif2"],
             "username": USERNAME, "password": PASSWORD},
            {"address": self.hikvision.address, "port": 554, "paths": hik_paths, "username": USERNAME,
             "password": PASSWORD},
            {"address": self.dahua.address, "port": 554, "paths": ["/cam/realmonitor"], "username": USERNAME,
             "password": PASSWORD},
            {"address": self.xmeye.address, "port": 554, "paths": xm_paths},
        ]  # fmt: skip
        return [{**LAB_STREAM, **spec} for spec in specs]

    def _start_rtsp(self) -> None:
        self.rtsp = subprocess.Popen(
            [GST_PYTHON, str(RTSP_SERVER), "--config", json.dumps(self.rtsp_specs())],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline, said = time.monotonic() + 20, []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.rtsp.stdout], [], [], 0.5)
            if ready:
                line = self.rtsp.stdout.readline()
                if line.startswith("ready"):
                    return
                said.append(line)
                if not line and self.rtsp.poll() is not None:
                    break
        output = "".join(said).strip()
        raise RuntimeError(f"GStreamer RTSP server did not start (exit {self.rtsp.poll()}): {output}")

    def stop(self) -> None:
        self.running.stop()
        if self.hikvision_camera is not None:
            self.hikvision_camera.stop()
        for sock in self._sockets:
            sock.close()
        if self.rtsp is not None and self.rtsp.poll() is None:
            self.rtsp.terminate()
            try:
                self.rtsp.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.rtsp.kill()
