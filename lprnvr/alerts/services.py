"""Events in, deliveries out: `emit` (any part that knows something happened), `read_stored` (plate
ingestion), and the rule evaluation the `notify` queue runs for each event.

Nothing here raises into the code that reported the event: a broken database row, a rule that
cannot be read or a broker that is down is logged and, for deliveries, retried (see `delivery`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from .models import PLATE_KINDS, RECOVERY_OF, Cooldown, Delivery, Event, EventKind, Rule, Target

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
    from django.conf import settings

    expires, kinds = _watched
    if time.monotonic() < expires:
        return kinds
    rows = Rule.objects.filter(enabled=True).values_list("kinds", flat=True)
    kinds = frozenset(str(k) for row in rows for k in (row if isinstance(row, list) else []))
    _watched = (time.monotonic() + settings.ALERTS_RULES_CACHE_SECONDS, kinds)
    return kinds


_rules: tuple[float, list[Rule]] = (0.0, [])


def active_rules() -> list[Rule]:
    """The enabled rules with their cameras and targets, re-read at most every
    ALERTS_RULES_CACHE_SECONDS (a rule saved in this process is seen at once: see the signals)."""
    global _rules
    from django.conf import settings

    expires, rules = _rules
    if time.monotonic() < expires:
        return rules
    rules = list(Rule.objects.filter(enabled=True).prefetch_related("cameras", "targets").order_by("id"))
    _rules = (time.monotonic() + settings.ALERTS_RULES_CACHE_SECONDS, rules)
    return rules


def forget_watched_kinds(**_kwargs) -> None:
    """A rule or target changed: this process reads them again (other processes within seconds)."""
    global _watched, _rules
    _watched = (0.0, frozenset())
    _rules = (0.0, [])
    _fired.clear()
    _quiet.clear()


for _sender, _uid in ((Rule, "rule"), (Target, "target")):
    post_save.connect(forget_watched_kinds, sender=_sender, dispatch_uid=f"alerts-{_uid}-saved")
    post_delete.connect(forget_watched_kinds, sender=_sender, dispatch_uid=f"alerts-{_uid}-deleted")
for _through, _uid in ((Rule.targets.through, "targets"), (Rule.cameras.through, "cameras")):
    m2m_changed.connect(forget_watched_kinds, sender=_through, dispatch_uid=f"alerts-rule-{_uid}")


#: When each (rule, cooldown key) last fired, as far as this process has seen: it only ever moves
#: forward, so a remembered time inside the cooldown proves the cooldown without a query.
_fired: dict[tuple[int, str], datetime] = {}


def _remember_fired(rule_id: int, key: str, at: datetime) -> None:
    if at > _fired.get((rule_id, key), at - timedelta(seconds=1)):
        _fired[(rule_id, key)] = at


def quiet_until(*, kind: str, camera_id: int | None, at: datetime) -> datetime | None:
    """None when some rule would send a plate event of this kind and camera now (kind, scope,
    schedule, an enabled target, cooldown over); else until when none would (at most
    ALERTS_RULES_CACHE_SECONDS ahead: rules and schedules are re-read that often). At 100 reads/s
    nearly every read is inside every rule's cooldown: that is answered from memory."""
    from django.conf import settings

    horizon = at + timedelta(seconds=settings.ALERTS_RULES_CACHE_SECONDS)
    candidates = [
        rule
        for rule in active_rules()
        if kind in rule.kinds
        and rule.covers(camera_id, {c.pk for c in rule.cameras.all()})
        and rule.in_schedule(at)
        and any(t.enabled for t in rule.targets.all())
    ]
    key = f"{kind}|{camera_id or ''}|"

    def cool_until(rule: Rule) -> datetime | None:
        fired = _fired.get((rule.pk, key))
        if fired is None or not rule.cooldown_seconds:
            return None
        end = fired + timedelta(seconds=rule.cooldown_seconds)
        return end if end > at else None

    unknown = [rule for rule in candidates if cool_until(rule) is None]
    if unknown:
        if any(not rule.cooldown_seconds for rule in unknown):
            return None
        for rule_id, fired_at in Cooldown.objects.filter(rule__in=unknown, key=key).values_list("rule_id", "fired_at"):
            _remember_fired(rule_id, key, fired_at)
        if any(cool_until(rule) is None for rule in unknown):
            return None
    return min([horizon, *(cool_until(rule) for rule in candidates)])


