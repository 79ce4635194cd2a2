import json

import pytest
from django.db import connection

from cameras.models import Camera, expand_rtsp_template, redact_url
from cameras.tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

NEW_CAMERA = {
    "name": "North gate",
    "ip": "127.0.0.31",
    "http_port": 80,
    "rtsp_port": 554,
    "brand": "hikvision",
    "channel": 1,
    "username": "admin",
    "password": "Sup3r-secret",
}


def test_admin_creates_camera_and_no_credentials_come_back(as_user, admin_user):
    client = as_user(admin_user)
    response = client.post("/api/cameras/", NEW_CAMERA, format="json")
    assert response.status_code == 201, response.content
    text = response.content.decode()
    assert "Sup3r-secret" not in text and "admin@" not in text
    body = response.json()
    assert body["has_credentials"] is True
    assert "password" not in body and "username" not in body and "rtsp_url" not in body
    for url in ("/api/cameras/", f"/api/cameras/{body['id']}/", "/api/cameras/list"):
        assert "Sup3r-secret" not in client.get(url).content.decode()


def test_credentials_are_encrypted_at_rest(as_user, admin_user):
    as_user(admin_user).post("/api/cameras/", {**NEW_CAMERA, "rtsp_url": "rtsp://u:p4ss@127.0.0.31/x"}, format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, password, rtsp_url FROM cameras_camera")
        row = cursor.fetchone()
    assert all(value and "Sup3r" not in value and "p4ss" not in value for value in row)
    camera = Camera.objects.get()
    assert camera.password == "Sup3r-secret"
    assert camera.stream_url() == "rtsp://u:p4ss@127.0.0.31/x"


def test_brand_template_used_without_explicit_url():
    camera = CameraFactory.build(ip="127.0.0.5", rtsp_port=554, brand="hikvision", channel=2, password="p@ss:w/rd")
    assert camera.stream_url() == "rtsp://admin:p%40ss%3Aw%2Frd@127.0.0.5:554/Streaming/Channels/201"
    assert camera.stream_url(substream=True).endswith("/Streaming/Channels/202")
    dahua = expand_rtsp_template("dahua", host="h", port=554, channel=3, username="a", password="b", substream=True)
    assert dahua == "rtsp://a:b@h:554/cam/realmonitor?channel=3&subtype=1"
    assert expand_rtsp_template("generic", host="h", port=8554) == "rtsp://h:8554/stream1"


def test_explicit_substream_url_is_write_only_and_used(as_user, admin_user):
    client = as_user(admin_user)
    sub = "rtsp://u:subsecret@127.0.0.31:554/sub"
    response = client.post("/api/cameras/", {**NEW_CAMERA, "rtsp_substream_url": sub}, format="json")
    assert response.status_code == 201
    assert "subsecret" not in response.content.decode()
    camera = Camera.objects.get()
    assert camera.stream_url(substream=True) == sub
    assert camera.stream_url().endswith("/Streaming/Channels/101")  # main still from the template
    bad = client.patch(f"/api/cameras/{camera.id}/", {"rtsp_substream_url": "http://x"}, format="json")
    assert bad.status_code == 400 and "rtsp_substream_url" in bad.json()["fields"]


def test_redact_url():
    assert redact_url("rtsp://admin:pw@1.2.3.4/x") == "rtsp://***:***@1.2.3.4/x"
    assert "secret" not in redact_url("rtsp://h:554/user=admin&password=secret&channel=1")


def test_key_rotation(settings, as_user, admin_user):
    from django.core.management import call_command

    from lprnvr.fields import _fernet

    as_user(admin_user).post("/api/cameras/", NEW_CAMERA, format="json")
    old = settings.FIELD_ENCRYPTION_KEYS
    settings.FIELD_ENCRYPTION_KEYS = ["a-brand-new-key-for-rotation", *old]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = ["a-brand-new-key-for-rotation"]
    _fernet.cache_clear()
    assert Camera.objects.get().password == "Sup3r-secret"


def test_validation_names_fields(as_user, admin_user):
    response = as_user(admin_user).post(
        "/api/cameras/",
        {**NEW_CAMERA, "ip": "999.1.1", "http_port": 70000, "brand": "sony", "rtsp_url": "http://x"},
        format="json",
    )
    assert response.status_code == 400
    assert {"ip", "http_port", "brand", "rtsp_url"} <= set(response.json()["fields"])


def test_duplicate_address_is_400(as_user, admin_user):
    client = as_user(admin_user)
    assert client.post("/api/cameras/", NEW_CAMERA, format="json").status_code == 201
    response = client.post("/api/cameras/", NEW_CAMERA, format="json")
    assert response.status_code == 400


def test_patch_and_delete(as_user, admin_user):
    client = as_user(admin_user)
    cam = client.post("/api/cameras/", NEW_CAMERA, format="json").json()
    response = client.patch(f"/api/cameras/{cam['id']}/", {"name": "South gate", "password": "n3w"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "South gate"
    assert Camera.objects.get().password == "n3w"
    assert client.delete(f"/api/cameras/{cam['id']}/").status_code == 204
    assert not Camera.objects.exists()


def test_list_filters_by_assignment(as_user, make_user):
    mine, _other = CameraFactory(), CameraFactory()
    user = make_user("viewer")
    user.cameras.add(mine)
    cameras = as_user(user).get("/api/cameras/list").json()["cameras"]
    assert [c["ip"] for c in cameras] == [mine.ip]
    assert as_user(user).get(f"/api/cameras/{_other.id}/").status_code == 404


def test_by_ref_forms():
    a = CameraFactory(ip="127.0.0.40", http_port=80)
    b = CameraFactory(ip="127.0.0.40", http_port=8000, channel=2)
    assert list(Camera.objects.by_ref("127.0.0.40:8000")) == [b]
    assert list(Camera.objects.by_ref("127.0.0.40:8000:2")) == [b]
    assert set(Camera.objects.by_ref("127.0.0.40")) == {a, b}
    assert not Camera.objects.by_ref("127.0.0.40:x").exists()
    assert json.dumps(b.address) == '"127.0.0.40:8000:2"'


def test_list_shows_recording_and_stream_state(as_user, admin_user, django_assert_max_num_queries):
    from recordings.models import MediaChannel, ProcessState, Recording

    busy, down, quiet = CameraFactory(), CameraFactory(), CameraFactory()
    Recording.objects.create(camera=busy, camera_ip=busy.address, user=admin_user)
    MediaChannel.objects.create(camera=busy, state=ProcessState.RUNNING)
    MediaChannel.objects.create(camera=down, state=ProcessState.DOWN, last_error="Connection refused")
    client = as_user(admin_user)
    with django_assert_max_num_queries(6):
        cameras = {c["id"]: c for c in client.get("/api/cameras/list").json()["cameras"]}
    assert (cameras[busy.id]["is_recording"], cameras[busy.id]["stream_state"]) == (True, "running")
    assert cameras[down.id]["stream_state"] == "down"
    assert cameras[down.id]["stream_error"] == "Connection refused"
    assert (cameras[quiet.id]["is_recording"], cameras[quiet.id]["stream_state"]) == (False, "idle")
