"""Service heartbeats and free disk, looked at by the beat task: one event per change of state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lprnvr.alerts import system
from lprnvr.alerts.models import Event, EventKind
from lprnvr.alerts.tasks import system_checks_task
from lprnvr.monitoring.heartbeats import beat
from lprnvr.monitoring.models import ServiceHeartbeat

pytestmark = pytest.mark.django_db


def kinds(subject):
    return list(Event.objects.filter(subject=subject).order_by("id").values_list("kind", flat=True))


def test_a_service_that_stops_beating_is_one_down_then_one_up(settings):
    settings.SERVICES_EXPECTED = ["media"]
    settings.SERVICE_STALE_SECONDS = 60
    beat(service="media", host="nvr1")
    assert system.check_services() == []  # beating: nothing to say
    ServiceHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=5))
    assert system.check_services() == ["service_down media@nvr1"]
    assert system.check_services() == []  # still down: said once
    beat(service="media", host="nvr1")
    assert system.check_services() == ["service_up media@nvr1"]
    assert system.check_services() == []
    assert kinds("media@nvr1") == [EventKind.SERVICE_DOWN, EventKind.SERVICE_UP]


def test_an_expected_service_never_seen_is_down_once(settings):
    settings.SERVICES_EXPECTED = ["events"]
    assert system.check_services() == ["service_down events"]
    assert system.check_services() == []
    assert Event.objects.get(subject="events").detail["state"] == "missing"


def test_free_disk_under_the_floor_is_one_event_per_repeat_interval(settings, tmp_path):
    settings.READS_DIR = tmp_path / "reads"  # the same disk as the recordings: one event for both
    settings.DISK_FREE_FLOOR_BYTES = 0
    assert system.check_disks() == []
    settings.DISK_FREE_FLOOR_BYTES = 1 << 62  # more than any disk has free
    assert system.check_disks() == ["disk_low recordings"]
    assert system.check_disks() == []  # within ALERTS_DISK_LOW_REPEAT
    Event.objects.update(occurred_at=timezone.now() - timedelta(seconds=settings.ALERTS_DISK_LOW_REPEAT + 1))
    assert system.check_disks() == ["disk_low recordings"]
    assert Event.objects.filter(kind=EventKind.DISK_LOW).first().detail["short_bytes"] > 0


def test_the_beat_runs_both_checks(settings):
    settings.SERVICES_EXPECTED = ["beat"]
    settings.DISK_FREE_FLOOR_BYTES = 1 << 62
    assert sorted(system_checks_task()) == ["disk_low recordings", "service_down beat"]
    assert settings.CELERY_BEAT_SCHEDULE["alerts-system-checks"]["task"] == "alerts.system_checks"
