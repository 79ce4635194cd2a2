"""Service heartbeats: one row per (service, host), written by the loops (throttled), the Celery
workers and beat; read as ok / stale / missing by /health (admins), /stats and `stale_services()`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from lprnvr.monitoring import heartbeats
from lprnvr.monitoring.heartbeats import Heartbeat, beat, service_states, stale_services
from lprnvr.monitoring.models import Liveness, ServiceHeartbeat
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _expected(settings):
    settings.SERVICES_EXPECTED = ["media", "events", "beat"]
    settings.SERVICE_STALE_SECONDS = 120


def test_a_beat_is_one_row_per_service_and_host(settings):
    beat(service="media", host="nvr-1", detail={"channels": 2})
    beat(service="media", host="nvr-1", detail={"channels": 3})
    beat(service="media", host="nvr-2")
    rows = list(ServiceHeartbeat.objects.values_list("service", "host", "pid", "detail"))
    assert rows == [("media", "nvr-1", os.getpid(), {"channels": 3}), ("media", "nvr-2", os.getpid(), {})]


def test_the_loop_heartbeat_writes_at_most_once_per_interval(django_assert_num_queries):
    throttled = Heartbeat("media", host="h", every=3600)
    assert throttled(channels=1) is True
    first = ServiceHeartbeat.objects.get().beat_at
    with django_assert_num_queries(0):
        assert throttled(channels=2) is False
    assert ServiceHeartbeat.objects.get().beat_at == first
    eager = Heartbeat("media", host="h", every=0)
    assert eager(channels=5) is True and eager(channels=6) is True
    assert ServiceHeartbeat.objects.get().detail == {"channels": 6}


def test_states_ok_stale_and_missing():
    now = timezone.now()
    beat(service="media", host="nvr-1")
    beat(service="events", host="nvr-1")
    beat(service="worker.plates", host="celery@nvr-2")  # not expected, but it beats: reported too
    ServiceHeartbeat.objects.filter(service="events").update(beat_at=now - timedelta(seconds=121))
    states = {(s.service, s.host): s for s in service_states(now=now)}
    assert {key: s.state for key, s in states.items()} == {
        ("beat", ""): Liveness.MISSING,
        ("events", "nvr-1"): Liveness.STALE,
        ("media", "nvr-1"): Liveness.OK,
        ("worker.plates", "celery@nvr-2"): Liveness.OK,
    }
    assert states[("events", "nvr-1")].age_seconds == pytest.approx(121, abs=1)
    assert states[("beat", "")].age_seconds is None and states[("beat", "")].beat_at is None
    assert [(s.service, s.host, s.state) for s in stale_services(now=now)] == [
        ("beat", "", "missing"),
        ("events", "nvr-1", "stale"),
    ]


def test_one_host_stale_is_reported_even_when_another_beats():
    beat(service="media", host="nvr-1")
    beat(service="media", host="nvr-2")
    ServiceHeartbeat.objects.filter(host="nvr-2").update(beat_at=timezone.now() - timedelta(hours=1))
    assert [(s.service, s.host) for s in stale_services()] == [("beat", ""), ("events", ""), ("media", "nvr-2")]


def test_health_lists_services_to_admins_and_never_fails_for_them(api_client, as_user, admin_user, make_user):
    beat(service="media", host="nvr-1")
    anonymous = api_client.get("/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    body = as_user(admin_user).get("/health").json()
    assert body["status"] == "ok"  # events and beat are missing: a web server that works is still healthy
    assert [(s["service"], s["host"], s["state"]) for s in body["services"]] == [
        ("beat", "", "missing"),
        ("events", "", "missing"),
        ("media", "nvr-1", "ok"),
    ]
    assert "services" not in as_user(make_user("viewer")).get("/health").json()
    stats = as_user(make_user("viewer")).get("/stats").json()
    assert stats["services"] == {"ok": 1, "stale": 0, "missing": 2}


@pytest.mark.django_db(transaction=True)
def test_the_media_supervisor_and_event_listener_loops_beat(settings, tmp_path):
    from plates.events.supervisor import Supervisor as EventListener
    from recordings.supervisor import Supervisor as MediaSupervisor

    settings.MEDIA_RUN_DIR = tmp_path / "media"
    settings.EVENTS_RUN_DIR = tmp_path / "events"
    settings.MEDIA_RUN_DIR.mkdir()
    settings.EVENTS_RUN_DIR.mkdir()
    MediaSupervisor().tick()
    EventListener().tick()
    rows = {row.service: row for row in ServiceHeartbeat.objects.all()}
    assert set(rows) == {"media", "events"}
    assert rows["media"].host == rows["events"].host == heartbeats.this_host()
    assert rows["media"].detail == {"channels": 0} and rows["events"].detail == {"streams": 0}
    assert (settings.MEDIA_RUN_DIR / "heartbeat").is_file()  # the compose healthchecks' files stay


@pytest.mark.celery
def test_beat_and_each_queues_workers_beat(celery_worker, tmp_path):
    """Real Celery beat (a process of its own) sends the heartbeat task to every queue; the real worker
    consumes them: a row per queue for this machine, and one for beat itself."""
    from lprnvr.celery import QUEUES

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SERVICE_HEARTBEAT_SECONDS": "1",
    }
    schedule = tmp_path / "beat-schedule"
    log = tmp_path / "beat.log"
    argv = [sys.executable, "-m", "celery", "-A", "lprnvr", "beat", "--loglevel", "INFO", "--schedule", str(schedule)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, cwd=django_settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wanted = {"beat", *(heartbeats.worker_service(queue) for queue in QUEUES)}
        try:
            wait_for(lambda: wanted <= set(ServiceHeartbeat.objects.values_list("service", flat=True)), 60)
        except AssertionError as exc:
            seen = list(ServiceHeartbeat.objects.values_list("service", "host"))
            raise AssertionError(
                f"{exc}; heartbeats {seen}; beat log:\n{log.read_text(errors='replace')[-2000:]}"
            ) from exc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    rows = {row.service: row for row in ServiceHeartbeat.objects.all()}
    assert rows["beat"].pid == proc.pid and rows["beat"].host == heartbeats.this_host()
    for queue in QUEUES:
        row = rows[heartbeats.worker_service(queue)]
        assert row.host == heartbeats.this_host() and row.pid == os.getpid() and row.detail["queue"] == queue


def test_a_worker_beats_for_its_queues_as_soon_as_it_is_ready():
    from types import SimpleNamespace

    from lprnvr.monitoring import signals

    queues = SimpleNamespace(consume_from={"plates": object(), "discovery": object()})  # `-Q plates,discovery`
    consumer = SimpleNamespace(hostname="celery@nvr-2", app=SimpleNamespace(amqp=SimpleNamespace(queues=queues)))
    signals.worker_ready(sender=consumer)
    rows = list(ServiceHeartbeat.objects.values_list("service", "host", "detail"))
    host = heartbeats.this_host()
    assert rows == [
        ("worker.discovery", host, {"queue": "discovery", "node": "celery@nvr-2"}),
        ("worker.plates", host, {"queue": "plates", "node": "celery@nvr-2"}),
    ]


def test_beat_beats_when_it_publishes_and_other_processes_do_not(monkeypatch):
    from lprnvr.monitoring import signals

    signals.task_published(sender="plates.converge_all")  # a web or worker process sending a task
    assert not ServiceHeartbeat.objects.exists()
    monkeypatch.setattr(signals, "beat_heartbeat", None)
    signals.beat_init(sender=None)
    assert ServiceHeartbeat.objects.get().service == "beat"
    signals.beat_heartbeat.every = 0
    signals.task_published(sender="monitoring.worker_heartbeat")
    assert ServiceHeartbeat.objects.get().detail == {"last_task": "monitoring.worker_heartbeat"}
