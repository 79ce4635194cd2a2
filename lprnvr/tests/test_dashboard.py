"""The dashboard (admin index, every role's landing page): what each role sees, and only its cameras."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from lprnvr.monitoring.heartbeats import beat
from plates.models import AnprCamera, PlateJob, PlateJobCamera, PlateRead, Status
from recordings.models import MediaChannel, ProcessState
from recordings.tests.factories import RecordingFactory, make_segment

HTML = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture
def world(make_user):
    now = timezone.now()
    recording = CameraFactory(name="Yard 24/7", ip="127.0.0.81")
    MediaChannel.objects.create(camera=recording, continuous=True, state=ProcessState.RUNNING)
    make_segment(recording, now - timedelta(seconds=20), seconds=10, continuous=True)
    live = CameraFactory(name="Lobby", ip="127.0.0.82")
    MediaChannel.objects.create(camera=live, state=ProcessState.RUNNING)
    down = CameraFactory(name="Back door", ip="127.0.0.83")
    MediaChannel.objects.create(
        camera=down,
        state=ProcessState.DOWN,
        failures=6,
        last_error="rtsp://admin:cam-secret-1@127.0.0.83:554/stream1: Connection refused",
    )
    reconnecting = CameraFactory(name="Gate west", ip="127.0.0.84")
    MediaChannel.objects.create(camera=reconnecting, state=ProcessState.BACKOFF, failures=1, last_error="x")
    RecordingFactory(camera=reconnecting, start_time=now - timedelta(minutes=1), end_time=None)
    # ANPR gates: one in sync, one drifted, one locked.
    AnprCamera.objects.create(camera=reconnecting, last_synced_at=now)
    AnprCamera.objects.create(camera=down, last_synced_at=now, drift={"missing": ["AB123"], "unexpected": []})
    AnprCamera.objects.create(camera=live, locked_until=now + timedelta(minutes=3))
    # Jobs: one running on the down camera, one failed on the live one.
    running = PlateJob.objects.create(operation="add", status=Status.RUNNING)
    PlateJobCamera.objects.create(job=running, camera=down, camera_address=down.address, status=Status.RUNNING)
    failed = PlateJob.objects.create(operation="delete", status=Status.FAILED, finished_at=now)
    PlateJobCamera.objects.create(
        job=failed, camera=live, camera_address=live.address, status=Status.FAILED, last_error="camera locked"
    )
    PlateRead.objects.create(camera=down, number="AB123")
    PlateRead.objects.create(camera=live, number="ZZ999")
    beat(service="media")
    users = {role: make_user(role, username=f"d-{role}") for role in ("viewer", "user", "admin")}
    for role in ("viewer", "user"):
        users[role].cameras.add(down, recording)
    return {"users": users, "cameras": {"recording": recording, "live": live, "down": down, "rec2": reconnecting}}


def page(user, url="/admin/"):
    client = Client()
    client.force_login(user)
    return client.get(url, **HTML)


@pytest.mark.django_db
def test_admin_sees_every_camera_gate_job_service_and_read(world):
    response = page(world["users"]["admin"])
    assert response.status_code == 200
    d = response.context["dashboard"]
    assert d["cameras"]["by_state"] == {
        "down": 1,
        "reconnecting": 1,
        "recording": 1,
        "live": 1,
        "idle": 0,
        "off": 0,
    }
    assert d["gates"]["by_state"] == {"locked": 1, "unreachable": 0, "drifted": 1, "not_synced": 0, "in_sync": 1}
    assert (d["jobs"]["running_count"], d["jobs"]["failed_count"]) == (1, 1)
    assert [r["number"] for r in d["reads"]["rows"]] == ["ZZ999", "AB123"]
    assert any(r["service"] == "media" and r["state"] == "ok" for r in d["services"]["rows"])
    # The 24/7 camera is recording, and its last frame is its newest segment's end.
    rows = {r["name"]: r for r in d["cameras"]["rows"]}
    assert rows["Yard 24/7"]["recording"] and rows["Yard 24/7"]["last_frame"] is not None
    # Errors are in words, never with the camera's credentials; rows link to the camera page.
    error = rows["Back door"]["error"]
    assert "cannot be reached" in error and "cam-secret-1" not in error and "admin:" not in error
    assert rows["Back door"]["url"] == f"/admin/cameras/camera/{world['cameras']['down'].pk}/change/"
    html = response.content.decode()
    assert "cam-secret-1" not in html and "Back door" in html and 'data-state="down"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "user"])
def test_users_and_viewers_see_only_their_cameras(world, role):
    response = page(world["users"][role])
    assert response.status_code == 200
    d = response.context["dashboard"]
    assert {r["name"] for r in d["cameras"]["rows"]} == {"Yard 24/7", "Back door"}
    assert d["cameras"]["by_state"]["down"] == 1 and d["cameras"]["by_state"]["live"] == 0
    assert d["gates"]["total"] == 1 and d["gates"]["by_state"]["drifted"] == 1
    assert (d["jobs"]["running_count"], d["jobs"]["failed_count"]) == (1, 0)
    assert [r["number"] for r in d["reads"]["rows"]] == ["AB123"]
    assert d["services"] is None  # heartbeats are the administrators'
    html = response.content.decode()
    assert "Lobby" not in html and "ZZ999" not in html and "Gate west" not in html
    # No camera page for them: the row leads to the live view.
    assert {r["url"] for r in d["cameras"]["rows"]} == {"/admin/recordings/recording/live/"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "user", "admin"])
def test_the_panel_refreshes_alone_with_the_same_scope(world, role):
    response = page(world["users"][role], "/admin/dashboard/panel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="dash-cameras"' in html
    assert ("Lobby" in html) == (role == "admin")


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(world):
    response = Client().get("/admin/dashboard/panel/", **HTML)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_disk_panel_days_at_the_present_rate(world, settings):
    from lprnvr.dashboard import disk_panel

    settings.DISK_FREE_FLOOR_BYTES = 0
    disk = disk_panel()
    assert disk["per_day"] == 1000  # the one segment of the last 24 hours
    assert disk["free"] > 0 and disk["days_left"] == round(disk["free"] / 1000, 1)
    assert disk["days_of_footage"] >= disk["days_left"]


@pytest.mark.django_db
def test_view_site_leads_to_the_dashboard(world):
    response = page(world["users"]["viewer"], "/admin/recordings/recording/live/")
    assert response.context["site_url"] == "/admin/"


@pytest.mark.django_db
def test_dashboard_in_spanish(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(world["users"]["admin"])
    response = client.get("/admin/", **HTML)
    assert response.status_code == 200 and response.context["LANGUAGE_CODE"] == "es"
