"""Every alerts door x anonymous/viewer/user/admin, with the expected status: rules and targets are
administrators' only; events and deliveries are read as their camera is seen (no camera: admins)."""

from __future__ import annotations

import pytest

from cameras.tests.factories import CameraFactory
from lprnvr.alerts.models import Delivery, Event, EventKind
from lprnvr.tests import matrix
from lprnvr.tests.matrix import LOGIN, model_admin

from .factories import RuleFactory, WebhookTargetFactory


@pytest.fixture
def world(make_user):
    assigned = CameraFactory(ip="127.0.0.111")
    unassigned = CameraFactory(ip="127.0.0.112")
    users = {role: make_user(role, username=f"al-{role}") for role in ("viewer", "user", "admin")}
    for role in ("viewer", "user"):
        users[role].cameras.add(assigned)
    target = WebhookTargetFactory()
    rule = RuleFactory(targets=[target])
    events = {
        "event_a": Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=assigned),
        "event_u": Event.objects.create(kind=EventKind.CAMERA_DOWN, camera=unassigned),
        "event_none": Event.objects.create(kind=EventKind.LOGIN_FAILURES, subject="root"),
    }
    names = {"target": target.id, "rule": rule.id, **{k: e.id for k, e in events.items()}}
    for key, event in events.items():
        names[key.replace("event", "delivery")] = Delivery.objects.create(event=event, target=target, rule=rule).id
    return {"users": users, "names": names}


RULE = {"name": "new rule", "kinds": ["plate_blocked"], "targets": ["{target}"]}
TARGET = {"name": "new hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "x"}

# (method, path template, body, expected for anonymous, viewer, user, admin)
MATRIX = [
    ("get", "/api/alerts/rules/", None, (401, 403, 403, 200)),
    ("post", "/api/alerts/rules/", RULE, (401, 403, 403, 201)),
    ("get", "/api/alerts/rules/{rule}/", None, (401, 403, 403, 200)),
    ("patch", "/api/alerts/rules/{rule}/", {"cooldown_seconds": 60}, (401, 403, 403, 200)),
    ("put", "/api/alerts/rules/{rule}/", RULE, (401, 403, 403, 200)),
    ("delete", "/api/alerts/rules/{rule}/", None, (401, 403, 403, 204)),
    ("get", "/api/alerts/targets/", None, (401, 403, 403, 200)),
    ("post", "/api/alerts/targets/", TARGET, (401, 403, 403, 201)),
    ("get", "/api/alerts/targets/{target}/", None, (401, 403, 403, 200)),
    ("patch", "/api/alerts/targets/{target}/", {"enabled": False}, (401, 403, 403, 200)),
    ("delete", "/api/alerts/targets/{target}/", None, (401, 403, 403, 204)),
    ("get", "/api/alerts/events/", None, (401, 200, 200, 200)),
    ("post", "/api/alerts/events/", {"kind": "camera_down"}, (401, 405, 405, 405)),
    ("get", "/api/alerts/events/{event_a}/", None, (401, 200, 200, 200)),
    ("get", "/api/alerts/events/{event_u}/", None, (401, 404, 404, 200)),
    ("get", "/api/alerts/events/{event_none}/", None, (401, 404, 404, 200)),
    ("delete", "/api/alerts/events/{event_a}/", None, (401, 405, 405, 405)),
    ("get", "/api/alerts/deliveries/", None, (401, 200, 200, 200)),
    ("get", "/api/alerts/deliveries/{delivery_a}/", None, (401, 200, 200, 200)),
    ("get", "/api/alerts/deliveries/{delivery_u}/", None, (401, 404, 404, 200)),
    ("get", "/api/alerts/deliveries/{delivery_none}/", None, (401, 404, 404, 200)),
    ("patch", "/api/alerts/deliveries/{delivery_a}/", {"status": "sent"}, (401, 405, 405, 405)),
    # The admin site: administrators only.
    ("get", "/admin/alerts/", None, (LOGIN, 404, 404, 200)),
    *model_admin("alerts/target", "target"),
    *model_admin("alerts/rule", "rule"),
    *model_admin("alerts/event", "event_a", add=403),
    *model_admin("alerts/delivery", "delivery_a", add=403),
]


@pytest.mark.django_db
@matrix.parametrize(MATRIX)
def test_matrix(world, role, method, path, body, expected):
    matrix.check(role, world["users"], method, path, body, expected, world["names"])
