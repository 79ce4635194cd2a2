"""Rules against events: which targets an event goes to (kind, camera scope, schedule, cooldown,
back-to-normal pairs), the deliveries that creates, and whether a plate read is worth an event at
all. The enabled rules and the last firings are kept in memory per process (see `forget_rules`)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import RECOVERY_OF, Cooldown, Delivery, Event, Rule, Target

_rules: tuple[float, list[Rule]] = (0.0, [])


def active_rules() -> list[Rule]:
    """The enabled rules with their cameras and targets, re-read at most every
    ALERTS_RULES_CACHE_SECONDS (a rule saved in this process is seen at once: see the signals)."""
    global _rules
    expires, rules = _rules
    if time.monotonic() < expires:
        return rules
    rules = list(Rule.objects.filter(enabled=True).prefetch_related("cameras", "targets").order_by("id"))
    _rules = (time.monotonic() + settings.ALERTS_RULES_CACHE_SECONDS, rules)
    return rules


def forget_rules() -> None:
    """A rule or target changed: this process reads the rules again."""
    global _rules
    _rules = (0.0, [])
    _fired.clear()


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
