"""Deleting a camera never takes its recorded video by accident: API (real HTTP), admin page, bulk action."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from accounts.services import issue_tokens
from cameras.models import Camera
from cameras.tests.factories import CameraFactory
from recordings import storage
from recordings.models import MediaChannel, Recording, RecordingStatus, Segment
from recordings.supervisor import desired_camera_ids
from recordings.tests.factories import RecordingFactory, make_segment


@pytest.fixture
def recorded(db):
    """A continuous camera with three indexed segments (files on disk) and a running recording."""
    camera = CameraFactory()
    MediaChannel.objects.create(camera=camera, continuous=True, retention_days=3)
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    segments = [make_segment(camera, start + timedelta(seconds=10 * i), seconds=10, continuous=True) for i in range(3)]
    RecordingFactory(camera=camera, start_time=start, end_time=None, status=RecordingStatus.RECORDING)
    return camera, segments


def _files(segments) -> list[bool]:
    return [(storage.root() / s.path).is_file() for s in segments]


@pytest.fixture
def admin_http(admin_user):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {issue_tokens(admin_user)['token']}"
    return http


@pytest.mark.django_db(transaction=True)
def test_api_delete_of_a_camera_with_video_needs_a_choice(live_server, admin_http, recorded):
    camera, segments = recorded
    url = f"{live_server.url}/api/cameras/{camera.id}/"
    refused = admin_http.delete(url, timeout=10)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "camera_has_footage" and body["status"] == 409
    assert "0.01 h of recorded video (3 segments" in body["error"] and "delete_footage" in body["error"]
    assert Camera.objects.filter(id=camera.id).exists() and Segment.objects.count() == 3 and all(_files(segments))

    bad = admin_http.delete(url, params={"delete_footage": "maybe"}, timeout=10)
    assert bad.status_code == 400 and "delete_footage" in bad.json()["fields"]


@pytest.mark.django_db(transaction=True)
def test_api_delete_footage_false_retires_the_camera_and_keeps_its_video(live_server, admin_http, recorded):
    camera, segments = recorded
    response = admin_http.delete(f"{live_server.url}/api/cameras/{camera.id}/?delete_footage=false", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["retired"] is True and response.json()["footage"]["segments"] == 3
    camera.refresh_from_db()
    assert camera.retired_at is not None and not camera.is_active
    assert camera.id not in desired_camera_ids()  # neither streamed nor recorded any more
    record = admin_http.post(f"{live_server.url}/api/nvr/record/{camera.address}", json={}, timeout=10)
    assert record.status_code == 409 and record.json()["code"] == "camera_disabled"
    rec = Recording.objects.get()
    assert rec.end_time is not None and rec.stopped_reason == "camera retired"
    assert Segment.objects.count() == 3 and all(_files(segments))  # kept until retention
    # Off the lists, still reachable by id (its video is still there to play and export).
    listed = admin_http.get(f"{live_server.url}/api/cameras/", timeout=10).json()
    assert camera.id not in [c["id"] for c in (listed["results"] if isinstance(listed, dict) else listed)]
    seed_list = admin_http.get(f"{live_server.url}/api/cameras/list", timeout=10).json()["cameras"]
    assert camera.id not in [c["id"] for c in seed_list]
    assert admin_http.get(f"{live_server.url}/api/cameras/{camera.id}/", timeout=10).json()["retired_at"]
    # Reactivated: back in service.
    patch = admin_http.patch(f"{live_server.url}/api/cameras/{camera.id}/", json={"is_active": True}, timeout=10)
    assert patch.status_code == 200 and patch.json()["retired_at"] is None


@pytest.mark.django_db(transaction=True)
def test_api_delete_footage_true_deletes_rows_and_files(live_server, admin_http, recorded):
    camera, segments = recorded
    response = admin_http.delete(f"{live_server.url}/api/cameras/{camera.id}/?delete_footage=true", timeout=10)
    assert response.status_code == 204
    assert not Camera.objects.filter(id=camera.id).exists()
    assert not Segment.objects.exists() and not Recording.objects.exists() and not any(_files(segments))


@pytest.mark.django_db(transaction=True)
def test_camera_without_video_is_deleted_and_non_admins_cannot(live_server, admin_http, make_user):
    camera = CameraFactory()
    RecordingFactory(camera=camera)  # asked for, never produced video: its row stays, without the camera
    user = make_user("user")
    user.cameras.add(camera)
    as_user = requests.delete(
        f"{live_server.url}/api/cameras/{camera.id}/?delete_footage=true",
        headers={"Authorization": f"Bearer {issue_tokens(user)['token']}"},
        timeout=10,
    )
    assert as_user.status_code == 403 and Camera.objects.filter(id=camera.id).exists()
    assert admin_http.delete(f"{live_server.url}/api/cameras/{camera.id}/", timeout=10).status_code == 204
    rec = Recording.objects.get()
    assert rec.camera_id is None and rec.camera_ip == camera.address


def test_a_camera_row_with_segments_cannot_be_deleted_directly(recorded):
    camera, _segments = recorded
    with pytest.raises(ProtectedError):
        camera.delete()
    with pytest.raises(ProtectedError):
        Camera.objects.filter(id=camera.id).delete()
    assert Segment.objects.count() == 3


def _admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_delete_page_says_how_much_video_goes_and_needs_a_choice(admin_user, recorded):
    camera, segments = recorded
    client = _admin_client(admin_user)
    url = f"/admin/cameras/camera/{camera.id}/delete/"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "3 segments" in text and "hours of recorded video" in text and 'name="choice"' in text
    # Confirming without choosing does nothing.
    again = client.post(url, {"confirm": "yes"})
    assert again.status_code == 200 and "This field is required" in again.content.decode()
    assert Camera.objects.filter(id=camera.id).exists() and all(_files(segments))
    done = client.post(url, {"confirm": "yes", "choice": "retire"})
    assert done.status_code == 302
    camera.refresh_from_db()
    assert camera.retired_at is not None and Segment.objects.count() == 3


def test_admin_bulk_delete_asks_then_deletes_footage_when_chosen(admin_user, recorded):
    camera, segments = recorded
    empty = CameraFactory()
    client = _admin_client(admin_user)
    changelist = "/admin/cameras/camera/"
    assert "delete_selected" not in client.get(changelist).content.decode()
    selected = {"action": "remove_selected", "_selected_action": [camera.id, empty.id]}
    page = client.post(changelist, selected)
    assert page.status_code == 200 and "3 segments" in page.content.decode()
    assert Camera.objects.count() == 2
    done = client.post(changelist, {**selected, "confirm": "yes", "choice": "delete_footage"})
    assert done.status_code == 302
    assert not Camera.objects.exists() and not Segment.objects.exists() and not any(_files(segments))


@pytest.fixture
def with_reads(db, settings, tmp_path):
    """A camera with no video but two plate reads, one with its pictures on disk."""
    from plates.clients.isapi_events import Alert
    from plates.services.reads import ingest_read

    settings.READS_DIR = str(tmp_path / "reads")
    camera = CameraFactory()
    for n, pictures in enumerate(({"licensePlatePicture.jpg": b"\xff\xd8jpeg"}, {})):
        alert = Alert(event_type="ANPR", camera_time=timezone.now(), uuid=f"u{n}", plate=f"RD{n}")
        ingest_read(camera=camera, alert=alert, pictures=pictures, source="stream")
    return camera


@pytest.mark.django_db(transaction=True)
def test_api_delete_of_a_camera_with_plate_reads_needs_a_choice(live_server, admin_http, with_reads, settings):
    from plates.models import PlateRead

    camera = with_reads
    url = f"{live_server.url}/api/cameras/{camera.id}/"
    refused = admin_http.delete(url, timeout=10)
    assert refused.status_code == 409 and refused.json()["code"] == "camera_has_footage"
    assert "2 plate reads" in refused.json()["error"]
    assert PlateRead.objects.filter(camera=camera).count() == 2

    retired = admin_http.delete(url, params={"delete_footage": "false"}, timeout=10)
    assert retired.status_code == 200 and retired.json()["footage"]["plate_reads"] == 2
    assert PlateRead.objects.filter(camera=camera).count() == 2  # kept until their retention

    folder = Path(settings.READS_DIR) / str(camera.id)
    assert any(folder.rglob("*.jpg"))
    gone = admin_http.delete(url, params={"delete_footage": "true"}, timeout=10)
    assert gone.status_code == 204
    assert not PlateRead.objects.filter(camera_id=camera.id).exists() and not folder.exists()


@pytest.mark.django_db
def test_admin_delete_page_counts_plate_reads(admin_client, with_reads):
    page = admin_client.get(f"/admin/cameras/camera/{with_reads.id}/delete/")
    assert page.status_code == 200
    assert b"2 plate reads" in page.content and b"Retire the cameras" in page.content
