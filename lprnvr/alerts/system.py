"""System events nobody's own code can report: a service with no heartbeat (it is not running to say
so) and free disk under the floor. A beat task (`alerts.system_checks`, every
ALERTS_SYSTEM_CHECK_INTERVAL s) looks, and emits on a change of state only: one `service_down` when a
service goes quiet, one `service_up` when it beats again, one `disk_low` per ALERTS_DISK_LOW_REPEAT
while a folder stays under the floor. The last event of each subject is the memory, so a restarted
worker neither repeats nor forgets a "down".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import Event, EventKind
from .services import emit

log = logging.getLogger("lprnvr.alerts")


def _last(kinds: tuple[str, ...], subject: str) -> Event | None:
    return Event.objects.filter(kind__in=kinds, subject=subject).order_by("-occurred_at", "-id").first()


def check_services() -> list[str]:
    """service_down for each service (per host) that stopped beating, service_up for each that came
    back; returns the events emitted as "kind subject"."""
    from lprnvr.monitoring.heartbeats import service_states

    emitted = []
    pair = (EventKind.SERVICE_DOWN, EventKind.SERVICE_UP)
    for state in service_states():
        subject = f"{state.service}@{state.host}" if state.host else state.service
        last = _last(pair, subject)
        if not state.ok and (last is None or last.kind == EventKind.SERVICE_UP):
            detail = {"service": state.service, "host": state.host, "state": state.state,
                      "last_beat": state.beat_at.isoformat() if state.beat_at else None}  # fmt: skip
            emit(kind=EventKind.SERVICE_DOWN, subject=subject, detail=detail)
            emitted.append(f"{EventKind.SERVICE_DOWN} {subject}")
        elif state.ok and last is not None and last.kind == EventKind.SERVICE_DOWN:
            emit(kind=EventKind.SERVICE_UP, subject=subject, detail={"service": state.service, "host": state.host})
            emitted.append(f"{EventKind.SERVICE_UP} {subject}")
    return emitted


def _device(folder: Path) -> int | None:
    """The device a folder is (or will be) on, to tell two folders on one disk apart from two disks."""
    from recordings.storage import existing_ancestor

    try:
        return existing_ancestor(folder).stat().st_dev
    except OSError:
        return None


def check_disks() -> list[str]:
    """disk_low for the recordings and plate-read folders under the free-space floor (at most one
    per folder per ALERTS_DISK_LOW_REPEAT seconds)."""
    from recordings import storage
    from recordings.retention import floor_shortfall

    emitted = []
    folders = {"recordings": storage.root(), "plate reads": Path(settings.READS_DIR)}
    seen_devices = set()
    for name, folder in folders.items():
        device = _device(folder)
        if device in seen_devices:
            continue  # the same disk: one event says it
        seen_devices.add(device)
        try:
            short = floor_shortfall(folder)
        except OSError as exc:
            log.warning("alerts: cannot read the free space of %s: %s", folder, exc)
            continue
        if short <= 0:
            continue
        last = _last((EventKind.DISK_LOW,), name)
        if last is not None and timezone.now() - last.occurred_at < timedelta(seconds=settings.ALERTS_DISK_LOW_REPEAT):
            continue
        detail = {"folder": name, "short_bytes": short, "floor_bytes": settings.DISK_FREE_FLOOR_BYTES}
        emit(kind=EventKind.DISK_LOW, subject=name, detail=detail)
        emitted.append(f"{EventKind.DISK_LOW} {name}")
    return emitted
