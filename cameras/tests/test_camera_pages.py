"""The camera list and page: stream state, recording, last video, errors in words, credentials stored
(never shown), the 24/7 switch, and the camera asked now (snapshot, test connection) against the
RTSP double and the Hikvision double. Also the camera API's `last_seen` / `is_recording`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cameras.models import Brand
from cameras.tests.doubles.hikvision import HikvisionCamera
from cameras.tests.factories import CameraFactory
from recordings.models import MediaChannel, ProcessState
from recordings.tests.conftest import rtsp_server  # noqa: F401  (the one RTSP double's fixture)
from recordings.tests.factories import make_segment
from tests.waiting import free_port

HTML = {"HTTP_ACCEPT": "text/html"}
FETCH = {"HTTP_ACCEPT": "text/html", "HTTP_X_REQUESTED_WITH": "fetch"}


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def hikvision():
    with HikvisionCamera("A", channels=2) as cam:
        yield cam


def hikvision_camera(cam: HikvisionCamera, *, password: str = "cam-secret-1", rtsp_url: str = ""):  # noqa: S107
    return CameraFactory(
        name="Gate Hik",
        ip="127.0.0.1",
        http_port=cam.port,
        brand=Brand.HIKVISION,
        username="admin",
        password=password,
        rtsp_url=rtsp_url,
    )


@pytest.fixture
def recording_247(db):
    camera = CameraFactory(name="Yard", ip="127.0.0.91")
    MediaChannel.objects.create(camera=camera, continuous=True, state=ProcessState.RUNNING)
    segment = make_segment(camera, timezone.now() - timedelta(seconds=15), seconds=10, continuous=True)
    return camera, segment


# --- the camera API --------------------------------------------------------------------------------
def test_api_says_a_247_camera_records_and_when_it_was_last_seen(recording_247, as_user, admin_user):
    camera, segment = recording_247
    for url in (f"/api/cameras/{camera.pk}/", "/api/cameras/"):
        body = as_user(admin_user).get(url).json()
        row = body if isinstance(body, dict) else next(c for c in body if c["id"] == camera.pk)
        assert row["is_recording"] is True and row["stream_state"] == "running"
        assert row["last_seen"] is not None and row["last_seen"].startswith(segment.end.strftime("%Y-%m-%dT%H:%M"))
    listed = as_user(admin_user).get("/api/cameras/list").json()["cameras"]
    assert next(c for c in listed if c["id"] == camera.pk)["is_recording"] is True
    status = as_user(admin_user).get(f"/api/nvr/status/{camera.address}").json()
    assert status["is_recording"] is True and status["continuous"] is True


def test_api_a_247_camera_whose_stream_is_down_is_not_recording(recording_247, as_user, admin_user):
    camera, _segment = recording_247
    MediaChannel.objects.filter(camera=camera).update(state=ProcessState.DOWN)
    row = as_user(admin_user).get(f"/api/cameras/{camera.pk}/").json()
    assert row["is_recording"] is False and row["last_seen"] is not None


# --- list and page ---------------------------------------------------------------------------------
def test_list_and_page_show_state_and_never_the_credentials(admin_client, recording_247):
    _camera, _segment = recording_247
    down = CameraFactory(name="Back door", ip="127.0.0.92", rtsp_url="rtsp://admin:s3cr3t-url@127.0.0.92/x")
    MediaChannel.objects.create(
        camera=down, state=ProcessState.DOWN, last_error="rtsp://admin:s3cr3t-url@127.0.0.92/x: 401 Unauthorized"
    )
    listing = admin_client.get("/admin/cameras/camera/", **HTML).content.decode()
    assert "camera-state-recording" in listing and "camera-state-down" in listing
    assert "The camera refused the user name or password." in listing
    page = admin_client.get(f"/admin/cameras/camera/{down.pk}/change/", **HTML).content.decode()
    assert "credentials stored" in page.lower() and 'id="camera-test-button"' in page
    for text in (listing, page):
        assert "s3cr3t-url" not in text and "cam-secret-1" not in text


def test_the_247_switch_on_the_camera_page_does_not_restart_the_stream(admin_client, recording_247):
    camera, _segment = recording_247
    before = camera.updated_at
    form = {
        "name": camera.name,
        "ip": camera.ip,
        "http_port": camera.http_port,
        "rtsp_port": camera.rtsp_port,
        "brand": camera.brand,
        "channel": camera.channel,
        "is_active": "on",
        "retention_days": "30",  # continuous left out: switched off
    }
    response = admin_client.post(f"/admin/cameras/camera/{camera.pk}/change/", form, **HTML)
    assert response.status_code == 302, response.content.decode()[-2000:]
    channel = MediaChannel.objects.get(camera=camera)
    assert (channel.continuous, channel.retention_days) == (False, 30)
    camera.refresh_from_db()
    assert camera.updated_at == before and camera.password == "cam-secret-1"


def test_saving_the_camera_page_with_empty_credential_boxes_keeps_the_credentials(admin_client, recording_247):
    camera, _segment = recording_247
    camera.username, camera.rtsp_url = "operator", "rtsp://operator:cam-secret-1@127.0.0.1/stream1"
    camera.save()
    form = {
        "name": "Renamed gate", "ip": camera.ip, "http_port": camera.http_port, "rtsp_port": camera.rtsp_port,
        "brand": camera.brand, "channel": camera.channel, "is_active": "on", "continuous": "on",
        "retention_days": "7", "username": "", "password": "", "rtsp_url": "", "rtsp_substream_url": "",
    }  # fmt: skip
    url = f"/admin/cameras/camera/{camera.pk}/change/"
    assert admin_client.post(url, form, **HTML).status_code == 302
    camera.refresh_from_db()
    assert camera.name == "Renamed gate"
    assert (camera.username, camera.password) == ("operator", "cam-secret-1")  # kept, not emptied
    assert camera.rtsp_url.endswith("/stream1")
    assert admin_client.post(url, {**form, "password": "new-secret-2"}, **HTML).status_code == 302
    camera.refresh_from_db()
    assert (camera.username, camera.password) == ("operator", "new-secret-2")
    assert admin_client.post(url, {**form, "clear_credentials": "on"}, **HTML).status_code == 302
    camera.refresh_from_db()
    assert (camera.username, camera.password, camera.rtsp_url) == ("", "", "")


# --- the camera asked now --------------------------------------------------------------------------
@pytest.mark.django_db
def test_snapshot_from_the_rtsp_stream(admin_client, rtsp_server):  # noqa: F811
    camera = CameraFactory(brand=Brand.GENERIC, ip="127.0.0.1", rtsp_url=rtsp_server.url(1))
    response = admin_client.get(f"/admin/cameras/camera/{camera.pk}/snapshot/", **FETCH)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8") and len(response.content) > 1000


@pytest.mark.django_db
def test_snapshot_from_the_hikvision_picture(admin_client, hikvision):
    camera = hikvision_camera(hikvision)
    response = admin_client.get(f"/admin/cameras/camera/{camera.pk}/snapshot/", **FETCH)
    assert response.status_code == 200 and response.content.startswith(b"\xff\xd8")
    assert hikvision.pictures_taken == 1


@pytest.mark.django_db
def test_snapshot_refused_credentials_say_so_and_ask_once(admin_client, hikvision):
    camera = hikvision_camera(hikvision, password="wrong")
    response = admin_client.get(f"/admin/cameras/camera/{camera.pk}/snapshot/", **FETCH)
    text = response.content.decode()
    assert response.status_code == 502 and "<html" not in text
    assert "refused the user name or password" in text and "wrong" not in text
    assert hikvision.failed_logins == 1 and hikvision.pictures_taken == 0
    # Without the fetch header (a person opening the URL) it is a whole page, in their language.
    page = admin_client.get(f"/admin/cameras/camera/{camera.pk}/snapshot/", HTTP_ACCEPT_LANGUAGE="es", **HTML)
    assert page.status_code == 502 and "<html" in page.content.decode()


@pytest.mark.django_db
def test_connection_test_of_a_hikvision_camera_with_a_working_stream(admin_client, hikvision, rtsp_server):  # noqa: F811
    camera = hikvision_camera(hikvision, rtsp_url=rtsp_server.url(1))
    response = admin_client.post(f"/admin/cameras/camera/{camera.pk}/test-connection/", **FETCH)
    text = response.content.decode()
    assert response.status_code == 200 and 'data-ok="true"' in text, text
    assert "Video stream found: h264" in text and "iDS-2CD7A46G0/P" in text


@pytest.mark.django_db
def test_connection_test_says_why_in_words(admin_client, hikvision):
    camera = hikvision_camera(hikvision, password="wrong", rtsp_url=f"rtsp://127.0.0.1:{free_port()}/stream1")
    text = admin_client.post(f"/admin/cameras/camera/{camera.pk}/test-connection/", **FETCH).content.decode()
    assert 'data-ok="false"' in text
    assert "The camera cannot be reached on the network." in text  # the RTSP port refuses
    assert "The camera refused the user name or password." in text  # ISAPI: 401
    assert "wrong" not in text and hikvision.failed_logins == 1
