"""Service heartbeats: every long-running part of the system says it is alive, one selector says which
parts are not.

Who beats (all through `beat`, one upsert of the (service, host) row):
- `media` and `events`: the media supervisor's and the event listener's loops, through a `Heartbeat`
  that writes at most once per SERVICE_HEARTBEAT_SECONDS (the loops pass every second or two);
- `worker.<queue>`: the `monitoring.worker_heartbeat` task, which beat sends to each queue every
  SERVICE_HEARTBEAT_SECONDS: the row proves that a worker on that machine consumes that queue (the
  worker's node name in the detail; with workers on two machines, each takes its share of the beats);
- `beat`: Celery beat itself, each time it publishes a task (monitoring.signals).

A service whose last beat is older than SERVICE_STALE_SECONDS is `stale`; one of SERVICES_EXPECTED
with no row at all is `missing`. `stale_services()` is the one question a periodic check asks.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import Liveness, ServiceHeartbeat

log = logging.getLogger("monitoring.heartbeats")

MEDIA = "media"
EVENTS = "events"
BEAT = "beat"


def worker_service(queue: str) -> str:
    """The service name of the workers consuming a Celery queue."""
    return f"worker.{queue}"


def this_host() -> str:
    return socket.gethostname()


def beat(
    *, service: str, host: str | None = None, detail: dict | None = None, started_at: datetime | None = None
) -> None:
    """Record that `service` on `host` (this machine by default) is alive now: one upsert of its row."""
    now = timezone.now()
    row = ServiceHeartbeat(
        service=service,
        host=host or this_host(),
        beat_at=now,
        started_at=started_at,
        pid=os.getpid(),
        detail=detail or {},
    )
    ServiceHeartbeat.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["service", "host"],
        update_fields=["beat_at", "started_at", "pid", "detail"],
    )


class Heartbeat:
    """The heartbeat of one long-running loop: call it every pass, it writes at most once per `every`
    seconds (SERVICE_HEARTBEAT_SECONDS by default). A database that is away costs a log line, never
    the loop."""

    def __init__(self, service: str, *, host: str | None = None, every: float | None = None) -> None:
        self.service = service
        self.host = host or this_host()
        self.every = settings.SERVICE_HEARTBEAT_SECONDS if every is None else every
        self.started_at = timezone.now()
        self._written_at: float | None = None

    def __call__(self, **detail) -> bool:
        """Beat now unless the last write is younger than `every`; True when a row was written."""
        now = time.monotonic()
        if self._written_at is not None and now - self._written_at < self.every:
            return False
        try:
            beat(service=self.service, host=self.host, detail=detail, started_at=self.started_at)
        except DatabaseError as exc:
            log.warning("%s heartbeat not written: %s", self.service, exc)
            return False
        self._written_at = now
        return True


@dataclass(frozen=True)
class ServiceStatus:
    """One service on one host as `service_states()` sees it (host "" for a service never seen)."""

    service: str
    host: str
    state: str
    beat_at: datetime | None = None
    age_seconds: float | None = None
    pid: int | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == Liveness.OK

    def as_dict(self) -> dict:
        return asdict(self) | {"beat_at": self.beat_at.isoformat() if self.beat_at else None}


def service_states(*, now: datetime | None = None) -> list[ServiceStatus]:
    """Every service that ever beat, on every host, as ok or stale; and each of SERVICES_EXPECTED that
    never did as missing. Sorted by service, then host."""
    now = now or timezone.now()
    stale_after = settings.SERVICE_STALE_SECONDS
    states = []
    for row in ServiceHeartbeat.objects.all():
        age = max(0.0, (now - row.beat_at).total_seconds())
        states.append(
            ServiceStatus(
                service=row.service,
                host=row.host,
                state=Liveness.OK if age <= stale_after else Liveness.STALE,
                beat_at=row.beat_at,
                age_seconds=round(age, 3),
                pid=row.pid,
                detail=row.detail,
            )
        )
    seen = {state.service for state in states}
    states += [
        ServiceStatus(service=name, host="", state=Liveness.MISSING)
        for name in settings.SERVICES_EXPECTED
        if name not in seen
    ]
    return sorted(states, key=lambda s: (s.service, s.host))


def stale_services(*, now: datetime | None = None) -> list[ServiceStatus]:
    """The services (per host) with no heartbeat lately, or expected and never seen: what the issue-12
    "service with no heartbeat" event is about. Empty when everything beats."""
    return [state for state in service_states(now=now) if not state.ok]


def state_counts(*, now: datetime | None = None) -> dict[str, int]:
    """How many (service, host) pairs are in each state: /stats' summary."""
    counts = dict.fromkeys(Liveness.values, 0)
    for state in service_states(now=now):
        counts[state.state] += 1
    return counts
