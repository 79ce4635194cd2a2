"""Events the other parts raise: the media supervisor's down/up (its state, pass by pass) and
repeated login failures (accounts throttling). Plates' events: plates/tests/test_alert_events.py;
the supervisor for real: recordings/tests/test_stream_alerts.py."""

from __future__ import annotations

import pytest
from django.test import override_settings

from cameras.tests.factories import CameraFactory
from lprnvr.alerts.models import Event, EventKind
from lprnvr.alerts.outages import StreamOutages

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def kinds() -> list[str]:
    return list(Event.objects.order_by("id").values_list("kind", flat=True))


def test_a_stream_in_trouble_past_the_threshold_is_down_once_then_up_once(settings):
    settings.ALERTS_DOWN_AFTER = 60
    camera, clock = CameraFactory(), Clock()
    outages = StreamOutages(clock)
    passes = [("running", 0), ("backoff", 1), ("starting", 10), ("backoff", 30), ("down", 59.5)]
    for state, at in passes:
        clock.now = 1000 + at
        outages.observe(camera.pk, state, "connection refused")
    assert kinds() == []  # under the threshold: retries are not news
    for at in (61, 90, 300):
        clock.now = 1000 + at
        outages.observe(camera.pk, "down", "connection refused")
    assert kinds() == [EventKind.CAMERA_DOWN]
    [down] = Event.objects.all()
    assert down.camera == camera and down.detail["error"] == "connection refused"
    for _ in range(3):
        outages.observe(camera.pk, "running")
    assert kinds() == [EventKind.CAMERA_DOWN, EventKind.CAMERA_UP]


def test_a_short_blip_or_a_stream_nobody_wants_is_no_news(settings):
    settings.ALERTS_DOWN_AFTER = 60
    camera, clock = CameraFactory(), Clock()
    outages = StreamOutages(clock)
    outages.observe(camera.pk, "backoff")
    clock.now += 30
    outages.observe(camera.pk, "running")
    clock.now += 50
    outages.observe(camera.pk, "backoff")  # the clock starts again: 50 s of trouble, not 80
    clock.now += 50
    outages.observe(camera.pk, "idle")
    clock.now += 100
    outages.observe(camera.pk, "backoff")
    outages.observe(camera.pk, "running")
    assert kinds() == []


@override_settings(LOGIN_MAX_FAILURES_PER_USER=3, LOGIN_MAX_FAILURES_PER_ADDRESS=100)
def test_repeated_login_failures_for_an_account_are_one_event(api_client, make_user):
    make_user(username="ana")
    for _ in range(8):
        api_client.post("/api/auth/login", {"username": "ana", "password": "wrong"}, format="json")
    [event] = Event.objects.filter(kind=EventKind.LOGIN_FAILURES)
    assert event.subject == "ana" and event.camera is None
    assert event.detail["failures"] == 3 and event.detail["address"] == "127.0.0.1"
