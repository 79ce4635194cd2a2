"""Webhooks end to end: a real Celery worker on the notify queue, a real HTTP receiver that checks
the body and the signature; a receiver down then up, a dead one, a 4xx."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from lprnvr.alerts import services
from lprnvr.alerts.delivery import requeue_due
from lprnvr.alerts.models import Delivery, DeliveryStatus, EventKind
from plates.clients.isapi_events import Alert
from plates.services.reads import ingest_read
from plates.tests.factories import PlateFactory
from tests.waiting import wait_for

from .factories import RuleFactory, WebhookTargetFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

JPEG = b"\xff\xd8\xff\xe0" + b"p" * 500 + b"\xff\xd9"


def verify(secret: str, headers: dict, body: bytes, now: float, tolerance: float = 300) -> bool:
    """The receiver's check, as docs/alerts.md shows it."""
    timestamp = headers["X-Lprnvr-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(now - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected, headers["X-Lprnvr-Signature"])


def delivery_in(status: str, **filters) -> Delivery | None:
    return Delivery.objects.filter(status=status, **filters).select_related("target").first()


def blocked_read(camera):
    from plates.models import CameraPlate

    plate = PlateFactory(number="BAD123", list_type="block")
    CameraPlate.objects.create(camera=camera, plate=plate, desired=True)
    at = datetime(2026, 6, 1, 8, 30, tzinfo=dt_timezone(timedelta(hours=-5)))
    alert = Alert(event_type="ANPR", camera_time=at, plate="BAD123", list_type="allowList", uuid="u-1")
    read, created = ingest_read(camera=camera, alert=alert, pictures={"licensePlatePicture.jpg": JPEG}, source="stream")
    assert created
    return read


def test_a_blocked_read_reaches_the_webhook_signed(celery_worker, webhook, settings, tmp_path):
    settings.READS_DIR = tmp_path / "reads"
    camera = CameraFactory(name="North gate", ip="127.0.0.81")
    target = WebhookTargetFactory(url=webhook.url, secret="s3cret")
    RuleFactory(kinds=[EventKind.PLATE_BLOCKED, EventKind.VERDICT_MISMATCH], targets=[target])
    read = blocked_read(camera)
    received = webhook.wait(2)
    by_kind = {r.json["kind"]: r for r in received}
    assert set(by_kind) == {"plate_blocked", "verdict_mismatch"}
    hit = by_kind["plate_blocked"]
    assert verify("s3cret", hit.headers, hit.body, now=timezone.now().timestamp())
    assert not verify("other", hit.headers, hit.body, now=timezone.now().timestamp())
    assert not verify("s3cret", hit.headers, hit.body, now=timezone.now().timestamp() + 3600)  # a replay
    assert hit.headers["X-Lprnvr-Event"] == "plate_blocked"
    assert hit.path == "/hook?token=abc"
    doc = hit.json
    assert doc["camera"] == {"id": camera.pk, "ref": "127.0.0.81", "name": "North gate"}
    assert doc["plate"]["number"] == "BAD123"
    assert doc["plate"]["our_verdict"] == "blocked" and doc["plate"]["camera_verdict"] == "allow"
    assert doc["plate"]["flagged"] is True and doc["plate"]["list"] == "block"
    assert doc["title"] == "Blocked plate BAD123 at North gate"
    base = f"https://nvr.example.com/api/plates/reads/{read.pk}"
    assert doc["links"]["picture"] == f"{base}/picture/plate/"
    assert doc["links"]["clip"] == f"{base}/clip/?camera=127.0.0.81"
    assert doc["links"]["read"].startswith(base)
    sent = wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2 or None)
    assert sent
    row = Delivery.objects.filter(event__kind="plate_blocked").get()
    assert row.attempts == 1 and row.last_error == "" and row.duration_ms is not None and row.finished_at


def test_receiver_down_then_up_gets_the_message_later(celery_worker, webhook, settings):
    settings.ALERTS_MAX_ATTEMPTS = 50
    settings.ALERTS_RETRY_BASE_DELAY, settings.ALERTS_RETRY_MAX_DELAY = 0.3, 0.5
    webhook.stop()
    camera = CameraFactory()
    RuleFactory(kinds=[EventKind.CAMERA_LOCKED], targets=[WebhookTargetFactory(url=webhook.url)])
    services.emit(kind=EventKind.CAMERA_LOCKED, camera=camera, detail={"locked_for": 1800})
    waiting = wait_for(lambda: delivery_in(DeliveryStatus.RETRYING))
    assert "Connection refused" in waiting.last_error
    assert "token=abc" not in waiting.last_error  # the URL (which may carry a token) is never quoted
    webhook.start()
    received = webhook.wait(1)
    assert received[0].json["kind"] == "camera_locked"
    assert received[0].json["detail"] == {"locked_for": 1800}
    done = wait_for(lambda: delivery_in(DeliveryStatus.SENT))
    assert done.attempts >= 2


def test_a_dead_receiver_ends_failed_after_n_tries_with_the_reason(celery_worker, webhook, settings):
    settings.ALERTS_MAX_ATTEMPTS = 3
    webhook.stop()
    RuleFactory(kinds=[EventKind.JOB_FAILED], targets=[WebhookTargetFactory(url=webhook.url)])
    services.emit(kind=EventKind.JOB_FAILED, subject="#7", detail={"job": 7})
    failed = wait_for(lambda: delivery_in(DeliveryStatus.FAILED))
    assert failed.attempts == 3
    assert failed.last_error == "gave up after 3 attempts: connection failed: Connection refused"


def test_server_errors_are_retried_and_client_errors_are_not(celery_worker, webhook, settings):
    settings.ALERTS_MAX_ATTEMPTS = 50
    webhook.status = 503
    target = WebhookTargetFactory(url=webhook.url)
    RuleFactory(kinds=[EventKind.LIST_DRIFT], targets=[target])
    services.emit(kind=EventKind.LIST_DRIFT, camera=CameraFactory())
    webhook.wait(2)
    assert delivery_in(DeliveryStatus.RETRYING) or delivery_in(DeliveryStatus.SENDING)
    webhook.status = 200
    assert wait_for(lambda: delivery_in(DeliveryStatus.SENT)).last_error == ""
    webhook.status = 401
    services.emit(kind=EventKind.LIST_DRIFT, camera=CameraFactory())
    refused = wait_for(lambda: delivery_in(DeliveryStatus.FAILED))
    assert refused.attempts == 1 and refused.last_error == "HTTP 401 Unauthorized"


def test_a_lost_message_is_delivered_by_the_requeue_beat(celery_worker, webhook):
    camera = CameraFactory()
    target = WebhookTargetFactory(url=webhook.url)
    rule = RuleFactory(kinds=[EventKind.CAMERA_LOCKED], targets=[target])
    event = services.emit(kind=EventKind.CAMERA_LOCKED, camera=camera)
    wait_for(lambda: delivery_in(DeliveryStatus.SENT))
    # A delivery whose task message never arrived, and one a dead worker left in `sending`.
    past = timezone.now() - timedelta(hours=1)
    lost = Delivery.objects.create(event=event, target=WebhookTargetFactory(url=webhook.url), rule=rule)
    Delivery.objects.filter(pk=lost.pk).update(next_attempt_at=past)
    stuck = Delivery.objects.create(event=event, target=WebhookTargetFactory(url=webhook.url), rule=rule)
    Delivery.objects.filter(pk=stuck.pk).update(status=DeliveryStatus.SENDING, started_at=past, attempts=1)
    assert requeue_due()["deliveries"] == 2
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 3)
    assert len(webhook.wait(3)) == 3
