"""Discovery test fixtures: the device doubles "lab" on loopback, and a guard on every target address.

ABSOLUTE RULE: tests send packets only to 127.0.0.0/8 (and multicast only inside a network namespace
the test creates). The guard below fails a test whose code would scan (nmap), probe (WS-Discovery
unicast, ONVIF, ISAPI/CGI/banner HTTP) or ffprobe anything else.
"""

from __future__ import annotations

import ipaddress

import pytest

from cameras.tests.doubles.lab import PASSWORD, USERNAME, Lab

LAB_ADDRESSES = ["127.0.0.17", "127.0.0.18", "127.0.0.19", "127.0.0.20"]
LAB_RANGE = "127.0.0.16/28"
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _assert_loopback(target: str) -> None:
    network = ipaddress.ip_network(target, strict=False)
    assert network.subnet_of(LOOPBACK), f"test tried to reach {target}: only 127.0.0.0/8 is allowed"


@pytest.fixture(autouse=True)
def _discovery_settings(settings, monkeypatch):
    settings.DISCOVERY_WS_MULTICAST = False  # multicast only inside a test's own network namespace
    settings.DEFAULT_NETWORK_RANGE = ""
    settings.ONVIF_TIMEOUT = 3
    settings.DISCOVERY_FFPROBE_TIMEOUT = 5
    settings.DISCOVERY_SCAN_TIMEOUT = 60
    settings.DISCOVERY_HOST_TIMEOUT = 10
    settings.DISCOVERY_API_WAIT = 30
    settings.DISCOVERY_MAX_CHANNELS = 8

    from urllib.parse import urlsplit

    from cameras.clients import ffprobe, http, nmap, onvif, wsdiscovery

    real_scan, real_unicast = nmap.scan, wsdiscovery.probe_unicast
    real_ffprobe, real_get, real_onvif = ffprobe.probe, http.get, onvif.probe

    def guarded_scan(network_range, **kwargs):
        _assert_loopback(network_range)
        return real_scan(network_range, **kwargs)

    def guarded_unicast(hosts, **kwargs):
        for host in hosts:
            _assert_loopback(host)
        return real_unicast(hosts, **kwargs)

    def guarded_ffprobe(url, **kwargs):
        _assert_loopback(urlsplit(url).hostname)
        return real_ffprobe(url, **kwargs)

    def guarded_get(session, url, **kwargs):
        _assert_loopback(urlsplit(url).hostname)
        return real_get(session, url, **kwargs)

    def guarded_onvif(host, *args, **kwargs):
        _assert_loopback(host)
        return real_onvif(host, *args, **kwargs)

    monkeypatch.setattr(nmap, "scan", guarded_scan)
    monkeypatch.setattr(wsdiscovery, "probe_unicast", guarded_unicast)
    monkeypatch.setattr(ffprobe, "probe", guarded_ffprobe)
    monkeypatch.setattr(http, "get", guarded_get)
    monkeypatch.setattr(onvif, "probe", guarded_onvif)


@pytest.fixture(scope="session")
def lab():
    lab = Lab.start(LAB_ADDRESSES)
    yield lab
    lab.stop()


@pytest.fixture
def credentials():
    return {"username": USERNAME, "password": PASSWORD}
