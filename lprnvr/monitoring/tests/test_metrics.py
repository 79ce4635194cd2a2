"""/metrics: the Prometheus text, parsed by prometheus_client's own parser after a known sequence of
cameras, media states, segments, plates, reads, jobs and heartbeats; refused without the token or
from an address not allowed."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cameras.models import DiscoveryJob
from cameras.tests.factories import CameraFactory
from lprnvr.monitoring import metrics
from lprnvr.monitoring.heartbeats import beat
from lprnvr.monitoring.models import ServiceHeartbeat
from plates.models import AnprCamera, AnprEventSource, CameraPlate, EventState, PlateJob
from plates.tests.factories import PlateFactory
from recordings import storage
from recordings.models import MediaChannel, Recording, Segment

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-5f2c"


def scrape(client, **headers) -> dict:
    """{(sample name, frozenset of labels): value} of one authorised scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels):
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def world(settings):
    """Three cameras: A records 24/7 and holds plates, B retries and has a recording open, C never ran."""
    settings.METRICS_TOKEN = TOKEN
    settings.SERVICES_EXPECTED = ["media", "events", "beat"]
    now = timezone.now()
    a, b, c = CameraFactory(name="Gate A"), CameraFactory(name="Gate B"), CameraFactory(name="Lobby")
    MediaChannel.objects.create(camera=a, state="running", continuous=True, starts=3)
    MediaChannel.objects.create(camera=b, state="backoff", failures=2, starts=5)
    start = now - timedelta(minutes=10)
    for i, size in enumerate((100, 250)):
        Segment.objects.create(
            camera=a, start=start + timedelta(seconds=10 * i), end=start + timedelta(seconds=10 * (i + 1)),
            size=size, path=f"cam{a.id}/{i}.c.mp4", continuous=True,
        )  # fmt: skip
    Recording.objects.create(camera=b, camera_ip=b.address, start_time=now - timedelta(minutes=1))
    for number in ("AB1234", "CD5678", "EF9012"):
        CameraPlate.objects.create(camera=a, plate=PlateFactory(number=number))
    CameraPlate.objects.create(camera=a, plate=PlateFactory(number="GONE01"), desired=False)
    AnprCamera.objects.create(
        camera=a, drift={"missing": ["EF9012"], "unexpected": ["ZZ1", "ZZ2"], "to_remove": ["GONE01"]},
        plate_count=3, last_synced_at=now - timedelta(minutes=5), locked_until=now + timedelta(minutes=10),
    )  # fmt: skip
    AnprEventSource.objects.create(
        camera=a, state=EventState.CONNECTED, last_read_at=now - timedelta(seconds=60), reads_received=7, reconnects=2
    )
    for status in ("failed", "failed", "running", "succeeded"):
        PlateJob.objects.create(operation="add", status=status)
    DiscoveryJob.objects.create(network_range="127.0.0.0/30", status=DiscoveryJob.Status.PENDING)
    beat(service="media", host="nvr-1")
    beat(service="events", host="nvr-1")
    ServiceHeartbeat.objects.filter(service="events").update(beat_at=now - timedelta(seconds=300))
    return {"a": a, "b": b, "c": c}


def labels_of(camera) -> dict:
    return {"camera_id": str(camera.id), "camera": camera.name}


def test_media_series_per_camera(client, world):
    s = scrape(client)
    a, b, c = (labels_of(world[k]) for k in "abc")
    for camera, current in ((a, "running"), (b, "backoff"), (c, "idle")):
        for state in ("idle", "starting", "running", "backoff", "down"):
            assert value(s, "lprnvr_camera_media_state", **camera, state=state) == (1 if state == current else 0)
    assert value(s, "lprnvr_camera_media_starts_total", **a) == 3
    assert value(s, "lprnvr_camera_media_starts_total", **b) == 5
    assert value(s, "lprnvr_camera_media_starts_total", **c) == 0
    assert value(s, "lprnvr_camera_media_failures", **b) == 2
    assert value(s, "lprnvr_camera_continuous_recording", **a) == 1
    assert value(s, "lprnvr_camera_continuous_recording", **b) == 0
    assert value(s, "lprnvr_camera_recording_active", **a) == 0
    assert value(s, "lprnvr_camera_recording_active", **b) == 1
    assert value(s, "lprnvr_camera_segments", **a) == 2 and value(s, "lprnvr_camera_segments", **c) == 0
    assert value(s, "lprnvr_camera_segment_bytes", **a) == 350
    newest = Segment.objects.filter(camera=world["a"]).latest("end").end.timestamp()
    assert value(s, "lprnvr_camera_last_segment_end_timestamp_seconds", **a) == pytest.approx(newest)
    assert value(s, "lprnvr_camera_last_segment_end_timestamp_seconds", **c) is None  # never recorded


