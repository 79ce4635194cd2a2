"""Alerts where people look: the dashboard's "Latest alerts" (by the one visibility rule) and the
/metrics families (deliveries by status and target, events by kind)."""

from __future__ import annotations

import pytest
from django.test import Client

from cameras.tests.factories import CameraFactory
from lprnvr.alerts.models import Delivery, DeliveryStatus, Event, EventKind
from lprnvr.alerts.selectors import latest_alerts
from lprnvr.alerts.tests.factories import WebhookTargetFactory
from lprnvr.monitoring.tests.test_metrics import TOKEN, scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(make_user):
    mine, other = CameraFactory(name="Main gate"), CameraFactory(name="Back gate")
    viewer = make_user("viewer", username="alert-viewer")
    viewer.cameras.add(mine)
    down = Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=mine)
    Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=other)
    Event.objects.create(kind=EventKind.SERVICE_DOWN, subject="media@nvr1")
    return viewer, down


def test_latest_alerts_follow_the_visibility_rule(events, admin_user):
    viewer, down = events
    seen = latest_alerts(viewer)
    assert [row["kind"] for row in seen] == [EventKind.CAMERA_DOWN] and "Main gate" in seen[0]["title"]
    assert seen[0]["url"] == ""  # a viewer has no event pages
    everything = latest_alerts(admin_user)
    assert len(everything) == 3 and everything[-1]["url"] == f"/admin/alerts/event/{down.pk}/change/"


def test_the_dashboard_shows_them(events, admin_user):
    viewer, _down = events
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(viewer)
    page = client.get("/admin/").content.decode()
    assert "Latest alerts" in page and "Main gate" in page and "Back gate" not in page


def test_metrics_count_deliveries_and_events(events, client, settings):
    settings.METRICS_TOKEN = TOKEN
    _viewer, down = events
    hook = WebhookTargetFactory(name="guards")
    Delivery.objects.create(event=down, target=hook, status=DeliveryStatus.FAILED, attempts=8)
    samples = scrape(client)
    assert value(samples, "lprnvr_alert_deliveries", status="failed", target="guards") == 1
    assert value(samples, "lprnvr_alert_deliveries", status="sent", target="guards") == 0
    assert value(samples, "lprnvr_alert_events", kind="camera_down") == 2
    assert value(samples, "lprnvr_metrics_family_up", family="alerts") == 1
