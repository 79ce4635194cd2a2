"""Delivering one event to one target: claim the row, send, record the outcome, retry with
exponential backoff, give up after ALERTS_MAX_ATTEMPTS. The beat task re-enqueues what a lost
message or a dead worker left behind, so nothing depends on a task message surviving."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from . import messages
from .clients import PermanentError, TransientError, mail, webhook
from .models import Delivery, DeliveryStatus, Event, EventKind, Target

log = logging.getLogger("lprnvr.alerts")

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
ONLINE, OFFLINE = b"online", b"offline"  # a camera's retained status (and our own, by the last will)
STATUS_OF = {EventKind.CAMERA_DOWN: OFFLINE, EventKind.CAMERA_UP: ONLINE}


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: ALERTS_RETRY_BASE_DELAY doubled per attempt, capped,
    with +-20 % jitter so a receiver coming back is not hit by every retry at once."""
    base = min(settings.ALERTS_RETRY_MAX_DELAY, settings.ALERTS_RETRY_BASE_DELAY * 2 ** max(0, attempt - 1))
    return base * (0.8 + 0.4 * random.random())


def deliver(delivery_id: int) -> float | None:
    """One attempt at one delivery. Idempotent: only a pending or retrying row that is due is
    claimed (a duplicate task finds nothing to do). Returns the seconds until the next attempt when
    it should be retried, else None."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=OPEN, next_attempt_at__lte=now + timedelta(seconds=1)
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, started_at=now)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related(
        "target", "event__camera", "event__read__camera", "event__read__plate"
    ).get(pk=delivery_id)
    started = time.monotonic()
    error, retry = "", False
    try:
        send(delivery.event, delivery.target, delivery_id=delivery.pk)
    except TransientError as exc:
        error, retry = str(exc), True
    except PermanentError as exc:
        error = str(exc)
    except Exception as exc:  # our own bug must not lose the message: logged, and retried like a transient fault
        log.exception("alerts: delivery %s to target %s failed unexpectedly", delivery.pk, delivery.target_id)
        error, retry = f"internal error: {type(exc).__name__}", True
    fields = {"duration_ms": round((time.monotonic() - started) * 1000, 1), "last_error": error[:1000]}
    delay = None
    if not error:
        fields.update(status=DeliveryStatus.SENT, finished_at=timezone.now())
    elif retry and delivery.attempts < settings.ALERTS_MAX_ATTEMPTS:
        delay = backoff(delivery.attempts)
        fields.update(status=DeliveryStatus.RETRYING, next_attempt_at=timezone.now() + timedelta(seconds=delay))
    else:
        if retry:
            fields["last_error"] = f"gave up after {delivery.attempts} attempts: {error}"[:1000]
        fields.update(status=DeliveryStatus.FAILED, finished_at=timezone.now())
    if error:
        log.warning("alerts: delivery %s to %s: %s", delivery.pk, delivery.target.name, fields["last_error"])
    # Only this attempt's claim is settled (the beat may have reclaimed a row it thought abandoned).
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts).update(**fields)
    return delay


def send(event: Event, target: Target, *, delivery_id: int | None = None) -> None:
    """Send one event to one target through its client; the clients' typed errors pass through."""
    doc = messages.body(event)
    if target.kind == Target.Kind.WEBHOOK:
        headers = {"X-Lprnvr-Event": event.kind}
        if delivery_id is not None:
            headers["X-Lprnvr-Delivery"] = str(delivery_id)
        webhook.post(
            url=target.url,
            body=messages.encode(doc),
            secret=target.secret,
            timeout=target.timeout_seconds,
            headers=headers,
        )
    elif target.kind == Target.Kind.MQTT:
        from .clients import mqtt  # paho-mqtt only where MQTT is used

        published, once = mqtt_messages(event, target, doc)
        mqtt.publish(broker_of(target), published, timeout=target.timeout_seconds, once=once)
    elif target.kind == Target.Kind.EMAIL:
        mail.send(
            mail.Mail(
                subject=doc["title"],
                body=messages.email_text(event, doc),
                recipients=target.recipient_list(),
                attachments=messages.email_attachments(event),
            )
        )
    else:
        raise PermanentError(f"unknown target kind {target.kind!r}")