def test_anpr_series(client, world):
    s = scrape(client)
    a, b = labels_of(world["a"]), labels_of(world["b"])
    assert value(s, "lprnvr_anpr_list_plates", **a) == 3
    assert value(s, "lprnvr_anpr_pending_removals", **a) == 1
    assert value(s, "lprnvr_anpr_camera_plates", **a) == 3
    drift = {kind: value(s, "lprnvr_anpr_drift_plates", **a, kind=kind) for kind in metrics_drift_kinds()}
    assert drift == {"missing": 1, "unexpected": 2, "to_remove": 1, "duplicates": 0, "mismatched": 0}
    assert value(s, "lprnvr_anpr_locked", **a) == 1 and value(s, "lprnvr_anpr_credentials_refused", **a) == 0
    assert value(s, "lprnvr_anpr_last_sync_timestamp_seconds", **a) == pytest.approx(
        AnprCamera.objects.get().last_synced_at.timestamp()
    )
    assert value(s, "lprnvr_anpr_list_plates", **b) is None  # not an ANPR camera
    assert value(s, "lprnvr_anpr_events_state", **a, state="connected") == 1
    assert value(s, "lprnvr_anpr_events_state", **a, state="backoff") == 0
    assert value(s, "lprnvr_anpr_last_read_age_seconds", **a) == pytest.approx(60, abs=30)
    assert value(s, "lprnvr_anpr_reads_total", **a) == 7
    assert value(s, "lprnvr_anpr_events_reconnects_total", **a) == 2


def metrics_drift_kinds():
    from lprnvr.monitoring.families import DRIFT_KINDS

    return DRIFT_KINDS


def test_jobs_services_and_disk(client, world, settings):
    s = scrape(client)
    assert {st: value(s, "lprnvr_plate_jobs", status=st) for st in ("pending", "running", "failed", "succeeded")} == {
        "pending": 0, "running": 1, "failed": 2, "succeeded": 1,
    }  # fmt: skip
    assert value(s, "lprnvr_discovery_jobs", status="pending") == 1
    assert value(s, "lprnvr_discovery_jobs", status="failed") == 0
    assert value(s, "lprnvr_service_up", service="media", host="nvr-1") == 1
    assert value(s, "lprnvr_service_up", service="events", host="nvr-1") == 0  # 300 s old: stale
    assert value(s, "lprnvr_service_up", service="beat", host="") == 0  # expected, never seen
    assert value(s, "lprnvr_service_heartbeat_age_seconds", service="events", host="nvr-1") == pytest.approx(
        300, abs=30
    )
    assert value(s, "lprnvr_service_heartbeat_age_seconds", service="beat", host="") is None
    usage = shutil.disk_usage(settings.VAR_DIR)
    assert value(s, "lprnvr_disk_total_bytes", volume="var") == usage.total
    assert value(s, "lprnvr_disk_free_bytes", volume="recordings") == pytest.approx(
        storage.disk_usage().free, rel=0.01
    )  # the disk is shared with the rest of the machine: it moves between two reads
    assert value(s, "lprnvr_disk_free_floor_bytes") == settings.DISK_FREE_FLOOR_BYTES
    assert value(s, "lprnvr_recordings_quota_bytes") == settings.RECORDINGS_QUOTA_BYTES
    for family in ("media", "anpr_lists", "anpr_events", "jobs", "services", "disk"):
        assert value(s, "lprnvr_metrics_family_up", family=family) == 1


def test_request_latency_histogram_counts_by_view_method_and_status(client, world):
    before = scrape(client)
    statuses = [client.get("/health").status_code // 100 for _ in range(3)]  # 503 here: segments, no disk
    key = {"view": "health", "method": "GET", "status": f"{statuses[0]}xx"}
    base = value(before, "lprnvr_http_request_duration_seconds_count", **key) or 0
    client.get("/api/cameras/no-such-thing/", HTTP_ACCEPT="application/json")
    client.generic("BREW", "/health")
    after = scrape(client)
    assert value(after, "lprnvr_http_request_duration_seconds_count", **key) == base + 3
    assert value(after, "lprnvr_http_request_duration_seconds_bucket", **key, le="+Inf") == base + 3
    assert value(after, "lprnvr_http_request_duration_seconds_count", view="unresolved", method="GET", status="4xx")
    assert value(after, "lprnvr_http_request_duration_seconds_count", view="health", method="other", status="4xx")
    views = {dict(labels)["view"] for name, labels in after if name == "lprnvr_http_request_duration_seconds_count"}
    assert not any("/" in view for view in views)  # route names, never paths (ids, tokens)


def test_a_failing_family_is_left_out_and_said(client, world, monkeypatch):
    def broken():
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(metrics.FAMILIES, "broken", broken)
    s = scrape(client)
    assert value(s, "lprnvr_metrics_family_up", family="broken") == 0
    assert value(s, "lprnvr_plate_jobs", status="failed") == 2  # the others are still there


def test_refused_without_configuration_token_or_allowed_address(client, settings, make_user):
    from conftest import client_for

    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    off = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert off.status_code == 403 and "METRICS_TOKEN or METRICS_ALLOWED_IPS" in off.json()["error"]
    assert client_for(make_user("admin")).get("/metrics").status_code == 403  # a user's JWT is not the token
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_allowed_addresses_and_networks(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.5", "10.0.0.0/8", "not-an-address"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.6").status_code == 403
    # Behind a proxy (NUM_PROXIES) the address is the proxy's view of the client, never a forged hop.
    settings.NUM_PROXIES = 1
    forged = {"REMOTE_ADDR": "127.0.0.9", "HTTP_X_FORWARDED_FOR": "10.1.1.1, 192.0.2.7"}
    assert client.get("/metrics", **forged).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 200


def test_a_malformed_allowed_address_is_a_system_check_error(settings):
    from lprnvr.monitoring.checks import metrics_allowed_ips_parse

    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "nope"]
    assert [e.id for e in metrics_allowed_ips_parse(None)] == ["monitoring.E001"]
