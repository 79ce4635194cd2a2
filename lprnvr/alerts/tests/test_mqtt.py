"""MQTT end to end: the machine's Mosquitto (127.0.0.1:1883), a real worker, a paho subscriber.

Each test has a topic prefix of its own, so tests never read each other's (retained) messages.
"""

from __future__ import annotations

import json

import pytest

from cameras.tests.factories import CameraFactory
from lprnvr.alerts import services
from lprnvr.alerts.clients import mqtt
from lprnvr.alerts.models import Delivery, DeliveryStatus, EventKind
from tests.waiting import free_port, wait_for

from .factories import MqttTargetFactory, RuleFactory
from .receivers import MqttSubscriber

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subscriber():
    sub = MqttSubscriber(extra=("homeassistant-test/#",)).start()
    yield sub
    sub.stop()
    mqtt.close_all()


def test_camera_events_on_their_topics_with_a_retained_status(celery_worker, subscriber):
    camera = CameraFactory(name="Dock", ip="127.0.0.91", http_port=8080)
    target = MqttTargetFactory(topic_prefix=subscriber.prefix)
    RuleFactory(kinds=[EventKind.CAMERA_DOWN, EventKind.PLATE_UNLISTED], targets=[target])
    services.emit(kind=EventKind.CAMERA_DOWN, camera=camera, detail={"error": "connection refused"})
    p = subscriber.prefix
    [message] = subscriber.wait(f"{p}/127.0.0.91:8080/camera_down")
    doc = json.loads(message.payload)
    assert doc["kind"] == "camera_down" and doc["camera"]["ref"] == "127.0.0.91:8080"
    assert doc["detail"] == {"error": "connection refused"}
    assert subscriber.wait(f"{p}/127.0.0.91:8080/status")[-1].payload == b"offline"
    assert subscriber.wait(f"{p}/status")[-1].payload == b"online"  # our own status, beside the last will
    services.emit(kind=EventKind.CAMERA_UP, camera=camera)
    assert subscriber.wait(f"{p}/127.0.0.91:8080/camera_up")
    assert subscriber.wait(f"{p}/127.0.0.91:8080/status", 2)[-1].payload == b"online"
    # A subscriber arriving later still finds the camera's status: it is retained.
    late = MqttSubscriber(prefix=p).start()
    try:
        status = late.wait(f"{p}/127.0.0.91:8080/status")
        assert status[-1].payload == b"online" and status[-1].retain
    finally:
        late.client.disconnect()
        late.client.loop_stop()
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2)


def test_home_assistant_discovery_once_per_connection(celery_worker, subscriber):
    camera = CameraFactory(name="Gate")
    target = MqttTargetFactory(topic_prefix=subscriber.prefix, ha_discovery=True, ha_prefix="homeassistant-test")
    RuleFactory(kinds=[EventKind.CAMERA_DOWN, EventKind.LIST_DRIFT], targets=[target])
    services.emit(kind=EventKind.CAMERA_DOWN, camera=camera)
    topic = f"homeassistant-test/binary_sensor/lprnvr_camera_{camera.pk}/stream/config"
    [config] = subscriber.wait(topic)
    doc = json.loads(config.payload)
    assert doc["state_topic"] == f"{subscriber.prefix}/{camera.address}/status"
    assert doc["availability_topic"] == f"{subscriber.prefix}/status"
    assert doc["device_class"] == "connectivity" and doc["device"]["name"] == "Gate"
    services.emit(kind=EventKind.LIST_DRIFT, camera=camera)
    subscriber.wait(f"{subscriber.prefix}/{camera.address}/list_drift")
    assert len(subscriber.on(topic)) == 1


def test_a_broker_that_is_down_is_retried_then_failed(celery_worker, settings):
    settings.ALERTS_MAX_ATTEMPTS = 2
    target = MqttTargetFactory(port=free_port(), topic_prefix="nowhere")
    RuleFactory(kinds=[EventKind.CAMERA_LOCKED], targets=[target])
    services.emit(kind=EventKind.CAMERA_LOCKED, camera=CameraFactory())
    failed = wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).first())
    assert failed.attempts == 2
    assert failed.last_error.startswith("gave up after 2 attempts: broker 127.0.0.1:")
    assert "Connection refused" in failed.last_error


def test_the_last_will_says_offline_when_the_connection_drops(subscriber):
    """Straight through the client: a connection that dies without DISCONNECT (a killed worker)."""
    broker = mqtt.Broker(host="127.0.0.1", port=1883, will_topic=f"{subscriber.prefix}/status", keepalive=5)
    connection = mqtt.Connection(broker, timeout=5)
    connection.publish([mqtt.Message(f"{subscriber.prefix}/x/hello", b"1")], timeout=5)
    assert subscriber.wait(f"{subscriber.prefix}/status")[-1].payload == b"online"
    connection.client.loop_stop()
    connection.client.socket().close()  # the socket goes without a DISCONNECT packet
    assert subscriber.wait(f"{subscriber.prefix}/status", 2, timeout=30)[-1].payload == b"offline"
