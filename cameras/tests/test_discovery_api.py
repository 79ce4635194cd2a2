"""Discovery over HTTP, with a real Celery worker running the job from the real Redis broker."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from cameras.models import Camera, DiscoveryJob
from cameras.tests.doubles.lab import PASSWORD, USERNAME
from conftest import client_for

ROLES = ("anonymous", "viewer", "user", "admin")


def discover_url(**params) -> str:
    return "/api/cameras/discover?" + urlencode(params)


@pytest.mark.celery
def test_discover_waits_for_the_worker_and_answers_the_seed_shape(lab, celery_worker, admin_user):
    client = client_for(admin_user)
    url = discover_url(network_range=f"{lab.hikvision.address}/32", credentials=f"{USERNAME}:{PASSWORD}")
    response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cached"] is False
    assert body["job"]["status"] == "succeeded" and body["job"]["progress"] == 100
    assert body["job"]["requested_by"] == "admin" and body["job"]["with_credentials"] is True
    [device] = body["devices"]
    assert (device["ip"], device["brand"], device["model"]) == (lab.hikvision.address, "hikvision", "DS-2CD2155FWD-I")
    assert [(s["channel"], s["stream"], s["status"]) for s in device["streams"]] == [
        (1, "main", "ok"),
        (1, "sub", "ok"),
    ]
    assert device["streams"][0]["url"] == f"rtsp://***:***@{lab.hikvision.address}:554/Streaming/Channels/101"
    assert "Cam-pass" not in response.content.decode()

    # Same range and credentials within CACHE_TTL: the cached result, no new scan.
    again = client.get(url)
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.json()["job"]["id"] == body["job"]["id"]

    # The job's own page.
    detail = client.get(body["job"]["url"])
    assert detail.status_code == 200
    assert detail.json()["devices"][0]["serial"] == "DS-2CD2155FWD-I20170725AAWR123456789"


@pytest.mark.celery
def test_discover_answers_202_with_the_job_when_it_takes_longer(lab, celery_worker, admin_user):
    client = client_for(admin_user)
    response = client.post(
        "/api/cameras/discover",
        {"network_range": f"{lab.dahua.address}/32", "credentials": {"username": USERNAME, "password": PASSWORD},
         "wait": 0, "refresh": True},
        format="json",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    job_url = response.json()["job"]["url"]
    assert response["Location"] == job_url
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(job_url).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    assert job["status"] == "succeeded"
    assert job["streams_ok"] == 8 and job["devices"][0]["channels"] == 4

    # Adopt the recorder's channels through the API.
    device_id = job["devices"][0]["id"]
    adopted = client.post("/api/cameras/discovery/adopt", {"devices": [device_id]}, format="json")
    assert adopted.status_code == 201, adopted.content
    assert sorted(c["channel"] for c in adopted.json()["cameras"]) == [1, 2, 3, 4]
    assert all(c["has_credentials"] for c in adopted.json()["cameras"])
    assert "Cam-pass" not in adopted.content.decode()
    assert Camera.objects.get(ip=lab.dahua.address, channel=2).password == PASSWORD
    devices = client.get("/api/cameras/discovery/devices").json()
    assert devices[0]["adopted"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"network_range": "nonsense"}, "network_range"),
        ({"network_range": "8.8.8.0/24"}, "network_range"),
        ({"network_range": "10.0.0.0/16"}, "network_range"),
        ({}, "network_range"),
        ({"network_range": "127.0.0.40/30", "credentials": "{oops"}, "credentials"),
        ({"network_range": "127.0.0.40/30", "password": "x"}, "username"),
        ({"network_range": "127.0.0.40/30", "wait": "-1"}, "wait"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_user, params, field):
    response = client_for(admin_user).get(discover_url(**params))
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert DiscoveryJob.objects.count() == 0


@pytest.mark.django_db
def test_adopt_needs_something_working(admin_user):
    client = client_for(admin_user)
    assert client.post("/api/cameras/discovery/adopt", {}, format="json").status_code == 400
    response = client.post("/api/cameras/discovery/adopt", {"devices": [999]}, format="json")
    assert response.status_code == 400 and "streams" in response.json()["fields"]


# ------------------------------------------------------------------------------ permission matrix
@pytest.fixture
def world(make_user, settings):
    settings.DISCOVERY_API_WAIT = 0
    from cameras.models import DiscoveredDevice, DiscoveredStream

    users = {role: make_user(role, username=f"d-{role}") for role in ("viewer", "user", "admin")}
    job = DiscoveryJob.objects.create(network_range="127.0.0.40/30")
    device = DiscoveredDevice.objects.create(ip="127.0.0.41", brand="hikvision", rtsp_port=554, http_port=80)
    stream = DiscoveredStream.objects.create(device=device, url="rtsp://a:b@127.0.0.41:554/x", status="ok")
    job.devices.add(device)
    return {"users": users, "job": job, "device": device, "stream": stream}


MATRIX = [
    ("get", "/api/cameras/discover?network_range=127.0.0.40/30", None, (401, 403, 403, 202)),
    ("post", "/api/cameras/discover", {"network_range": "127.0.0.40/30"}, (401, 403, 403, 202)),
    ("get", "/api/cameras/discovery/jobs", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/jobs/{job}", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/devices", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/devices/{device}", None, (401, 403, 403, 200)),
    ("post", "/api/cameras/discovery/adopt", {"streams": ["{stream}"]}, (401, 403, 403, 201)),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_matrix(world, role, method, path, body, expected):
    user = None if role == "anonymous" else world["users"][role]
    ids = {"job": world["job"].pk, "device": world["device"].pk, "stream": world["stream"].pk}
    url = path.format(**ids)
    if body and "streams" in body:
        body = {"streams": [ids["stream"]]}
    client = client_for(user)
    response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    assert response.status_code == expected[ROLES.index(role)], response.content
