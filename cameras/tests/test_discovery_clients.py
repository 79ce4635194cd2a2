"""Device clients against the doubles on loopback: real nmap, real onvif-zeep, real ffprobe + GStreamer."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from pathlib import Path

import pytest

from cameras.clients import dahua, ffprobe, fingerprint, isapi, nmap, onvif, wsdiscovery
from cameras.clients.errors import DeviceAuthError, DeviceUnreachable, ScanError
from cameras.tests.conftest import LAB_RANGE
from cameras.tests.doubles.lab import PASSWORD, USERNAME

DATA = Path(__file__).with_name("data")


def test_nmap_finds_the_doubles_ports(lab):
    hosts = {h.ip: h.open_ports for h in nmap.scan(LAB_RANGE, ports=[80, 554, 8000, 34567, 37777], timeout=30)}
    assert hosts[lab.onvif.address] == [80, 554]
    assert hosts[lab.hikvision.address] == [80, 554, 8000]
    assert hosts[lab.dahua.address] == [80, 554, 37777]
    assert hosts[lab.xmeye.address] == [80, 554, 34567]


def test_nmap_without_host_discovery_finds_the_same(lab):
    hosts = {h.ip: h.open_ports for h in nmap.scan("127.0.0.16/29", ports=[80, 554], timeout=30, skip_ping=True)}
    assert hosts[lab.hikvision.address] == [80, 554]


def test_nmap_argv_is_a_list_and_the_range_must_be_a_network():
    assert nmap.nmap_arguments(host_timeout=5).split()[:2] == ["-sT", "-n"]
    assert "-Pn" not in nmap.nmap_arguments(host_timeout=5).split()
    assert "-Pn" in nmap.nmap_arguments(host_timeout=5, skip_ping=True).split()
    with pytest.raises(ValueError):
        nmap.scan("127.0.0.1/24; rm -rf /", timeout=5)


def test_nmap_wall_clock_bound(monkeypatch):
    import nmap as python_nmap

    def too_slow(self, **kwargs):
        raise python_nmap.PortScannerTimeout("Timeout from nmap process")

    monkeypatch.setattr(python_nmap.PortScanner, "scan", too_slow)
    with pytest.raises(ScanError, match="did not finish"):
        nmap.scan("127.0.0.0/30", timeout=1)


def test_onvif_reads_info_profiles_and_stream_uris(lab):
    device = onvif.probe(lab.onvif.address, 80, USERNAME, PASSWORD, timeout=3)
    assert (device.manufacturer, device.model, device.serial, device.firmware) == (
        "Acme Vision", "AV-IPC200", "AV200-0001", "2.4.1",
    )  # fmt: skip
    assert device.mac == "00:12:34:00:00:17"
    [[main, sub]] = [[p.stream_uri for p in group] for group in device.channels()]
    assert main == f"rtsp://{lab.onvif.address}:554/onvif1"
    assert sub == f"rtsp://{lab.onvif.address}:554/onvif2"


def test_onvif_has_no_pull_point_side_effect_and_keeps_logging_and_environment(lab, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    lab.onvif.calls.clear()
    onvif.probe(lab.onvif.address, 80, USERNAME, PASSWORD, timeout=3)
    assert "CreatePullPointSubscription" not in lab.onvif.calls
    assert lab.onvif.calls[0] == "GetSystemDateAndTime"
    assert root.handlers == handlers and root.level == level
    import os

    assert os.environ["http_proxy"] == "http://127.0.0.1:9"  # the stock constructor pops it


def test_onvif_adjust_time_copes_with_a_wrong_camera_clock(lab):
    assert lab.onvif.clock_offset == dt.timedelta(hours=-7)
    with pytest.raises(DeviceAuthError):
        onvif.probe(lab.onvif.address, 80, USERNAME, PASSWORD, timeout=3, adjust_time=False)
    assert onvif.probe(lab.onvif.address, 80, USERNAME, PASSWORD, timeout=3).model == "AV-IPC200"


def test_onvif_wrong_password_and_dead_host_are_typed(lab):
    with pytest.raises(DeviceAuthError):
        onvif.probe(lab.onvif.address, 80, USERNAME, "wrong", timeout=3)
    with pytest.raises(DeviceUnreachable):
        onvif.probe("127.0.0.31", 80, USERNAME, PASSWORD, timeout=2)


def test_onvif_times_out_on_a_host_that_never_answers():
    from cameras.clients.errors import DeviceTimeout

    with socket.socket() as silent:
        silent.bind(("127.0.0.30", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(DeviceTimeout):
            onvif.probe("127.0.0.30", port, USERNAME, PASSWORD, timeout=1)


def test_hikvision_parses_the_real_device_info_sample():
    device = isapi.parse_device_info((DATA / "deviceinfo_DS-2CD2155FWD-I_V5.5.0.xml").read_bytes())
    assert device.model == "DS-2CD2155FWD-I"
    assert device.firmware == "V5.5.0 build 170725"
    assert device.device_type == "IPCamera"


def test_hikvision_probe_with_digest_and_a_single_refused_login(lab):
    device = isapi.probe(lab.hikvision.address, 80, USERNAME, PASSWORD, timeout=3)
    assert device.serial == "DS-2CD2155FWD-I20170725AAWR123456789"
    assert device.mac == "44:19:B6:00:00:18"
    assert device.channels() == [1]
    assert [s.id for s in device.streams] == [101, 102]
    lab.hikvision.calls.clear()
    with pytest.raises(DeviceAuthError):
        isapi.probe(lab.hikvision.address, 80, USERNAME, "wrong", timeout=3)
    # One challenge and one refused attempt; the channel list is never asked with bad credentials.
    assert lab.hikvision.calls == ["/ISAPI/System/deviceInfo", "/ISAPI/System/deviceInfo"]


def test_dahua_cgi(lab):
    device = dahua.probe(lab.dahua.address, 80, USERNAME, PASSWORD, timeout=3)
    assert (device.model, device.serial, device.channels) == ("DH-XVR5104HS-X", "6G0ABCDPAZ00019", 4)
    assert device.mac == "3C:EF:8C:00:00:19"
    assert device.firmware.startswith("4.001")


def test_brand_fingerprints(lab):
    assert fingerprint.identify_brand(lab.hikvision.address, [80, 554, 8000]) == "hikvision"
    assert fingerprint.identify_brand(lab.dahua.address, [80, 554, 37777]) == "dahua"
    assert fingerprint.identify_brand(lab.dahua.address, [80, 554]) == "dahua"  # digest realm "Login to ..."
    assert fingerprint.identify_brand(lab.xmeye.address, [80, 554, 34567]) == "xmeye"
    assert fingerprint.identify_brand(lab.xmeye.address, [80]) == "xmeye"  # uc-httpd banner
    assert fingerprint.identify_brand(lab.onvif.address, [80, 554]) == ""


def test_ffprobe_validates_and_classifies_failures(lab):
    good = f"rtsp://{USERNAME}:Cam-pass%3A1%40x@{lab.hikvision.address}:554/Streaming/Channels/101"
    result = ffprobe.probe(good, timeout=5)
    assert result.ok and result.codec == "h264" and result.width == 320

    bad = ffprobe.probe(f"rtsp://{USERNAME}:nope@{lab.hikvision.address}:554/Streaming/Channels/101", timeout=5)
    assert (bad.ok, bad.failure) == (False, "auth")
    assert "nope" not in bad.detail

    missing = ffprobe.probe("rtsp://127.0.0.20:554/user=admin&password=secret9&channel=9&stream=0.sdp", timeout=5)
    assert missing.failure == "no_stream"
    assert "secret9" not in missing.detail

    assert ffprobe.probe("rtsp://127.0.0.29:554/x", timeout=3).failure == "unreachable"


def test_ffprobe_timeout_on_a_server_that_accepts_and_stays_silent():
    with socket.socket() as silent:
        silent.bind(("127.0.0.30", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        result = ffprobe.probe(f"rtsp://u:p@127.0.0.30:{port}/x", timeout=1)
    assert result.failure == "timeout"


def test_ffprobe_bounded_concurrency(lab, monkeypatch):
    running, peak, lock = [0], [0], threading.Lock()
    real = ffprobe.probe

    def counting(url, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(url, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(ffprobe, "probe", counting)
    urls = [f"rtsp://127.0.0.29:554/{i}" for i in range(6)]
    results = ffprobe.probe_many(urls, timeout=2, concurrency=2)
    assert [r.failure for r in results] == ["unreachable"] * 6
    assert peak[0] <= 2


def test_ws_discovery_unicast_probe(lab):
    [match] = wsdiscovery.probe_unicast([lab.onvif.address, "127.0.0.29"], timeout=1)
    assert match.xaddrs == [f"http://{lab.onvif.address}/onvif/device_service"]
    assert match.hosts() == [(lab.onvif.address, 80)]
    assert match.scope("name") == "Lobby camera"
    assert match.source == lab.onvif.address


def test_ws_discovery_ignores_answers_to_other_probes():
    from cameras.tests.doubles.wsd_responder import probe_matches

    data = probe_matches("urn:uuid:other", "urn:uuid:x", "http://127.0.0.9/onvif/device_service", [])
    assert wsdiscovery.parse_probe_matches(data, "urn:uuid:mine") == []
    assert len(wsdiscovery.parse_probe_matches(data, "urn:uuid:other")) == 1


def test_log_filter_masks_credentials():
    from lprnvr.redaction import RedactCredentialsFilter

    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"GET /api/cameras/discover?network_range=x&credentials=%s HTTP/1.1"',
        ("admin:s3cret",), None,
    )  # fmt: skip
    RedactCredentialsFilter().filter(record)
    assert "s3cret" not in record.getMessage() and "credentials=***" in record.getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "url rtsp://admin:pw@127.0.0.1/x", None, None)
    RedactCredentialsFilter().filter(record)
    assert record.getMessage() == "url rtsp://***:***@127.0.0.1/x"


def test_configured_console_handler_carries_the_filter():
    from django.conf import settings

    assert "redact_credentials" in settings.LOGGING["handlers"]["console"]["filters"]


def test_onvif_recorder_profiles_group_into_channels_concurrently():
    from concurrent.futures import ThreadPoolExecutor

    from cameras.tests.doubles.http_devices import Device, OnvifHandler, Running, start_http

    running = Running()
    nvrs = [Device(f"127.0.0.{21 + i}", USERNAME, PASSWORD, model=f"NVR-{i}", channels=3) for i in range(3)]
    try:
        for nvr in nvrs:
            start_http(running, OnvifHandler, nvr, 8080)
        with ThreadPoolExecutor(3) as pool:  # the parsed WSDLs are shared between threads
            results = list(pool.map(lambda d: onvif.probe(d.address, 8080, USERNAME, PASSWORD, timeout=3), nvrs * 2))
    finally:
        running.stop()
    assert [r.model for r in results] == ["NVR-0", "NVR-1", "NVR-2"] * 2
    groups = results[0].channels()
    assert [[p.stream_uri.rsplit(":554", 1)[1] for p in g] for g in groups] == [
        ["/onvif/ch1/1", "/onvif/ch1/2"], ["/onvif/ch2/1", "/onvif/ch2/2"], ["/onvif/ch3/1", "/onvif/ch3/2"],
    ]  # fmt: skip


def test_the_guard_is_in_place():
    # Checked without calling anything with a foreign target: a missing guard must not send a packet.
    from cameras.tests.conftest import _assert_loopback

    for function in (nmap.scan, ffprobe.probe, onvif.probe, wsdiscovery.probe_unicast):
        assert function.__name__.startswith("guarded_")
    _assert_loopback("127.0.0.16/28")
    with pytest.raises(AssertionError, match=r"only 127\.0\.0\.0/8"):
        _assert_loopback("192.0.2.0/24")
