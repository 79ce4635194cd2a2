"""Email end to end: a real SMTP server in the test gets the mail, the plate picture attached."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from cameras.tests.factories import CameraFactory
from lprnvr.alerts import services
from lprnvr.alerts.models import Delivery, DeliveryStatus, EventKind
from plates.clients.isapi_events import Alert
from plates.services.reads import ingest_read
from tests.waiting import free_port, wait_for

from .factories import EmailTargetFactory, RuleFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

PLATE_JPEG = b"\xff\xd8\xff\xe0" + b"plate" * 100 + b"\xff\xd9"
SCENE_JPEG = b"\xff\xd8\xff\xe0" + b"scene" * 200 + b"\xff\xd9"


def test_an_unlisted_plate_by_mail_with_its_pictures(celery_worker, smtp, settings, tmp_path):
    settings.READS_DIR = tmp_path / "reads"
    settings.DEFAULT_FROM_EMAIL = "nvr@example.com"
    camera = CameraFactory(name="Back gate", ip="127.0.0.95")
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED], targets=[EmailTargetFactory()])
    at = datetime(2026, 6, 1, 23, 5, tzinfo=dt_timezone(timedelta(hours=-5)))
    alert = Alert(event_type="ANPR", camera_time=at, plate="XYZ987", list_type="")
    pictures = {"licensePlatePicture.jpg": PLATE_JPEG, "detectionPicture.jpg": SCENE_JPEG}
    read, _ = ingest_read(camera=camera, alert=alert, pictures=pictures, source="stream")
    [message] = smtp.wait(1)
    assert smtp.envelopes[0] == ("nvr@example.com", ["guard@example.com", "boss@example.com"])
    assert message["Subject"] == "Unlisted plate XYZ987 at Back gate"
    text = message.get_body(("plain",)).get_content()
    assert "Plate: XYZ987" in text and "Back gate (127.0.0.95)" in text
    assert f"https://nvr.example.com/api/plates/reads/{read.pk}/clip/?camera=127.0.0.95" in text
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached == {f"read-{read.pk}-plate.jpg": PLATE_JPEG, f"read-{read.pk}-scene.jpg": SCENE_JPEG}
    assert wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).first()).attempts == 1


def test_a_mail_server_that_is_down_is_retried_and_reported(celery_worker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.ALERTS_MAX_ATTEMPTS = 2
    RuleFactory(kinds=[EventKind.LOGIN_FAILURES], targets=[EmailTargetFactory()])
    services.emit(kind=EventKind.LOGIN_FAILURES, subject="admin", detail={"address": "127.0.0.9"})
    failed = wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).first())
    assert failed.attempts == 2
    assert failed.last_error.startswith("gave up after 2 attempts: SMTP 127.0.0.1:")
    assert "Connection refused" in failed.last_error
