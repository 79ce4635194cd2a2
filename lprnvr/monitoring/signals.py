"""Heartbeats from Celery's own processes, through its signals (connected when Django starts).

- A worker beats for each queue it consumes as soon as it is ready (then by `worker_heartbeat`), so a
  worker just started is not "missing" until beat's first heartbeat task reaches it.
- Beat beats each time it publishes a task: that proves its scheduler loop turns, not only that the
  process exists; its own `worker_heartbeat` entries make it publish every SERVICE_HEARTBEAT_SECONDS.
"""

from __future__ import annotations

import logging

from celery import signals
from django.db import DatabaseError, close_old_connections, connection

from . import heartbeats

log = logging.getLogger("monitoring.heartbeats")

beat_heartbeat: heartbeats.Heartbeat | None = None  # set in the beat process only


def _fresh_connection() -> None:
    # Beat and the worker's main process live outside any request cycle: drop a connection the
    # database closed (a restart) or past CONN_MAX_AGE, as Django does between requests.
    if not connection.in_atomic_block:
        close_old_connections()


@signals.worker_ready.connect
def worker_ready(sender=None, **kwargs) -> None:
    node = getattr(sender, "hostname", None)
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    _fresh_connection()
    try:
        for queue in queues:
            heartbeats.beat(service=heartbeats.worker_service(queue), detail={"queue": queue, "node": node})
    except DatabaseError as exc:
        log.warning("worker heartbeat not written: %s", exc)


@signals.beat_init.connect
def beat_init(sender=None, **kwargs) -> None:
    global beat_heartbeat
    beat_heartbeat = heartbeats.Heartbeat(heartbeats.BEAT)
    _fresh_connection()
    beat_heartbeat()


@signals.before_task_publish.connect
def task_published(sender=None, **kwargs) -> None:
    if beat_heartbeat is None:
        return  # a web or worker process sending a task: not beat
    _fresh_connection()
    beat_heartbeat(last_task=sender)
