"""Sites, gates and named lists (issue 14 §1, §2): derivation, a list change reaching exactly its
cameras in one job, and the per-camera entries of before left as they were."""

from __future__ import annotations

from datetime import date

import pytest

from cameras.models import Camera, Direction, Gate, Site
from plates import services
from plates.models import CameraPlate, ListType, PlateJob, PlateJobCamera
from plates.services import derivation, lists
from plates.services.derivation import Window, combine


def test_block_wins_over_allow_and_allow_windows_widen():
    a = Window(ListType.ALLOW, date(2027, 1, 10), date(2027, 1, 20))
    b = Window(ListType.ALLOW, date(2027, 1, 5), date(2027, 1, 15))
    assert combine([a, b]) == Window(ListType.ALLOW, date(2027, 1, 5), date(2027, 1, 20))
    assert combine([a, Window(ListType.ALLOW, None, date(2027, 1, 1))]).valid_from is None
    assert combine([a, Window(ListType.ALLOW, date(2027, 1, 1), None)]).valid_until is None
    blocked = combine([a, b, Window(ListType.BLOCK, None, None)])
    assert blocked == Window(ListType.BLOCK, None, None)


@pytest.fixture
def site(db, doubles):
    """North gate: two lanes (entry, exit); a camera elsewhere on no gate."""
    north = Gate.objects.create(site=Site.objects.create(name="HQ", time_zone="Europe/Madrid"), name="North")
    entry, entry_cam = doubles("A")
    exit_, exit_cam = doubles("B")
    other, other_cam = doubles("A")
    Camera.objects.filter(pk=entry_cam.pk).update(gate=north, direction=Direction.ENTRY)
    Camera.objects.filter(pk=exit_cam.pk).update(gate=north, direction=Direction.EXIT)
    return {"gate": north, "doubles": (entry, exit_, other), "cameras": (entry_cam, exit_cam, other_cam)}


def lines(camera) -> dict[str, tuple]:
    return {
        r.plate.number: (r.desired, r.spec().list_type, r.spec().valid_from, r.spec().valid_until)
        for r in CameraPlate.objects.filter(camera=camera).select_related("plate")
    }


def test_derivation_over_several_lists(site):
    entry_cam, exit_cam, other_cam = site["cameras"]
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    contractors = lists.create_list(name="Contractors", kind=ListType.ALLOW)
    banned = lists.create_list(name="Banned", kind=ListType.BLOCK)
    lists.assign_list(plate_list=residents, gates=[site["gate"]])
    lists.assign_list(plate_list=contractors, cameras=[entry_cam])
    lists.assign_list(plate_list=banned, cameras=[exit_cam])
    lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec("RES001", valid_from=date(2027, 3, 1))])
    lists.put_on_list(
        plate_list=contractors,
        entries=[
            lists.EntrySpec("RES001", valid_from=date(2027, 1, 1), valid_until=date(2027, 6, 30)),
            lists.EntrySpec("CON001", valid_until=date(2027, 6, 30)),
        ],
    )
    lists.put_on_list(plate_list=banned, entries=[lists.EntrySpec("RES001")])
    assert lines(entry_cam) == {
        "RES001": (True, "allow", date(2027, 1, 1), None),  # earliest start, the open end
        "CON001": (True, "allow", None, date(2027, 6, 30)),
    }
    assert lines(exit_cam) == {"RES001": (True, "block", None, None)}  # block wins
    assert lines(other_cam) == {}
    # Taking the block list off the exit lane leaves the residents' window there.
    lists.unassign_list(plate_list=banned, cameras=[exit_cam])
    assert lines(exit_cam) == {"RES001": (True, "allow", date(2027, 3, 1), None)}


