"""Weekly schedules and visitor passes (issue 14 §3, §4): a schedule opening and closing with a
clock the test controls and once through a real boundary, a DST change, a pass that ends, an
offline camera converging after a boundary."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cameras.models import Camera, Gate, Site
from plates import services
from plates.models import CameraPlate, ListType, PlateJob, VisitorPass
from plates.schedules import ScheduleError, clean_schedule, describe, is_open
from plates.services import lists, passes, schedule
from tests.waiting import wait_for

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS = [{"days": "mon-fri", "start": "07:00", "end": "19:00"}]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def test_weekly_windows_in_the_sites_zone():
    s = clean_schedule(WEEKDAYS)
    assert s == [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "19:00"}] and describe(s) == "mon-fri 07:00-19:00"
    monday = local(2027, 1, 4, 7, 0)
    assert is_open(s, monday, MADRID) and not is_open(s, monday - timedelta(minutes=1), MADRID)
    assert not is_open(s, local(2027, 1, 4, 19, 0), MADRID) and not is_open(s, local(2027, 1, 9, 12), MADRID)
    # The same instant read in another zone is another wall-clock time.
    assert not is_open(s, monday, ZoneInfo("Europe/London"))
    night = clean_schedule([{"days": "fri", "start": "22:00", "end": "06:00"}])
    assert is_open(night, local(2027, 1, 9, 5, 59), MADRID) and not is_open(night, local(2027, 1, 10, 5), MADRID)
    for bad in ([{"days": "moon", "start": "07:00", "end": "08:00"}], [{"days": [1], "start": "7", "end": "8"}], {}):
        with pytest.raises(ScheduleError):
            clean_schedule(bad)


def test_a_window_keeps_its_wall_clock_hours_across_dst():
    # 2027-03-28: at 02:00 Madrid goes to 03:00 (UTC+1 -> UTC+2). A window 01:00-04:00 that Sunday.
    s = clean_schedule([{"days": "sun", "start": "01:00", "end": "04:00"}])
    utc = ZoneInfo("UTC")
    assert is_open(s, datetime(2027, 3, 28, 0, 30, tzinfo=utc), MADRID)  # 01:30 CET
    assert is_open(s, datetime(2027, 3, 28, 1, 30, tzinfo=utc), MADRID)  # 03:30 CEST
    assert not is_open(s, datetime(2027, 3, 28, 2, 0, tzinfo=utc), MADRID)  # 04:00 CEST: closed
    # A fixed offset would still have it open then (03:00 at UTC+1).
    assert is_open(s, datetime(2027, 3, 28, 2, 0, tzinfo=utc), ZoneInfo("Etc/GMT-1"))


@pytest.fixture
def gate(db, doubles):
    north = Gate.objects.create(site=Site.objects.create(name="HQ", time_zone="Europe/Madrid"), name="North")
    cams = [doubles("A"), doubles("B")]
    Camera.objects.filter(pk__in=[c.pk for _d, c in cams]).update(gate=north)
    return north, cams


def on_camera(camera) -> set[str]:
    return set(CameraPlate.objects.filter(camera=camera, desired=True).values_list("plate__number", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_schedule_opens_and_closes_with_the_test_clock(celery_worker, gate):
    north, ((d1, c1), (d2, _c2)) = gate
    contractors = lists.create_list(name="Contractors", kind=ListType.ALLOW)
    contractors.schedule = clean_schedule(WEEKDAYS)
    contractors.save()
    lists.assign_list(plate_list=contractors, gates=[north])
    lists.put_on_list(plate_list=contractors, entries=[lists.EntrySpec("CTR001"), lists.EntrySpec("CTR002")])
    # Built now (whatever the real time): bring the clock to Monday 06:59 first.
    job = schedule.tick(now=local(2027, 1, 4, 6, 59))
    if job:
        services.wait_for_job(job, 30)
    assert on_camera(c1) == set() and d1.plates() == []
    assert schedule.tick(now=local(2027, 1, 4, 6, 59, 30)) is None  # nothing flips: no job
    job = services.wait_for_job(schedule.tick(now=local(2027, 1, 4, 7, 0)), 30)
    assert job.status == "succeeded" and job.source == "schedule" and job.cameras.count() == 2
    assert sorted(d1.plates()) == sorted(d2.plates()) == ["CTR001", "CTR002"]
    job = services.wait_for_job(schedule.tick(now=local(2027, 1, 4, 19, 0)), 30)
    assert job.status == "succeeded"
    assert d1.plates() == d2.plates() == [] and not CameraPlate.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_entry_on_a_schedule_and_a_camera_that_missed_the_boundary(celery_worker, gate, settings):
    north, ((d1, _c1), (d2, c2)) = gate
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    lists.assign_list(plate_list=residents, gates=[north])
    lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec("RES001"), lists.EntrySpec("CLN001")])
    residents.entries.filter(plate__number="CLN001").update(
        schedule=clean_schedule([{"days": "sat", "start": "08:00", "end": "12:00"}])
    )
    services.wait_for_job(schedule.tick(now=local(2027, 1, 9, 7, 0)) or PlateJob.objects.latest("pk"), 30)
    assert sorted(d1.plates()) == ["RES001"]
    d2.stop()  # off line at the boundary
    job = services.wait_for_job(schedule.tick(now=local(2027, 1, 9, 8, 0)), 60)
    assert job.status == "partial"
    assert sorted(d1.plates()) == ["CLN001", "RES001"] and on_camera(c2) == {"CLN001", "RES001"}
    d2.start()
    from plates.tasks import converge_all_task

    converge_all_task.delay().get(timeout=30)
    wait_for(lambda: sorted(d2.plates()) == ["CLN001", "RES001"], timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_schedule_through_a_real_boundary_a_minute_ahead(celery_worker, gate):
    from plates.tasks import schedule_tick_task

    north, ((d1, _c1), _second) = gate
    now = timezone.now().astimezone(MADRID)
    start = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    window = {"days": [start.weekday()], "start": f"{start:%H:%M}", "end": f"{start + timedelta(minutes=30):%H:%M}"}
    visitors = lists.create_list(name="Delivery", kind=ListType.ALLOW)
    visitors.schedule = clean_schedule([window])
    visitors.save()
    lists.put_on_list(plate_list=visitors, entries=[lists.EntrySpec("DLV001")])
    lists.assign_list(plate_list=visitors, gates=[north])
    assert d1.plates() == []

    def ticked_on() -> bool:
        schedule_tick_task.delay().get(timeout=30)
        return PlateJob.objects.filter(source="schedule").exists()

    wait_for(ticked_on, timeout=90, interval=5)
    assert timezone.now() >= start
    services.wait_for_job(PlateJob.objects.get(source="schedule"), 30)
    assert d1.plates() == ["DLV001"]


@pytest.mark.django_db(transaction=True)
def test_a_visitor_pass_for_four_hours_ends_on_every_lane(celery_worker, gate, make_user):
    from conftest import client_for

    north, ((d1, _c1), (d2, _c2)) = gate
    guard = make_user("user", username="guard")
    guard.gates.add(north)
    api = client_for(guard)
    r = api.post(
        "/api/plates/passes/", {"plate": "vis 001", "gates": [north.pk], "hours": 4, "visitor": "Ana"}, format="json"
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["created_by"] == "guard" and created["plate"] == "VIS001"
    assert services.wait_for_job(PlateJob.objects.get(pk=created["job"]), 30).status == "succeeded"
    ends = (timezone.now() + timedelta(hours=4)).astimezone(MADRID).date()
    assert [(r.plate, r.end[:10]) for r in d1.records] == [("VIS001", str(ends))]  # the firmware's end date
    assert d2.plates() == ["VIS001"]
    listed = api.get("/api/plates/passes/").json()
    assert [(p["plate"], p["created_by"], p["active"]) for p in listed] == [("VIS001", "guard", True)]
    job = services.wait_for_job(schedule.tick(now=timezone.now() + timedelta(hours=4, minutes=1)), 30)
    assert job.status == "succeeded"
    assert d1.plates() == d2.plates() == []
    assert VisitorPass.objects.get().ended_at is not None
    assert schedule.tick(now=timezone.now() + timedelta(hours=4, minutes=2)) is None  # done with it
    # Bad input names the field; another's gate is refused.
    r = api.post("/api/plates/passes/", {"plate": "VIS002", "gates": [north.pk]}, format="json")
    assert r.status_code == 400 and "hours" in r.json()["fields"]
    other = Gate.objects.create(site=north.site, name="South")
    r = api.post("/api/plates/passes/", {"plate": "VIS002", "gates": [other.pk], "hours": 1}, format="json")
    assert r.status_code == 400 and "gates" in r.json()["fields"]


def test_a_pass_ended_by_hand(gate):
    north, ((_d1, c1), _second) = gate
    visitor_pass, _job = passes.create_pass(number="VIS003", gates=[north], hours=2)
    assert on_camera(c1) == {"VIS003"}
    passes.end_pass(visitor_pass=visitor_pass)
    assert on_camera(c1) == set() and CameraPlate.objects.get(camera=c1).desired is False


def test_a_pass_window_is_dated_in_the_sites_zone(gate):
    north, ((_d1, c1), _second) = gate
    start = local(2027, 5, 1, 23, 30)
    passes.create_pass(number="VIS004", gates=[north], starts_at=start, hours=3, now=start)
    line = CameraPlate.objects.select_related("plate").get(camera=c1)
    assert (line.spec().valid_from, line.spec().valid_until) == (date(2027, 5, 1), date(2027, 5, 2))
