"""The site's camera password goes only to the device being identified (issue 10).

An ONVIF double whose answers (GetCapabilities XAddrs, GetStreamUri) name a second, "foreign" host on
loopback, which records every connection: nothing may reach it, with credentials or without.
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest

from cameras.clients import onvif
from cameras.clients.errors import DeviceProtocolError
from cameras.clients.nmap import HostPorts
from cameras.identify import identify_host
from cameras.services import discovery
from cameras.tests.doubles.http_devices import Device, OnvifHandler, Running, start_http
from cameras.tests.doubles.lab import PASSWORD, USERNAME

DEVICE = "127.0.0.40"
FOREIGN = "127.0.0.41"


class _Recorder:
    """A TCP listener that remembers who connected and what they sent first."""

    def __init__(self, address: str, port: int):
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(4096))
            except OSError:
                self.received.append(b"")
            conn.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone leaves it bound)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def misdirecting_device():
    running = Running()
    device = Device(DEVICE, USERNAME, PASSWORD, manufacturer="Acme", model="NAT-1", advertised_host=FOREIGN)
    foreign = Device(FOREIGN, USERNAME, PASSWORD, manufacturer="Thief", model="X")
    start_http(running, OnvifHandler, device, 80)
    start_http(running, OnvifHandler, foreign, 80)
    rtsp = _Recorder(FOREIGN, 554)
    yield device, foreign, rtsp
    rtsp.close()
    running.stop()


def test_xaddrs_and_stream_uris_naming_another_host_are_rewritten_to_the_device(misdirecting_device):
    device, foreign, _rtsp = misdirecting_device
    found = onvif.probe(DEVICE, 80, USERNAME, PASSWORD, timeout=3)
    assert found.model == "NAT-1"  # the media service was reached at the device's own address
    assert "GetProfiles" in device.calls and "GetStreamUri" in device.calls
    assert [p.stream_uri for p in found.profiles] == [f"rtsp://{DEVICE}:554/onvif1", f"rtsp://{DEVICE}:554/onvif2"]
    assert foreign.calls == []


def test_discovery_never_connects_to_the_named_host_with_credentials(misdirecting_device, settings):
    _device, foreign, rtsp = misdirecting_device
    settings.DISCOVERY_FFPROBE_TIMEOUT = 2
    report = identify_host(HostPorts(ip=DEVICE, open_ports=[80, 554]), username=USERNAME, password=PASSWORD, timeout=3)
    assert report.login == "ok" and report.model == "NAT-1"
    assert report.candidates
    assert {urlsplit(c.url).hostname for c in report.candidates} == {DEVICE}
    # Every candidate is probed (nothing serves RTSP at the device here: they fail, at the device).
    discovery._validate([report], username=USERNAME, password=PASSWORD, progress=_NoProgress())
    assert foreign.calls == []
    assert rtsp.received == []


def test_a_redirect_to_another_host_is_not_followed(misdirecting_device):
    _device, foreign, _rtsp = misdirecting_device
    running = Running()

    class Redirecting(OnvifHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send(307, b"", headers={"Location": f"http://{FOREIGN}/onvif/device_service"})

    redirecting = Device("127.0.0.42", USERNAME, PASSWORD)
    start_http(running, Redirecting, redirecting, 80)
    try:
        with pytest.raises(DeviceProtocolError):
            onvif.probe(redirecting.address, 80, USERNAME, PASSWORD, timeout=3)
    finally:
        running.stop()
    assert foreign.calls == []


def test_on_device_keeps_own_addresses_and_rewrites_others():
    assert onvif.on_device("http://10.0.0.5:8080/onvif/media", "10.0.0.5", 80) == "http://10.0.0.5:8080/onvif/media"
    assert onvif.on_device("http://192.168.1.64/onvif/media", "10.0.0.5", 8899) == "http://10.0.0.5:8899/onvif/media"
    assert onvif.on_device("rtsp://evil.example:10554/live?a=1", "10.0.0.5", 80) == "rtsp://10.0.0.5:10554/live?a=1"
    assert onvif.on_device("rtsp://u:p@10.0.0.5/x", "10.0.0.5", 80) == "rtsp://10.0.0.5/x"
    assert onvif.on_device("not a url", "10.0.0.5", 80).startswith("http://10.0.0.5:80/")


class _NoProgress:
    def update(self, *args, **kwargs) -> None:
        pass