def test_the_cameras_own_entries_are_one_more_window(site):
    entry_cam = site["cameras"][0]
    services.push_plates(cameras=[entry_cam], numbers=["OWN001"], defaults={"valid_until": date(2027, 2, 1)})
    before = lines(entry_cam)
    assert derivation.apply_to_cameras(camera_ids=[entry_cam.pk]) is None  # nothing reaches it: no job
    assert lines(entry_cam) == before
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    lists.assign_list(plate_list=residents, cameras=[entry_cam])
    lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec("OWN001", valid_until=date(2027, 5, 1))])
    assert lines(entry_cam)["OWN001"] == (True, "allow", None, date(2027, 5, 1))
    lists.delete_list(plate_list=residents)
    assert lines(entry_cam) == before  # its own entry stays, with the plate's own validity
    assert CameraPlate.objects.get(camera=entry_cam).direct


@pytest.mark.django_db(transaction=True)
def test_a_list_change_is_one_job_reaching_exactly_its_cameras(celery_worker, site):
    entry, exit_, other = site["doubles"]
    entry_cam, exit_cam, _other_cam = site["cameras"]
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    assert lists.assign_list(plate_list=residents, gates=[site["gate"]]) is None  # empty list: nothing to do
    job = lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec(f"RES{n:03d}") for n in range(5)])
    assert PlateJob.objects.count() == 1
    assert set(PlateJobCamera.objects.filter(job=job).values_list("camera_id", flat=True)) == {
        entry_cam.pk,
        exit_cam.pk,
    }
    job = services.wait_for_job(job, 30)
    assert job.status == "succeeded", list(PlateJobCamera.objects.filter(job=job).values_list("last_error"))
    assert sorted(entry.plates()) == sorted(exit_.plates()) == [f"RES{n:03d}" for n in range(5)]
    assert other.plates() == []

    banned = lists.create_list(name="Banned", kind=ListType.BLOCK)
    lists.put_on_list(plate_list=banned, entries=[lists.EntrySpec("RES000")])
    job = services.wait_for_job(lists.assign_list(plate_list=banned, cameras=[exit_cam]), 30)
    assert job.status == "succeeded" and [c.camera_id for c in job.cameras.all()] == [exit_cam.pk]
    assert {r.plate: r.list_type for r in exit_.records}["RES000"] == "blackList"
    assert {r.plate: r.list_type for r in entry.records}["RES000"] == "whiteList"

    job = services.wait_for_job(lists.take_off_list(plate_list=residents, numbers=["RES001"]), 30)
    assert job.status == "succeeded"
    assert "RES001" not in entry.plates() and "RES001" not in exit_.plates()
    assert not CameraPlate.objects.filter(plate__number="RES001").exists()  # removals confirmed: gone


def test_a_user_on_a_gate_sees_its_lanes_and_its_lists(site, make_user):
    entry_cam, exit_cam, other_cam = site["cameras"]
    user = make_user("user", username="guard")
    user.gates.add(site["gate"])
    assert set(Camera.objects.visible_to(user)) == {entry_cam, exit_cam}
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    elsewhere = lists.create_list(name="Elsewhere", kind=ListType.ALLOW)
    lists.assign_list(plate_list=residents, gates=[site["gate"]])
    lists.assign_list(plate_list=elsewhere, cameras=[other_cam, entry_cam])
    from plates.models import PlateList

    assert set(PlateList.objects.visible_to(user)) == {residents, elsewhere}
    assert set(PlateList.objects.manageable_by(user)) == {residents}  # elsewhere reaches a camera not theirs
    site_user = make_user("user", username="manager")
    site_user.sites.add(site["gate"].site)
    assert set(Camera.objects.visible_to(site_user)) == {entry_cam, exit_cam}