def prefix_of(target: Target) -> str:
    return target.topic_prefix.strip("/")


def topic(target: Target, *parts: str) -> str:
    return "/".join(p for p in (prefix_of(target), *parts) if p)


def broker_of(target: Target):
    from .clients import mqtt

    return mqtt.Broker(
        host=target.host,
        port=target.port,
        tls=target.use_tls,
        username=target.username,
        password=target.password,
        will_topic=topic(target, "status") if target.last_will else "",
        keepalive=settings.ALERTS_MQTT_KEEPALIVE,
    )


def mqtt_messages(event: Event, target: Target, doc: dict) -> tuple[list, list]:
    """The event on `<prefix>/<camera>/<kind>`, the camera's retained `<prefix>/<camera>/status` for
    down/up, and (once per connection) its Home Assistant discovery config."""
    from .clients import mqtt

    ref = messages.camera_ref(event)
    published = [mqtt.Message(topic(target, ref, event.kind), messages.encode(doc))]
    if event.kind in STATUS_OF and event.camera is not None:
        published.append(mqtt.Message(topic(target, ref, "status"), STATUS_OF[event.kind], retain=target.retain_status))
    once = []
    if target.ha_discovery and event.camera is not None:
        camera = event.camera
        config = {
            "name": "Stream",
            "unique_id": f"lprnvr_camera_{camera.pk}_stream",
            "state_topic": topic(target, ref, "status"),
            "payload_on": ONLINE.decode(),
            "payload_off": OFFLINE.decode(),
            "device_class": "connectivity",
            "device": {"identifiers": [f"lprnvr_camera_{camera.pk}"], "name": camera.name, "manufacturer": "lprnvr"},
        }
        if target.last_will:
            config["availability_topic"] = topic(target, "status")
        ha_prefix = target.ha_prefix.strip("/") or "homeassistant"
        discovery = f"{ha_prefix}/binary_sensor/lprnvr_camera_{camera.pk}/stream/config"
        once.append(mqtt.Message(discovery, json.dumps(config).encode(), retain=True))
    return published, once


def send_again(*, ids: list[int]) -> int:
    """Failed deliveries among `ids` start over (attempts from zero), queued after the commit."""
    from django.db import transaction

    from .tasks import deliver_task

    with transaction.atomic():
        again = list(Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=again).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), finished_at=None
        )
        transaction.on_commit(lambda: [deliver_task.delay(pk) for pk in again])
    return len(again)


def requeue_due() -> dict:
    """Beat: deliveries due and not taken for a whole interval are queued again, deliveries stuck
    in `sending` past ALERTS_SENDING_TIMEOUT (their worker died) are made due, events nobody
    evaluated are evaluated, and events past ALERTS_RETENTION_DAYS go (with their deliveries)."""
    from .tasks import deliver_task, evaluate_event_task

    now = timezone.now()
    abandoned = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, started_at__lt=now - timedelta(seconds=settings.ALERTS_SENDING_TIMEOUT)
    )
    stuck = list(abandoned.values_list("pk", flat=True)[:1000])
    abandoned.filter(pk__in=stuck).update(
        status=DeliveryStatus.RETRYING, next_attempt_at=now, last_error="the worker sending it stopped"
    )
    horizon = now - timedelta(seconds=settings.ALERTS_REQUEUE_INTERVAL)
    due = stuck + list(
        Delivery.objects.filter(status__in=OPEN, next_attempt_at__lt=horizon)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in dict.fromkeys(due):
        deliver_task.delay(pk)
    events = list(
        Event.objects.filter(evaluated_at__isnull=True, occurred_at__lt=horizon).values_list("pk", flat=True)[:1000]
    )
    for pk in events:
        evaluate_event_task.delay(pk)
    old, _by_model = Event.objects.filter(occurred_at__lt=now - timedelta(days=settings.ALERTS_RETENTION_DAYS)).delete()
    return {"deliveries": len(set(due)), "stuck": len(stuck), "events": len(events), "deleted": old}
