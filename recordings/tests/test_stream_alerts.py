"""A camera's RTSP server killed: one "down" message; restarted: one "back" message. The real
supervisor (`manage.py run_media`), the RTSP double, a Celery worker and a webhook receiver."""

from __future__ import annotations

import time

import pytest

from cameras.tests.factories import CameraFactory
from lprnvr.alerts.models import EventKind
from lprnvr.alerts.tests.factories import RuleFactory, WebhookTargetFactory
from lprnvr.alerts.tests.receivers import WebhookReceiver
from recordings.models import MediaChannel, ProcessState
from tests.waiting import wait_for

pytestmark = [pytest.mark.media, pytest.mark.celery]


@pytest.fixture
def down_after_two_seconds(media_env):
    media_env["ALERTS_DOWN_AFTER"] = "2"  # the supervisor child's threshold
    return media_env


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def kinds(receiver) -> list[str]:
    return [r.json["kind"] for r in receiver.received]


def test_rtsp_server_killed_then_restarted(down_after_two_seconds, rtsp_server, supervisor, celery_worker, webhook):
    camera = CameraFactory(ip="127.0.0.1", http_port=8101, rtsp_url=rtsp_server.url(1))
    RuleFactory(kinds=[EventKind.CAMERA_DOWN], targets=[WebhookTargetFactory(url=webhook.url)], cooldown_seconds=300)
    MediaChannel.objects.update_or_create(camera=camera, defaults={"continuous": True})
    state = lambda: MediaChannel.objects.get(camera=camera).state  # noqa: E731
    wait_for(lambda: state() == ProcessState.RUNNING, 30, message="running")
    rtsp_server.stop()
    wait_for(lambda: kinds(webhook) == ["camera_down"], 40, message="the down message")
    assert webhook.received[0].json["detail"]["state"] in ("backoff", "down")
    rtsp_server.start()
    wait_for(lambda: kinds(webhook) == ["camera_down", "camera_up"], 40, message="the back message")
    time.sleep(3)  # a few more supervisor passes: nothing more is sent
    assert kinds(webhook) == ["camera_down", "camera_up"]
