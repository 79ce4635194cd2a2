"""Start and stop a recording from the live grid, as a user on its camera (issue: no role could)."""

from __future__ import annotations

import pytest
from django.test import Client

from cameras.tests.factories import CameraFactory
from recordings.models import Recording

pytestmark = pytest.mark.django_db
HTML = {"HTTP_ACCEPT": "text/html"}


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_user_records_and_stops_its_camera_from_the_live_grid(make_user, settings):
    settings.DISK_FREE_FLOOR_BYTES = 0
    user, viewer = make_user("user", username="rec-user"), make_user("viewer", username="rec-viewer")
    camera = CameraFactory(name="Yard")
    user.cameras.add(camera)
    viewer.cameras.add(camera)
    grid = browser(user).get("/admin/recordings/recording/live/", **HTML).content.decode()
    assert 'value="start"' in grid and "Yard" in grid
    assert 'value="start"' not in browser(viewer).get("/admin/recordings/recording/live/", **HTML).content.decode()

    url = f"/admin/recordings/recording/live/{camera.pk}/record/"
    started = browser(user).post(url, {"action": "start"}, **HTML)
    assert started.status_code == 302 and started["Location"] == "/admin/recordings/recording/live/"
    rec = Recording.objects.get()
    assert rec.user == user and rec.camera == camera and rec.end_time is None
    grid = browser(user).get("/admin/recordings/recording/live/", **HTML).content.decode()
    assert 'value="stop"' in grid and "REC" in grid
    assert browser(viewer).post(url, {"action": "stop"}, **HTML).status_code == 403
    assert browser(user).post(url, {"action": "stop"}, **HTML).status_code == 302
    rec.refresh_from_db()
    assert rec.end_time is not None and rec.stopped_reason == "stopped by user"


def test_a_refusal_is_said_in_the_page(make_user, settings):
    user = make_user("user", username="rec-user2")
    camera = CameraFactory(name="Off camera", is_active=True)
    user.cameras.add(camera)
    type(camera).objects.filter(pk=camera.pk).update(is_active=False)
    # A disabled camera is not on the grid; asked anyway, the service's refusal comes back in words.
    page = browser(user).post(f"/admin/recordings/recording/live/{camera.pk}/record/", {"action": "start"}, follow=True)
    assert "This camera is disabled." in page.content.decode()
    assert not Recording.objects.exists()
