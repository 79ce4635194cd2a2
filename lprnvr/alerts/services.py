"""Events in: `emit` (any part that knows something happened) and `read_stored` (plate ingestion);
the `notify` queue then evaluates the rules (`rules.py`) and delivers (`delivery.py`).

Nothing here raises into the code that reported the event: a broken database row, a rule that
cannot be read or a broker that is down is logged and, for deliveries, retried (see `delivery`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import rules
from .models import PLATE_KINDS, Event, EventKind, Rule, Target

log = logging.getLogger("lprnvr.alerts")


# --- Reporting events --------------------------------------------------------------------------


def emit(*, kind: str, camera=None, read=None, subject: str = "", detail: dict | None = None) -> Event | None:
    """Record that something happened and have the rules look at it once the caller's transaction
    commits (at once outside one). Never raises: a failure is logged and None returned."""
    try:
        if kind not in EventKind.values:
            raise ValueError(f"unknown event kind {kind!r}")
        with transaction.atomic():  # a savepoint: a failure here never breaks the caller's transaction
            event = Event.objects.create(
                kind=kind, camera=camera, read=read, subject=str(subject)[:200], detail=_jsonable(detail or {})
            )
            transaction.on_commit(lambda: _enqueue_evaluation(event.pk), robust=True)
        return event
    except Exception:
        log.exception("alerts: could not record a %s event", kind)
        return None


def _jsonable(detail: dict) -> dict:
    return json.loads(json.dumps(detail, default=str))


def _enqueue_evaluation(event_id: int) -> None:
    from .tasks import evaluate_event_task

    evaluate_event_task.delay(event_id)


def read_kinds(read) -> set[str]:
    """The plate kinds a stored read raises (both verdicts were decided at ingestion)."""
    kinds = set()
    verdict = {"blocked": EventKind.PLATE_BLOCKED, "unlisted": EventKind.PLATE_UNLISTED}
    verdict["expired"] = EventKind.PLATE_EXPIRED
    if read.our_verdict in verdict:
        kinds.add(verdict[read.our_verdict])
    if read.flagged:
        kinds.add(EventKind.VERDICT_MISMATCH)
    return kinds


def read_stored(read) -> None:
    """Ingestion stored a new read: when an enabled rule watches one of the kinds it raises, the
    `notify` queue records the events and evaluates them after the commit. The cost here is a set
    intersection (the watched kinds are cached per process) and, only when watched, one cache read
    per kind, camera and quiet spell (every rule cooling down) and one enqueue when not quiet."""
    try:
        kinds = read_kinds(read) & watched_kinds()
        if kinds:
            kinds = _not_quiet(kinds, read.camera_id)
        if kinds:
            from .tasks import read_events_task

            args = (read.pk, sorted(kinds), read.camera_id, read.received_at.isoformat())
            transaction.on_commit(lambda: read_events_task.delay(*args), robust=True)
    except Exception:
        log.exception("alerts: could not look at plate read %s", getattr(read, "pk", None))


_watched: tuple[float, frozenset[str]] = (0.0, frozenset())


def watched_kinds() -> frozenset[str]:
    """Event kinds some enabled rule watches; re-read at most every ALERTS_RULES_CACHE_SECONDS."""
    global _watched
    expires, kinds = _watched
    if time.monotonic() < expires:
        return kinds
    rows = Rule.objects.filter(enabled=True).values_list("kinds", flat=True)
    kinds = frozenset(str(k) for row in rows for k in (row if isinstance(row, list) else []))
    _watched = (time.monotonic() + settings.ALERTS_RULES_CACHE_SECONDS, kinds)
    return kinds


def forget_watched_kinds(**_kwargs) -> None:
    """A rule or target changed: this process reads them again (other processes within seconds)."""
    global _watched
    _watched = (0.0, frozenset())
    _quiet.clear()
    rules.forget_rules()


for _sender, _uid in ((Rule, "rule"), (Target, "target")):
    post_save.connect(forget_watched_kinds, sender=_sender, dispatch_uid=f"alerts-{_uid}-saved")
    post_delete.connect(forget_watched_kinds, sender=_sender, dispatch_uid=f"alerts-{_uid}-deleted")
for _through, _uid in ((Rule.targets.through, "targets"), (Rule.cameras.through, "cameras")):
    m2m_changed.connect(forget_watched_kinds, sender=_through, dispatch_uid=f"alerts-rule-{_uid}")


# A (kind, camera) no rule would send before a time is "quiet" until then: the notify worker says so
# in the cache, and ingestion, which reads it at most once per kind, camera and quiet spell,
# enqueues nothing for those reads.
def _quiet_key(kind: str, camera_id: int) -> str:
    return f"alerts:quiet:{kind}:{camera_id}"


def _mark_quiet(kind: str, camera_id: int, until: datetime) -> None:
    from django.core.cache import cache

    seconds = until.timestamp() - time.time()
    if seconds >= 0.5:
        cache.set(_quiet_key(kind, camera_id), until.timestamp(), timeout=math.ceil(seconds))


_quiet: dict[tuple[str, int], float] = {}  # this process's copy of what it read from the cache


def _not_quiet(kinds: set[str], camera_id: int) -> set[str]:
    now = time.time()
    left = {kind for kind in kinds if _quiet.get((kind, camera_id), 0.0) <= now}
    if not left:
        return left
    try:
        from django.core.cache import cache

        found = cache.get_many([_quiet_key(kind, camera_id) for kind in left])
    except Exception:  # the cache down: evaluate everything rather than miss an alert
        log.warning("alerts: the cache cannot be read; every read is evaluated", exc_info=True)
        return left
    for kind in list(left):
        until = found.get(_quiet_key(kind, camera_id))
        if isinstance(until, float) and until > now:
            _quiet[(kind, camera_id)] = until
            left.discard(kind)
    return left


def record_read_events(
    *, read_id: int, kinds: list[str], camera_id: int | None = None, at: datetime | None = None
) -> list[int]:
    """The events of one stored read that some rule would send now (once per read and kind, however
    often the task runs), each evaluated at once; returns their ids. A read every rule is cooling
    down for is no event (the read itself is the record); with its camera and time given, such a
    read costs no query at all."""
    from plates.models import PlateRead

    kinds = [k for k in kinds if k in PLATE_KINDS]
    if camera_id is not None and at is not None:
        worth = []
        for kind in kinds:
            if (until := rules.quiet_until(kind=kind, camera_id=camera_id, at=at)) is None:
                worth.append(kind)
            else:
                _mark_quiet(kind, camera_id, until)
        if not (kinds := worth):
            return []
    read = PlateRead.objects.select_related("camera").filter(pk=read_id).first()
    if read is None:
        return []
    ids = []
    for kind in kinds:
        if not rules.worth_an_event(kind=kind, camera_id=read.camera_id, at=read.received_at):
            continue
        detail = {"number": read.number, "camera_verdict": read.camera_verdict, "our_verdict": read.our_verdict}
        event, _created = Event.objects.get_or_create(
            read=read, kind=kind, defaults={"camera": read.camera, "occurred_at": read.received_at, "detail": detail}
        )
        rules.evaluate_event(event.pk)
        ids.append(event.pk)
    return ids
