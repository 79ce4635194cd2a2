"""The discovery job end to end against the lab (nmap -> identify -> templates -> ffprobe -> store)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cameras import services
from cameras.models import Camera, DiscoveredDevice, DiscoveredStream, DiscoveryJob
from cameras.services import devices as devices_service
from cameras.tests.conftest import LAB_RANGE
from cameras.tests.doubles.lab import PASSWORD, USERNAME

pytestmark = pytest.mark.django_db


def scan(network_range: str, username: str = USERNAME, password: str = PASSWORD) -> DiscoveryJob:
    job, cached = services.start_discovery(
        network_range=network_range, username=username, password=password, enqueue=False, refresh=True
    )
    assert not cached
    return services.run_discovery_job(job_id=job.pk)


def streams_of(device: DiscoveredDevice) -> dict[tuple[int, str], DiscoveredStream]:
    return {(s.channel, "sub" if s.substream else "main"): s for s in device.streams.all()}


def test_full_scan_finds_every_device_and_channel(lab, caplog):
    caplog.set_level(logging.DEBUG)
    job = scan(LAB_RANGE)
    assert job.status == DiscoveryJob.Status.SUCCEEDED, job.error
    assert (job.stage, job.progress, job.hosts_total, job.hosts_up, job.devices_found) == ("done", 100, 16, 4, 4)
    assert job.streams_ok == 16 and job.streams_checked == 18  # XMEye channel 3 is the probe that ends the walk
    assert job.started_at and job.finished_at and job.duration_seconds > 0
    devices = {d.ip: d for d in job.devices.all()}

    cam = devices[lab.onvif.address]
    assert (cam.brand, cam.model, cam.serial, cam.mac, cam.channels) == (
        "onvif", "AV-IPC200", "AV200-0001", "00:12:34:00:00:17", 1,
    )  # fmt: skip
    assert set(cam.identified_by) == {"onvif", "ws-discovery"} and cam.onvif_port == 80
    assert cam.name == "Lobby camera"
    assert {k: s.source for k, s in streams_of(cam).items()} == {(1, "main"): "onvif", (1, "sub"): "onvif"}

    hik = devices[lab.hikvision.address]
    assert (hik.brand, hik.model, hik.firmware, hik.mac) == (
        "hikvision", "DS-2CD2155FWD-I", "V5.5.0 build 170725", "44:19:B6:00:00:18",
    )  # fmt: skip
    assert "isapi" in hik.identified_by
    assert streams_of(hik)[(1, "main")].url.endswith("/Streaming/Channels/101")

    dvr = devices[lab.dahua.address]
    assert (dvr.brand, dvr.model, dvr.serial, dvr.channels) == ("dahua", "DH-XVR5104HS-X", "6G0ABCDPAZ00019", 4)
    assert sorted(streams_of(dvr)) == [(c, s) for c in (1, 2, 3, 4) for s in ("main", "sub")]
    assert all(s.status == "ok" and s.codec == "h264" for s in dvr.streams.all())

    xm = devices[lab.xmeye.address]
    assert xm.brand == "xmeye" and xm.channels == 2
    # Channels walked 1, 2, 3: channel 3 answered 404, so the DVR has 2 (the probe that ended the walk
    # is not kept as a stream of the device).
    assert sorted(streams_of(xm)) == [(1, "main"), (1, "sub"), (2, "main"), (2, "sub")]

    # Credentials: wiped from the job, absent from its errors, from every log line and from stored details.
    assert (job.username, job.password) == ("", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, password FROM cameras_discoveryjob WHERE id = %s", [job.pk])
        assert cursor.fetchone() == ("", "")
        cursor.execute("SELECT url FROM cameras_discoveredstream")
        assert all(PASSWORD not in row[0] and "Cam-pass" not in row[0] for row in cursor.fetchall())
    assert "Cam-pass" not in caplog.text
    assert "UsernameToken" not in caplog.text and "PasswordDigest" not in caplog.text  # zeep's DEBUG envelopes
    assert "Cam-pass" not in str(job.errors)
    assert all("Cam-pass" not in s.detail and "Cam-pass" not in s.display_url for s in DiscoveredStream.objects.all())
    # Only the ONVIF calls we mean, no pull-point subscription left on the camera.
    assert "CreatePullPointSubscription" not in lab.onvif.calls


def test_rediscovery_updates_rather_than_duplicates(lab):
    first = scan(f"{lab.hikvision.address}/32")
    device = first.devices.get()
    stream_ids = sorted(device.streams.values_list("pk", flat=True))
    # The device moved (DHCP): the serial still finds it, the IP gets updated.
    DiscoveredDevice.objects.filter(pk=device.pk).update(ip="127.0.0.99")
    second = scan(f"{lab.hikvision.address}/32")
    assert second.devices.get().pk == device.pk
    assert DiscoveredDevice.objects.count() == 1
    device.refresh_from_db()
    assert device.ip == lab.hikvision.address
    assert sorted(device.streams.values_list("pk", flat=True)) == stream_ids
    assert set(device.jobs.all()) == {first, second}


def test_match_order_serial_then_mac_then_ip():
    from cameras.identify import DeviceReport

    by_ip = DiscoveredDevice.objects.create(ip="127.0.0.50")
    by_mac = DiscoveredDevice.objects.create(ip="127.0.0.51", mac="AA:BB:CC:00:00:01")
    by_serial = DiscoveredDevice.objects.create(ip="127.0.0.52", serial="S-1", mac="AA:BB:CC:00:00:09")
    assert devices_service._match_device(DeviceReport(ip="127.0.0.50", open_ports=[])) == by_ip
    assert (
        devices_service._match_device(DeviceReport(ip="127.0.0.50", open_ports=[], mac="AA:BB:CC:00:00:01")) == by_mac
    )
    report = DeviceReport(ip="127.0.0.50", open_ports=[], serial="S-1", mac="AA:BB:CC:00:00:01")
    assert devices_service._match_device(report) == by_serial
    # An address now used by another device (different serial) is not a match.
    other = DeviceReport(ip="127.0.0.52", open_ports=[], serial="S-2")
    assert devices_service._match_device(other) is None


def test_wrong_credentials_stop_at_one_refused_login_per_host(lab):
    lab.hikvision.calls.clear()
    lab.onvif.calls.clear()
    job = scan(f"{lab.onvif.address}/31", password="wrong-pass")  # .16/31: the ONVIF camera only
    job_hik = scan(f"{lab.hikvision.address}/32", password="wrong-pass")
    assert job.status == job_hik.status == "succeeded"
    hik = job_hik.devices.get()
    assert hik.login == "refused" and hik.streams.count() == 0
    assert lab.hikvision.calls.count("/ISAPI/System/deviceInfo") == 2  # challenge + one refused attempt
    assert "/ISAPI/Streaming/channels" not in lab.hikvision.calls
    assert job_hik.errors[0]["reason"] == "auth"
    cam = job.devices.get()
    assert cam.login == "refused"
    assert lab.onvif.calls.count("GetDeviceInformation") == 0
    assert "wrong-pass" not in str(job.errors) + str(job_hik.errors)


def test_results_are_cached_for_cache_ttl(lab, settings):
    settings.CACHE_TTL = 60
    first = scan(f"{lab.hikvision.address}/32")
    job, cached = services.start_discovery(network_range=f"{lab.hikvision.address}/32", username=USERNAME,
                                           password=PASSWORD, enqueue=False)  # fmt: skip
    assert (job.pk, cached) == (first.pk, True)
    # Other credentials are another question: not served from this cache.
    other, cached = services.start_discovery(network_range=f"{lab.hikvision.address}/32", username=USERNAME,
                                             password="other", enqueue=False)  # fmt: skip
    assert other.pk != first.pk and not cached
    fresh, cached = services.start_discovery(network_range=f"{lab.hikvision.address}/32", username=USERNAME,
                                             password=PASSWORD, enqueue=False, refresh=True)  # fmt: skip
    assert fresh.pk != first.pk and not cached


def test_a_job_runs_once():
    job, _ = services.start_discovery(network_range="127.0.0.40/30", enqueue=False)
    DiscoveryJob.objects.filter(pk=job.pk).update(status=DiscoveryJob.Status.SUCCEEDED)
    assert services.run_discovery_job(job_id=job.pk) is None


def test_stale_jobs_are_requeued_then_given_up(monkeypatch, settings):
    from cameras import tasks

    sent = []
    monkeypatch.setattr(tasks.run_discovery_job_task, "delay", lambda job_id: sent.append(job_id))
    lost, _ = services.start_discovery(network_range="127.0.0.40/30", enqueue=False)
    DiscoveryJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    dead, _ = services.start_discovery(network_range="127.0.0.44/30", username="u", password="p", enqueue=False)
    old = timezone.now() - timedelta(seconds=settings.DISCOVERY_JOB_TIMEOUT + 5)
    DiscoveryJob.objects.filter(pk=dead.pk).update(status="running", heartbeat_at=old, attempts=1)
    hopeless, _ = services.start_discovery(network_range="127.0.0.48/30", username="u", password="p", enqueue=False)
    DiscoveryJob.objects.filter(pk=hopeless.pk).update(status="running", heartbeat_at=old, attempts=3)

    assert services.requeue_stale_jobs() == 2
    assert sorted(sent) == sorted([lost.pk, dead.pk])
    dead.refresh_from_db()
    hopeless.refresh_from_db()
    assert dead.status == "pending" and dead.password == "p"
    assert hopeless.status == "failed" and (hopeless.username, hopeless.password) == ("", "")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "required"),
        ("not-a-range", "Not a valid CIDR"),
        ("8.8.8.0/24", "Public ranges"),
        ("10.0.0.0/8", "at most"),
        ("224.0.0.0/24", "cannot hold cameras"),
        ("fe80::/120", "IPv4"),
    ],
)
def test_range_validation(value, message):
    with pytest.raises(services.InvalidRange, match=message):
        services.validate_network_range(value)


def test_range_validation_accepts_private_and_capped_sizes(settings):
    assert str(services.validate_network_range("192.168.1.7/24")) == "192.168.1.0/24"
    settings.DISCOVERY_ALLOW_PUBLIC = True
    assert str(services.validate_network_range("8.8.8.0/24")) == "8.8.8.0/24"
    settings.DISCOVERY_MAX_HOSTS = 16
    with pytest.raises(services.InvalidRange):
        services.validate_network_range("127.0.0.0/27")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("admin:pa:ss@1", ("admin", "pa:ss@1")),
        ('{"username": "admin", "password": "x:y"}', ("admin", "x:y")),
        ({"user": "admin", "pass": "z"}, ("admin", "z")),
        ("admin", ("admin", "")),
        (None, ("", "")),
    ],
)
def test_credentials_formats(value, expected):
    assert services.parse_credentials(value) == expected


@pytest.mark.parametrize("value", ["{bad json", ":nouser", '{"username": 5}', ["a"]])
def test_bad_credentials(value):
    with pytest.raises(services.InvalidCredentials):
        services.parse_credentials(value)


def test_adopt_creates_one_camera_per_channel_with_encrypted_credentials(lab):
    job = scan(f"{lab.dahua.address}/32")
    device = job.devices.get()
    cameras = services.adopt(device_ids=[device.pk])
    assert sorted(c.channel for c in cameras) == [1, 2, 3, 4]
    camera = Camera.objects.get(ip=lab.dahua.address, channel=3)
    assert (camera.brand, camera.username, camera.password) == ("dahua", USERNAME, PASSWORD)
    assert camera.rtsp_url.endswith("channel=3&subtype=0")
    assert camera.stream_url(substream=True) == camera.rtsp_substream_url
    assert camera.rtsp_substream_url.endswith("channel=3&subtype=1")
    assert set(device.streams.values_list("camera__channel", flat=True)) == {1, 2, 3, 4}
    with connection.cursor() as cursor:
        cursor.execute("SELECT password, rtsp_url, rtsp_substream_url FROM cameras_camera WHERE id = %s", [camera.pk])
        assert all("Cam-pass" not in value for value in cursor.fetchone())
    # Adopting again (or after a re-discovery) updates the same rows.
    again = services.adopt(stream_ids=[device.streams.get(channel=3, substream=True).pk])
    assert [c.pk for c in again] == [camera.pk]
    assert Camera.objects.count() == 4


def test_discovery_tasks_go_to_the_discovery_queue():
    from lprnvr.celery import app

    for name in ("cameras.discovery.run_job", "cameras.discovery.requeue_stale"):
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == "discovery"
    assert "cameras.discovery.requeue_stale" in {e["task"] for e in app.conf.beat_schedule.values()}


def test_admin_action_adopts_and_pages_never_show_credentials(admin_user):
    from django.test import Client

    from cameras.models import DiscoveredStream

    device = DiscoveredDevice.objects.create(ip="127.0.0.41", brand="hikvision", model="DS-X", http_port=80,
                                             rtsp_port=554, username="admin", password="adm-secret-7")  # fmt: skip
    DiscoveredStream.objects.create(device=device, url="rtsp://admin:adm-secret-7@127.0.0.41:554/Streaming/Channels/101",
                                    status="ok")  # fmt: skip
    job = DiscoveryJob.objects.create(network_range="127.0.0.40/30", username="admin", password="adm-secret-7")
    job.devices.add(device)
    client = Client()
    client.force_login(admin_user)
    for url in (
        f"/admin/cameras/discovereddevice/{device.pk}/change/",
        f"/admin/cameras/discoveryjob/{job.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert "adm-secret-7" not in page.content.decode()
    response = client.post(
        "/admin/cameras/discovereddevice/", {"action": "adopt_devices", "_selected_action": [device.pk]}
    )
    assert response.status_code == 302
    camera = Camera.objects.get(ip="127.0.0.41")
    assert camera.password == "adm-secret-7" and camera.rtsp_url.endswith("/101")


def test_a_scan_without_credentials_reports_what_needs_them(lab):
    job = scan(f"{lab.onvif.address}/32", username="", password="")
    device = job.devices.get()
    assert device.login == "required" and not job.with_credentials
    assert {s.failure for s in device.streams.all()} == {"auth"}  # the RTSP server asks for them too


def test_validation_caps_sessions_per_device_and_walks_unknown_recorders(monkeypatch, settings):
    import threading
    import time
    from collections import Counter
    from urllib.parse import urlsplit

    from cameras.clients import ffprobe
    from cameras.identify import DeviceReport, template_candidates
    from cameras.services import discovery

    settings.DISCOVERY_FFPROBE_CONCURRENCY = 5
    settings.DISCOVERY_FFPROBE_PER_DEVICE = 2
    running, peak, lock = Counter(), Counter(), threading.Lock()

    probed = Counter()

    def fake_probe(url, **kwargs):
        host = urlsplit(url).hostname
        with lock:
            probed[host] += 1
            running[host] += 1
            running["all"] += 1
            peak[host] = max(peak[host], running[host])
            peak["all"] = max(peak["all"], running["all"])
        time.sleep(0.05)
        with lock:
            running[host] -= 1
            running["all"] -= 1
        ok = not (host == "127.0.0.62" and "channel=4&" in url)  # the unknown recorder has 3 channels
        return ffprobe.StreamProbe(ok=ok, failure="" if ok else "no_stream")

    monkeypatch.setattr(ffprobe, "probe", fake_probe)
    dvr = DeviceReport(ip="127.0.0.61", open_ports=[554], brand="dahua", channels=8, rtsp_port=554)
    dvr.candidates = template_candidates(dvr, list(range(1, 9)), username="u", password="p")
    unknown = DeviceReport(ip="127.0.0.62", open_ports=[554, 34567], brand="xmeye", channels=0, rtsp_port=554)
    unknown.candidates = template_candidates(unknown, [1], username="u", password="p")
    results = discovery._validate([dvr, unknown], username="u", password="p", progress=_NoProgress())
    assert len(results[0]) == 16 and all(r.ok for _c, r in results[0])
    # Walked 1, 2, 3 (working) and 4 (404: the end, not kept as a stream).
    assert sorted((c.channel, r.ok) for c, r in results[1] if not c.substream) == [(1, True), (2, True), (3, True)]
    assert probed["127.0.0.62"] == 8  # fmt: skip
    assert peak["127.0.0.61"] <= 2 and peak["127.0.0.62"] <= 2 and peak["all"] <= 5
    assert peak["all"] >= 3  # both devices were served at once


class _NoProgress:
    def update(self, *args, **kwargs):
        pass


def test_rediscovery_drops_channels_the_device_no_longer_offers(lab):
    device = scan(f"{lab.dahua.address}/32").devices.get()
    services.adopt(stream_ids=[device.streams.get(channel=3, substream=False).pk])
    lab.dahua.channels = 2  # the recorder was reconfigured
    try:
        scan(f"{lab.dahua.address}/32")
    finally:
        lab.dahua.channels = 4
    streams = streams_of(device)
    assert sorted(k for k, s in streams.items() if s.status == "ok") == [
        (1, "main"),
        (1, "sub"),
        (2, "main"),
        (2, "sub"),
    ]
    # Channel 3 had been adopted: kept, marked failed; channel 4 was not: gone.
    assert streams[(3, "main")].status == "failed" and streams[(3, "main")].camera is not None
    assert (4, "main") not in streams
    device.refresh_from_db()
    assert device.channels == 2
