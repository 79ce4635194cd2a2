"""Rules: kinds, camera scope, the weekly schedule (midnight crossed, the site's time zone), the
cooldown, back-to-normal pairs; `emit` and `read_stored` never raise into their callers."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cameras.tests.factories import CameraFactory
from lprnvr.alerts import rules, services
from lprnvr.alerts.models import Delivery, Event, EventKind, Rule

from .factories import RuleFactory, WebhookTargetFactory

pytestmark = pytest.mark.django_db

BOGOTA = ZoneInfo("America/Bogota")  # UTC-5, no daylight saving


def fire(kind, camera=None, at=None, subject="", read=None):
    """An event evaluated at once, as the notify queue would; the targets it went to."""
    event = Event.objects.create(kind=kind, camera=camera, subject=subject, read=read, occurred_at=at or _now())
    rules.evaluate_event(event.pk)
    return sorted(d.target.name for d in Delivery.objects.filter(event=event))


def _now():
    from django.utils import timezone

    return timezone.now()


def test_kind_and_camera_scope():
    gate, yard = CameraFactory(), CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED], targets=[hook], cameras=[gate])
    assert fire(EventKind.PLATE_UNLISTED, gate) == ["hook"]
    assert fire(EventKind.PLATE_UNLISTED, yard) == []
    assert fire(EventKind.PLATE_BLOCKED, gate) == []
    assert fire(EventKind.PLATE_UNLISTED, None) == []  # a chosen-cameras rule never matches no camera


def test_disabled_rules_and_targets_send_nothing():
    camera = CameraFactory()
    off = WebhookTargetFactory(name="off", enabled=False)
    on = WebhookTargetFactory(name="on")
    RuleFactory(kinds=[EventKind.CAMERA_LOCKED], targets=[off, on])
    RuleFactory(kinds=[EventKind.CAMERA_LOCKED], targets=[WebhookTargetFactory(name="x")], enabled=False)
    assert fire(EventKind.CAMERA_LOCKED, camera) == ["on"]


def test_two_rules_one_target_is_one_delivery():
    camera = CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=[EventKind.PLATE_BLOCKED], targets=[hook])
    RuleFactory(kinds=[EventKind.PLATE_BLOCKED, EventKind.PLATE_UNLISTED], targets=[hook])
    assert fire(EventKind.PLATE_BLOCKED, camera) == ["hook"]


def test_cooldown_per_rule_kind_and_camera():
    gate, yard = CameraFactory(), CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED, EventKind.PLATE_BLOCKED], targets=[hook], cooldown_seconds=60)
    t0 = _now()
    assert fire(EventKind.PLATE_UNLISTED, gate, t0) == ["hook"]
    assert fire(EventKind.PLATE_UNLISTED, gate, t0 + timedelta(seconds=30)) == []  # within the cooldown
    assert fire(EventKind.PLATE_UNLISTED, yard, t0 + timedelta(seconds=30)) == ["hook"]  # another camera
    assert fire(EventKind.PLATE_BLOCKED, gate, t0 + timedelta(seconds=30)) == ["hook"]  # another kind
    assert fire(EventKind.PLATE_UNLISTED, gate, t0 + timedelta(seconds=61)) == ["hook"]  # cooled down
    # Events without a camera cool down per subject (an account, a service).
    RuleFactory(kinds=[EventKind.LOGIN_FAILURES], targets=[hook], cooldown_seconds=60)
    assert fire(EventKind.LOGIN_FAILURES, subject="alice", at=t0) == ["hook"]
    assert fire(EventKind.LOGIN_FAILURES, subject="alice", at=t0 + timedelta(seconds=1)) == []
    assert fire(EventKind.LOGIN_FAILURES, subject="bob", at=t0 + timedelta(seconds=1)) == ["hook"]


def test_each_kind_fires_once_per_cooldown():
    camera = CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=list(EventKind.values), targets=[hook], cooldown_seconds=300, send_recovery=False)
    t0 = _now()
    for kind in EventKind.values:
        sent = [fire(kind, camera, t0 + timedelta(seconds=i), subject="s") for i in range(3)]
        assert sent == [["hook"], [], []], kind


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 6, 1, 21, 59), False),  # Monday, before the window
        (datetime(2026, 6, 1, 22, 0), True),  # Monday evening
        (datetime(2026, 6, 2, 5, 59), True),  # Tuesday morning: Monday's window, past midnight
        (datetime(2026, 6, 2, 6, 0), False),
        (datetime(2026, 6, 2, 23, 0), False),  # Tuesday evening: Tuesday is not a day of the rule
        (datetime(2026, 6, 1, 3, 0), False),  # Monday morning: Sunday's window, and Sunday is not chosen
    ],
)
def test_schedule_crosses_midnight_in_the_site_time_zone(settings, local, expected):
    settings.TIME_ZONE = "America/Bogota"
    rule = Rule(kinds=[EventKind.PLATE_UNLISTED], days=[0], start_time=time(22, 0), end_time=time(6, 0))
    assert rule.in_schedule(local.replace(tzinfo=BOGOTA)) is expected


def test_schedule_filters_deliveries(settings):
    settings.TIME_ZONE = "America/Bogota"
    camera = CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED], targets=[hook], start_time=time(22), end_time=time(6))
    assert fire(EventKind.PLATE_UNLISTED, camera, datetime(2026, 6, 3, 23, 30, tzinfo=BOGOTA)) == ["hook"]
    assert fire(EventKind.PLATE_UNLISTED, camera, datetime(2026, 6, 3, 12, 0, tzinfo=BOGOTA)) == []
    # 12:00 in Bogota is 17:00 UTC: the window is the site's, not UTC's.
    assert fire(EventKind.PLATE_UNLISTED, camera, datetime(2026, 6, 4, 4, 0, tzinfo=ZoneInfo("UTC"))) == ["hook"]


def test_rule_validation():
    with pytest.raises(ValidationError) as caught:
        Rule(name="r", kinds=["nope"], days=[7], start_time=time(1)).full_clean()
    assert set(caught.value.message_dict) >= {"kinds", "days", "end_time"}


def test_back_to_normal_goes_only_where_the_down_went():
    gate, yard = CameraFactory(), CameraFactory()
    pager = WebhookTargetFactory(name="pager")
    RuleFactory(kinds=[EventKind.CAMERA_DOWN], targets=[pager], cameras=[gate], cooldown_seconds=600)
    t0 = _now()
    assert fire(EventKind.CAMERA_UP, gate, t0) == []  # no down was sent: no "back"
    assert fire(EventKind.CAMERA_DOWN, gate, t0 + timedelta(seconds=1)) == ["pager"]
    assert fire(EventKind.CAMERA_DOWN, yard, t0 + timedelta(seconds=1)) == []  # out of scope
    assert fire(EventKind.CAMERA_UP, yard, t0 + timedelta(seconds=2)) == []
    assert fire(EventKind.CAMERA_UP, gate, t0 + timedelta(seconds=2)) == ["pager"]
    # Flapping within the cooldown: the second down is held back, and so is its "back".
    assert fire(EventKind.CAMERA_DOWN, gate, t0 + timedelta(seconds=3)) == []
    assert fire(EventKind.CAMERA_UP, gate, t0 + timedelta(seconds=4)) == []
    # Services pair by subject.
    RuleFactory(kinds=[EventKind.SERVICE_DOWN], targets=[pager])
    assert fire(EventKind.SERVICE_DOWN, subject="worker", at=t0 + timedelta(seconds=5)) == ["pager"]
    assert fire(EventKind.SERVICE_UP, subject="media", at=t0 + timedelta(seconds=6)) == []
    assert fire(EventKind.SERVICE_UP, subject="worker", at=t0 + timedelta(seconds=6)) == ["pager"]


def test_without_back_to_normal_an_up_rule_is_an_ordinary_rule():
    camera = CameraFactory()
    hook = WebhookTargetFactory(name="hook")
    RuleFactory(kinds=[EventKind.CAMERA_DOWN], targets=[hook], send_recovery=False)
    assert fire(EventKind.CAMERA_DOWN, camera) == ["hook"]
    assert fire(EventKind.CAMERA_UP, camera) == []


def test_an_event_is_evaluated_once():
    camera = CameraFactory()
    RuleFactory(kinds=[EventKind.LIST_DRIFT], targets=[WebhookTargetFactory()])
    event = Event.objects.create(kind=EventKind.LIST_DRIFT, camera=camera)
    assert len(rules.evaluate_event(event.pk)) == 1
    assert rules.evaluate_event(event.pk) == []
    assert Delivery.objects.filter(event=event).count() == 1


def test_emit_never_raises_and_never_breaks_the_callers_transaction(caplog):
    camera = CameraFactory()
    with transaction.atomic():
        assert services.emit(kind="no_such_kind", camera=camera) is None
        assert services.emit(kind=EventKind.CAMERA_LOCKED, camera=camera, detail={"when": _now()}) is not None
        assert services.emit(kind=EventKind.LIST_DRIFT, subject="x" * 1000, detail={"n": 1}) is not None
        CameraFactory()  # the caller's transaction still works
    assert "no_such_kind" in caplog.text
    assert Event.objects.count() == 2


def test_read_stored_costs_no_query_while_nothing_watches_plates(django_assert_num_queries):
    from plates.models import PlateRead

    RuleFactory(kinds=[EventKind.CAMERA_DOWN], targets=[WebhookTargetFactory()])
    read = PlateRead(camera=CameraFactory(), number="ABC123", our_verdict="unlisted", flagged=True)
    services.watched_kinds()  # the cache is warm, as in a running listener
    with django_assert_num_queries(0):
        for _ in range(100):
            services.read_stored(read)


def test_read_stored_enqueues_only_watched_kinds(monkeypatch, django_capture_on_commit_callbacks):
    from lprnvr.alerts import tasks
    from plates.models import PlateRead

    sent = []
    monkeypatch.setattr(tasks.read_events_task, "delay", lambda *args: sent.append(args))
    RuleFactory(kinds=[EventKind.VERDICT_MISMATCH], targets=[WebhookTargetFactory()])
    read = PlateRead.objects.create(camera=CameraFactory(), number="ABC123", our_verdict="unlisted", flagged=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.read_stored(read)
    assert sent == [(read.pk, [EventKind.VERDICT_MISMATCH], read.camera_id, read.received_at.isoformat())]
    # Twice (a duplicated message): one event per read and kind.
    services.record_read_events(read_id=read.pk, kinds=[EventKind.VERDICT_MISMATCH])
    services.record_read_events(read_id=read.pk, kinds=[EventKind.VERDICT_MISMATCH])
    assert Event.objects.filter(read=read).count() == 1


def test_reads_inside_every_cooldown_are_no_events_and_cost_no_query(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    from plates.models import PlateRead

    camera = CameraFactory()
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED], targets=[WebhookTargetFactory()], cooldown_seconds=60)
    reads = [PlateRead.objects.create(camera=camera, number=f"UN{i}", our_verdict="unlisted") for i in range(3)]
    kinds = [EventKind.PLATE_UNLISTED]
    with django_capture_on_commit_callbacks(execute=True):
        [first] = services.record_read_events(
            read_id=reads[0].pk, kinds=kinds, camera_id=camera.pk, at=reads[0].received_at
        )
    assert Delivery.objects.filter(event_id=first).count() == 1
    with django_assert_num_queries(0):
        for read in reads[1:]:
            assert (
                services.record_read_events(read_id=read.pk, kinds=kinds, camera_id=camera.pk, at=read.received_at)
                == []
            )
    assert Event.objects.count() == 1
    # Another camera is not cooling down.
    other = PlateRead.objects.create(camera=CameraFactory(), number="UN9", our_verdict="unlisted")
    assert (
        len(services.record_read_events(read_id=other.pk, kinds=kinds, camera_id=other.camera_id, at=other.received_at))
        == 1
    )


def test_ingestion_enqueues_nothing_while_every_rule_cools_down(monkeypatch, django_capture_on_commit_callbacks):
    from lprnvr.alerts import tasks
    from plates.models import PlateRead

    sent = []
    monkeypatch.setattr(tasks.read_events_task, "delay", lambda *args: sent.append(args))
    camera = CameraFactory()
    RuleFactory(kinds=[EventKind.PLATE_UNLISTED], targets=[WebhookTargetFactory()], cooldown_seconds=60)
    first, second, third = (
        PlateRead.objects.create(camera=camera, number=f"Q{i}", our_verdict="unlisted") for i in range(3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.read_stored(first)
    assert len(sent) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.record_read_events(
            read_id=first.pk, kinds=["plate_unlisted"], camera_id=camera.pk, at=first.received_at
        )
        services.read_stored(second)  # not known quiet yet: the worker decides, and says so
    assert len(sent) == 2
    services.record_read_events(read_id=second.pk, kinds=["plate_unlisted"], camera_id=camera.pk, at=second.received_at)
    with django_capture_on_commit_callbacks(execute=True):
        services.read_stored(third)
    assert len(sent) == 2  # quiet: nothing enqueued
    assert Event.objects.count() == 1