@pytest.mark.django_db(transaction=True)
def test_the_api_lays_out_a_gate_and_puts_a_list_on_it(celery_worker, doubles, make_user):
    from conftest import client_for

    entry, entry_cam = doubles("A")
    exit_, exit_cam = doubles("B")
    api = client_for(make_user("admin", username="integrator"))
    site = api.post("/api/plates/sites/", {"name": "Depot", "time_zone": "America/New_York"}, format="json")
    assert site.status_code == 201, site.content
    gate = api.post(
        "/api/plates/gates/",
        {
            "site": site.json()["id"],
            "name": "South",
            "lanes": [{"camera": entry_cam.pk, "direction": "entry"}, {"camera": exit_cam.pk, "direction": "exit"}],
        },
        format="json",
    )
    assert gate.status_code == 201, gate.content
    assert [(lane["camera"], lane["direction"]) for lane in gate.json()["lanes"]] == [
        (entry_cam.pk, "entry"),
        (exit_cam.pk, "exit"),
    ]
    created = api.post("/api/plates/lists/", {"name": "Contractors", "kind": "allow"}, format="json").json()
    url = f"/api/plates/lists/{created['id']}/"
    assert api.post(url + "assign/", {"gates": [gate.json()["id"]]}, format="json").json() == {"job": None}
    r = api.post(
        url + "plates/",
        {"plates": [{"plate": "ctr-001", "owner": "Acme", "valid_until": "2027-06-30"}, {"plate": "CTR002"}]},
        format="json",
    )
    assert r.status_code == 202, r.content
    job = services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30)
    assert job.status == "succeeded" and job.cameras.count() == 2
    assert sorted(entry.plates()) == sorted(exit_.plates()) == ["CTR001", "CTR002"]
    assert {r.plate: r.end[:10] for r in entry.records}["CTR001"] == "2027-06-30"
    listed = api.get(url).json()
    assert listed["plate_count"] == 2 and listed["gates"] == [gate.json()["id"]]
    bad = api.post(
        url + "plates/",
        {"plates": [{"plate": "AB1", "valid_from": "2027-02-01", "valid_until": "2027-01-01"}]},
        format="json",
    )
    assert bad.status_code == 400 and "valid_until" in str(bad.json()["fields"])
    # Taking the exit camera out of the gate takes the list off it, in one job.
    r = api.patch(f"/api/plates/gates/{gate.json()['id']}/", {"lanes": [{"camera": entry_cam.pk}]}, format="json")
    assert r.status_code == 200, r.content
    assert [lane["camera"] for lane in r.json()["lanes"]] == [entry_cam.pk]  # the lanes now, not before
    job = PlateJob.objects.order_by("-pk").first()
    assert services.wait_for_job(job, 30).status == "succeeded"
    assert exit_.plates() == [] and sorted(entry.plates()) == ["CTR001", "CTR002"]


def test_site_and_gate_lists_cost_the_same_queries_for_many_gates(site, make_user, django_assert_max_num_queries):
    from conftest import client_for

    user = make_user("user", username="many-gates")
    user.sites.add(site["gate"].site)
    for n in range(12):
        Gate.objects.create(site=site["gate"].site, name=f"Extra {n}")
    api = client_for(user)
    with django_assert_max_num_queries(8):  # auth, count, page, one prefetch of every gate's lanes
        gates = api.get("/api/plates/gates/")
    assert gates.status_code == 200
    rows = gates.json()["results"] if isinstance(gates.json(), dict) else gates.json()
    assert len(rows) == 13 and sum(len(g["lanes"]) for g in rows) == 2  # the user's two lanes
    with django_assert_max_num_queries(8):
        assert api.get("/api/plates/sites/").status_code == 200


def test_a_deleted_plate_leaves_its_lists(site):
    entry_cam = site["cameras"][0]
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    lists.assign_list(plate_list=residents, cameras=[entry_cam])
    lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec("DEL001"), lists.EntrySpec("KEEP01")])
    from plates.models import Plate

    services.delete_plates(plates=[Plate.objects.get(number="DEL001")])
    assert list(residents.entries.values_list("plate__number", flat=True)) == ["KEEP01"]
    lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec("KEEP02")])  # a later change
    assert lines(entry_cam)["DEL001"][0] is False  # still to be taken off, never put back
