"""Celery tasks for alerts: thin, ids in. Routed to the `notify` queue (lprnvr/celery.py)."""

from __future__ import annotations

from celery import shared_task

from . import delivery, rules, services


@shared_task(name="alerts.evaluate_event", acks_late=True, ignore_result=True)
def evaluate_event_task(event_id: int) -> None:
    """Match one event against the rules and queue its deliveries (once: the event row is claimed)."""
    rules.evaluate_event(event_id)


@shared_task(name="alerts.read_events", acks_late=True, ignore_result=True)
def read_events_task(read_id: int, kinds: list[str], camera_id: int | None = None, at: str | None = None) -> None:
    """The events of one stored plate read, evaluated: off the ingestion thread. `camera_id` and `at`
    (the read's received_at, ISO 8601) let a read inside every cooldown be dropped without a query."""
    from datetime import datetime

    when = datetime.fromisoformat(at) if at else None
    services.record_read_events(read_id=read_id, kinds=kinds, camera_id=camera_id, at=when)


@shared_task(name="alerts.deliver", acks_late=True, ignore_result=True)
def deliver_task(delivery_id: int) -> None:
    """One attempt at one delivery; the next one, when it failed and may be retried, after its backoff.
    The row says when it is due, so the beat re-enqueues it if this message is lost."""
    delay = delivery.deliver(delivery_id)
    if delay is not None:
        deliver_task.apply_async((delivery_id,), countdown=delay)


@shared_task(name="alerts.requeue", ignore_result=True)
def requeue_task() -> dict:
    """Beat: deliveries and events left behind by a lost message or a dead worker, queued again."""
    return delivery.requeue_due()


@shared_task(name="alerts.system_checks", ignore_result=True)
def system_checks_task() -> list[str]:
    """Beat: services that stopped (or resumed) beating, folders under the free-space floor."""
    from . import system

    return system.check_services() + system.check_disks()
