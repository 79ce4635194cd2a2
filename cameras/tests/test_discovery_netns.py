"""WS-Discovery multicast, for real, but only inside two network namespaces this test creates.

    ns A (198.18.0.1/24) --veth-- ns B (198.18.0.2/24, responder joined to 239.255.255.250)

198.18.0.0/15 is the benchmarking range (RFC 2544); inside the namespaces it reaches nothing else.
Needs root (CAP_NET_ADMIN) like the port-80/554 doubles do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cameras.clients import wsdiscovery
from cameras.services import discovery

ROOT = Path(__file__).resolve().parents[2]
RESPONDER = Path(__file__).with_name("doubles") / "wsd_responder.py"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def namespaces():
    suffix = os.getpid()
    a, b = f"lprnvr-wsd-a{suffix}", f"lprnvr-wsd-b{suffix}"
    veth_a, veth_b = f"wsda{suffix}"[:15], f"wsdb{suffix}"[:15]
    ip("netns", "add", a)
    try:
        ip("netns", "add", b)
        ip("link", "add", veth_a, "netns", a, "type", "veth", "peer", "name", veth_b, "netns", b)
        for ns, dev, address in ((a, veth_a, "198.18.0.1/24"), (b, veth_b, "198.18.0.2/24")):
            ip("-n", ns, "addr", "add", address, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield a, b
    finally:
        subprocess.run(["ip", "netns", "del", a], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", b], capture_output=True, timeout=10)


def test_multicast_probe_finds_the_responder_inside_the_namespaces(namespaces):
    a, b = namespaces
    responder = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, str(RESPONDER), "--bind", "198.18.0.2", "--multicast",
         "--xaddr", "http://198.18.0.2/onvif/device_service", "--scope", "onvif://www.onvif.org/name/Gate"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert responder.stdout.readline().startswith("READY")
        done = subprocess.run(
            ["ip", "netns", "exec", a, sys.executable, "-m", "cameras.clients.wsdiscovery",
             "--interface", "198.18.0.1", "--timeout", "2"],
            capture_output=True, text=True, timeout=20, cwd=ROOT, check=True,
        )  # fmt: skip
    finally:
        responder.terminate()
        responder.wait(timeout=5)
    [match] = json.loads(done.stdout)
    assert match["xaddrs"] == ["http://198.18.0.2/onvif/device_service"]
    assert match["source"] == "198.18.0.2"
    assert "onvif://www.onvif.org/name/Gate" in match["scopes"]


def test_the_scan_multicasts_only_out_of_an_interface_inside_the_range(settings, monkeypatch):
    import ipaddress

    sent = []
    monkeypatch.setattr(wsdiscovery, "probe_multicast", lambda address, **kw: sent.append(address) or [])
    monkeypatch.setattr(discovery, "local_interface_addresses", lambda: ["198.18.0.1", "198.19.5.5"])
    settings.DISCOVERY_WS_MULTICAST = True
    discovery._ws_discovery(ipaddress.ip_network("198.18.0.0/24"), [])
    assert sent == ["198.18.0.1"]
    sent.clear()
    discovery._ws_discovery(ipaddress.ip_network("127.0.0.0/24"), [])  # loopback: never
    assert sent == []
    settings.DISCOVERY_WS_MULTICAST = False
    discovery._ws_discovery(ipaddress.ip_network("198.18.0.0/24"), [])
    assert sent == []
