"""Internal models in the admin: what the system writes itself has no add form, footage is never
deleted row by row, and discovery's findings are read-only, shown in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cameras.models import DiscoveredDevice
from cameras.tests.factories import CameraFactory
from recordings.models import MediaChannel
from recordings.tests.factories import make_segment

HTML = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture
def client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_no_add_forms_for_rows_the_system_writes(client):
    for model in ("recordings/mediachannel", "recordings/recording", "recordings/segment"):
        assert client.get(f"/admin/{model}/add/", **HTML).status_code == 403
        assert f'href="/admin/{model}/add/"' not in client.get("/admin/", **HTML).content.decode()
    assert (
        "The camera reference, as seed 002 reports it."
        not in client.get("/admin/recordings/recording/", **HTML).content.decode()
    )


@pytest.mark.django_db
def test_segments_have_no_delete_action(client):
    camera = CameraFactory()
    segment = make_segment(camera, timezone.now() - timedelta(minutes=1))
    page = client.get("/admin/recordings/segment/", **HTML).content.decode()
    assert "delete_selected" not in page
    response = client.post(
        "/admin/recordings/segment/", {"action": "delete_selected", "_selected_action": [segment.pk]}, **HTML
    )
    assert response.status_code in (200, 302, 403)  # no such action: refused, nothing deleted
    assert type(segment).objects.filter(pk=segment.pk).exists()


@pytest.mark.django_db
def test_media_channel_state_is_read_only(client):
    channel = MediaChannel.objects.create(camera=CameraFactory(), state="down", last_error="x: Connection refused")
    page = client.get(f"/admin/recordings/mediachannel/{channel.pk}/change/", **HTML).content.decode()
    assert 'name="continuous"' in page and 'name="state"' not in page and 'name="camera"' not in page
    assert "cannot be reached" in page


@pytest.mark.django_db
def test_discovered_device_is_read_only_and_in_words(client):
    device = DiscoveredDevice.objects.create(ip="127.0.0.9", open_ports=[80, 554], identified_by=["isapi", "onvif"])
    page = client.get(f"/admin/cameras/discovereddevice/{device.pk}/change/", **HTML).content.decode()
    assert "80, 554" in page and "isapi, onvif" in page and "[80, 554]" not in page
    assert 'name="_save"' not in page and 'name="ip"' not in page