def worth_an_event(*, kind: str, camera_id: int | None, at: datetime) -> bool:
    return quiet_until(kind=kind, camera_id=camera_id, at=at) is None


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
            if (until := quiet_until(kind=kind, camera_id=camera_id, at=at)) is None:
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
        if not worth_an_event(kind=kind, camera_id=read.camera_id, at=read.received_at):
            continue
        detail = {"number": read.number, "camera_verdict": read.camera_verdict, "our_verdict": read.our_verdict}
        event, _created = Event.objects.get_or_create(
            read=read, kind=kind, defaults={"camera": read.camera, "occurred_at": read.received_at, "detail": detail}
        )
        evaluate_event(event.pk)
        ids.append(event.pk)
    return ids


# --- Rules -------------------------------------------------------------------------------------


def evaluate_event(event_id: int) -> list[int]:
    """Match an event against the enabled rules and create its deliveries (one per target), then
    enqueue them. Runs once per event (claimed with a conditional UPDATE); returns the delivery ids."""
    with transaction.atomic():
        if not Event.objects.filter(pk=event_id, evaluated_at__isnull=True).update(evaluated_at=timezone.now()):
            return []
        event = Event.objects.select_related("camera").get(pk=event_id)
        chosen: dict[int, tuple[Target, Rule]] = {}
        for rule in active_rules():
            for target in targets_for(rule, event):
                chosen.setdefault(target.pk, (target, rule))
        ids = [
            Delivery.objects.create(event=event, target=target, rule=rule, next_attempt_at=timezone.now()).pk
            for target, rule in chosen.values()
        ]
        if ids:
            transaction.on_commit(lambda: _enqueue_deliveries(ids), robust=True)
    return ids


def _enqueue_deliveries(ids: list[int]) -> None:
    from .tasks import deliver_task

    for pk in ids:
        deliver_task.delay(pk)


def targets_for(rule: Rule, event: Event) -> list[Target]:
    """Where this rule sends this event: nowhere unless kind, camera scope, schedule and cooldown
    all say yes; a "back to normal" event goes where the rule sent the "down" it ends."""
    targets = [t for t in rule.targets.all() if t.enabled]
    if not targets:
        return []
    down = RECOVERY_OF.get(event.kind)
    if down and rule.send_recovery and down in rule.kinds:
        return recovery_targets(rule, event, down)
    if event.kind not in rule.kinds:
        return []
    if not rule.covers(event.camera_id, {c.pk for c in rule.cameras.all()}):
        return []
    if not rule.in_schedule(event.occurred_at):
        return []
    if not claim_cooldown(rule, event):
        return []
    return targets


def recovery_targets(rule: Rule, event: Event, down: str) -> list[Target]:
    """The targets of the rule's last "down" message for this camera and subject, when no "up"
    went out after it (a flapping camera within the cooldown is one down and one up)."""
    last = (
        Delivery.objects.filter(
            rule=rule,
            event__kind__in=[down, event.kind],
            event__camera_id=event.camera_id,
            event__subject=event.subject,
            event__occurred_at__lte=event.occurred_at,
        )
        .exclude(event=event)
        .select_related("event")
        .order_by("-event__occurred_at", "-event_id")
        .first()
    )
    if last is None or last.event.kind != down:
        return []
    went = Delivery.objects.filter(rule=rule, event_id=last.event_id).select_related("target")
    return [d.target for d in went if d.target.enabled]


def claim_cooldown(rule: Rule, event: Event) -> bool:
    """Whether the rule may fire for this kind, camera and subject now; if so, the cooldown starts
    (a conditional UPDATE: two workers evaluating two events at once never both fire)."""
    if not rule.cooldown_seconds:
        return True
    at, key = event.occurred_at, event.cooldown_key
    rows = Cooldown.objects.filter(rule=rule, key=key)
    if rows.filter(fired_at__lte=at - timedelta(seconds=rule.cooldown_seconds)).update(fired_at=at):
        transaction.on_commit(lambda: _remember_fired(rule.pk, key, at))
        return True
    if rows.exists():
        return False
    try:
        with transaction.atomic():
            Cooldown.objects.create(rule=rule, key=key, fired_at=at)
        transaction.on_commit(lambda: _remember_fired(rule.pk, key, at))
        return True
    except IntegrityError:
        return False
