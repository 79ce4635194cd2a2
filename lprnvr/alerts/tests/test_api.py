"""The alerts API: secrets write-only, bad input a 400 naming the field, events and deliveries filtered."""

from __future__ import annotations

import pytest

from cameras.tests.factories import CameraFactory
from lprnvr.alerts.models import Delivery, Event, EventKind, Target

from .factories import RuleFactory, WebhookTargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(admin_user, as_user):
    return as_user(admin_user)


def test_secrets_go_in_and_never_come_out(admin_api):
    body = {"name": "broker", "kind": "mqtt", "host": "127.0.0.1", "username": "u", "password": "pw-1"}
    created = admin_api.post("/api/alerts/targets/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert "password" not in data and "secret" not in data
    assert data["has_password"] is True and data["topic_prefix"] == "lprnvr"
    target = Target.objects.get(pk=data["id"])
    assert target.password == "pw-1"
    assert b"pw-1" not in admin_api.get(f"/api/alerts/targets/{target.pk}/").content
    # Omitted: kept. Empty: cleared.
    assert admin_api.patch(f"/api/alerts/targets/{target.pk}/", {"port": 8883}, format="json").status_code == 200
    target.refresh_from_db()
    assert target.password == "pw-1" and target.port == 8883
    admin_api.patch(f"/api/alerts/targets/{target.pk}/", {"password": ""}, format="json")
    target.refresh_from_db()
    assert target.password == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "h", "kind": "webhook"}, "url"),
        ({"name": "h", "kind": "webhook", "url": "ftp://example.com/x"}, "url"),
        ({"name": "m", "kind": "mqtt"}, "host"),
        ({"name": "m", "kind": "mqtt", "host": "127.0.0.1", "topic_prefix": "a/#"}, "topic_prefix"),
        ({"name": "e", "kind": "email"}, "recipients"),
        ({"name": "e", "kind": "email", "recipients": ["not an address"]}, "recipients"),
        ({"name": "x", "kind": "sms"}, "kind"),
        ({"name": "h", "kind": "webhook", "url": "http://127.0.0.1/", "timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_bad_targets_are_400_naming_the_field(admin_api, body, field):
    response = admin_api.post("/api/alerts/targets/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_a_targets_kind_cannot_change(admin_api):
    target = WebhookTargetFactory()
    response = admin_api.patch(f"/api/alerts/targets/{target.pk}/", {"kind": "email"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()["fields"]


def test_rules(admin_api):
    camera, target = CameraFactory(), WebhookTargetFactory()
    body = {
        "name": "night gate",
        "kinds": ["plate_unlisted", "plate_unlisted", "camera_down"],
        "all_cameras": False,
        "cameras": [camera.pk],
        "days": [4, 0, 0],
        "start_time": "22:00",
        "end_time": "06:00",
        "targets": [target.pk],
        "cooldown_seconds": 600,
    }
    response = admin_api.post("/api/alerts/rules/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kinds"] == ["plate_unlisted", "camera_down"] and data["days"] == [0, 4]
    assert data["cameras"] == [camera.pk] and data["start_time"] == "22:00:00"
    for bad, field in [
        ({"kinds": []}, "kinds"),
        ({"kinds": ["plate_nope"]}, "kinds"),
        ({"days": [7]}, "days"),
        ({"start_time": "22:00", "end_time": None}, "end_time"),
        ({"start_time": "06:00", "end_time": "06:00"}, "end_time"),
        ({"targets": [999999]}, "targets"),
    ]:
        answer = admin_api.patch(f"/api/alerts/rules/{data['id']}/", bad, format="json")
        assert answer.status_code == 400 and field in answer.json()["fields"], (bad, answer.json())


def test_events_and_deliveries_filtered(admin_user, make_user, as_user):
    seen, unseen = CameraFactory(), CameraFactory()
    viewer = make_user("viewer")
    viewer.cameras.add(seen)
    target = WebhookTargetFactory(name="hook")
    rule = RuleFactory(targets=[target])
    a = Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=seen)
    Event.objects.create(kind=EventKind.LIST_DRIFT, camera=seen)
    Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=unseen)
    Delivery.objects.create(event=a, target=target, rule=rule, status="failed", last_error="HTTP 500")
    client = as_user(viewer)
    events = client.get("/api/alerts/events/").json()["results"]
    assert {e["kind"] for e in events} == {"camera_down", "list_drift"} and len(events) == 2
    assert [e["id"] for e in client.get("/api/alerts/events/?kind=camera_down").json()["results"]] == [a.pk]
    assert client.get("/api/alerts/events/?kind=nope").status_code == 400
    assert client.get(f"/api/alerts/events/?camera={unseen.pk}").json()["results"] == []
    [row] = client.get("/api/alerts/deliveries/?status=failed").json()["results"]
    assert row["target_name"] == "hook" and row["kind"] == "camera_down" and row["last_error"] == "HTTP 500"
    assert client.get("/api/alerts/deliveries/?event=x").status_code == 400
    assert len(as_user(admin_user).get("/api/alerts/events/").json()["results"]) == 3
