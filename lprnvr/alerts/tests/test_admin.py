"""The alerts admin: secrets write-only, rules with checkboxes, failed deliveries sent again."""

from __future__ import annotations

import pytest
from django.test import Client

from lprnvr.alerts.models import Delivery, DeliveryStatus, Event, EventKind, Rule, Target

from .factories import RuleFactory, WebhookTargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


TARGET_FORM = {
    "name": "gate hook",
    "kind": "webhook",
    "enabled": "on",
    "timeout_seconds": "5",
    "url": "https://hooks.example.com/in",
    "secret": "top-secret-1",
    "port": "1883",
    "topic_prefix": "lprnvr",
    "ha_prefix": "homeassistant",
}


def test_a_targets_secret_is_write_only(admin_client):
    response = admin_client.post("/admin/alerts/target/add/", TARGET_FORM)
    assert response.status_code == 302, response.content[:2000]
    target = Target.objects.get(name="gate hook")
    assert target.secret == "top-secret-1"
    page = admin_client.get(f"/admin/alerts/target/{target.pk}/change/")
    assert b"top-secret-1" not in page.content
    # Saved again with the box empty: kept.
    admin_client.post(f"/admin/alerts/target/{target.pk}/change/", {**TARGET_FORM, "secret": ""})
    target.refresh_from_db()
    assert target.secret == "top-secret-1"
    admin_client.post(f"/admin/alerts/target/{target.pk}/change/", {**TARGET_FORM, "secret": "", "clear_secrets": "on"})
    target.refresh_from_db()
    assert target.secret == ""


def test_a_webhook_without_url_is_refused_with_the_reason(admin_client):
    response = admin_client.post("/admin/alerts/target/add/", {**TARGET_FORM, "url": ""})
    assert response.status_code == 200
    assert b"A webhook needs a URL." in response.content


def test_a_rule_from_the_admin(admin_client):
    target = WebhookTargetFactory()
    form = {
        "name": "night",
        "enabled": "on",
        "kinds": ["plate_unlisted", "camera_down"],
        "targets": [target.pk],
        "all_cameras": "on",
        "days": ["0", "6"],
        "start_time": "22:00",
        "end_time": "06:00",
        "cooldown_seconds": "300",
        "send_recovery": "on",
    }
    response = admin_client.post("/admin/alerts/rule/add/", form)
    assert response.status_code == 302, response.content[:3000]
    rule = Rule.objects.get(name="night")
    assert rule.kinds == ["plate_unlisted", "camera_down"] and rule.days == [0, 6]
    assert list(rule.targets.all()) == [target]


def test_failed_deliveries_are_sent_again(admin_client, monkeypatch, django_capture_on_commit_callbacks):
    from lprnvr.alerts import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_task, "delay", queued.append)
    target = WebhookTargetFactory()
    event = Event.objects.create(kind=EventKind.CAMERA_DOWN)
    failed = Delivery.objects.create(event=event, target=target, status=DeliveryStatus.FAILED, attempts=8)
    sent = Delivery.objects.create(event=event, target=WebhookTargetFactory(), status=DeliveryStatus.SENT)
    RuleFactory(targets=[target])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/alerts/delivery/",
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.attempts == 0
    assert queued == [failed.pk]
