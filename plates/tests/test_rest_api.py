"""The REST API under /api/plates/ with a real worker and camera doubles."""

import pytest

from conftest import client_for
from plates import services
from plates.models import AnprCamera, CameraPlate, Plate, PlateBackup, PlateJob
from plates.tests.factories import PlateFactory

pytestmark = pytest.mark.celery


def finish(response):
    assert response.status_code == 202, response.content
    return services.wait_for_job(PlateJob.objects.get(pk=response.json()["job"]), 30)


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


@pytest.mark.parametrize("family", ["A", "B"])
def test_push_remove_rename_through_the_rest_api(celery_worker, api, doubles, family):
    cam1, c1 = doubles(family)
    cam2, c2 = doubles(family)
    if family == "A":
        cam1.seed("PUSH01")
        cam1.seed("PUSH01")
    r = api.post(
        "/api/plates/push/",
        {"plates": ["push01", "PUSH-02"], "cameras": [c1.pk, c2.address], "list_type": "block", "owner": "ACME"},
        format="json",
    )
    job = finish(r)
    assert job.status == "succeeded"
    assert cam1.count("PUSH01") == cam2.count("PUSH01") == 1
    assert {r.list_type for r in cam2.records} == {"blackList"}
    assert Plate.objects.get(number="PUSH02").owner == "ACME"

    detail = api.get(f"/api/plates/jobs/{job.pk}/").json()
    assert detail["operation"] == "add" and detail["requested_by"] == "admin"
    assert {c["camera"] for c in detail["cameras"]} == {c1.address, c2.address}
    assert all(p["status"] == "succeeded" for c in detail["cameras"] for p in c["plates"])
    assert detail["progress"] == {"cameras_total": 2, "cameras_done": 2, "plates_total": 4, "plates_done": 4}

    job = finish(
        api.post(
            "/api/plates/rename/", {"renames": [{"old": "PUSH02", "new": "PUSH03"}], "cameras": [c1.pk]}, format="json"
        )
    )
    assert job.status == "succeeded"
    assert sorted(cam1.plates()) == ["PUSH01", "PUSH03"] and sorted(cam2.plates()) == ["PUSH01", "PUSH02"]
    assert cam1.records[-1].list_type == "blackList"
    assert Plate.objects.get(number="PUSH03").list_type == "block"

    job = finish(api.post("/api/plates/remove/", {"plates": ["PUSH01"], "cameras": [c1.pk, c2.pk]}, format="json"))
    assert job.status == "succeeded"
    assert "PUSH01" not in cam1.plates() + cam2.plates()
    assert not CameraPlate.objects.filter(plate__number="PUSH01").exists()  # removal confirmed: tombstones gone


def test_bad_input_is_400_naming_fields(celery_worker, api, doubles):
    cam, _camera = doubles("A")
    r = api.post("/api/plates/push/", {"plates": ["OK1234", "-"], "cameras": ["127.0.0.1:2"]}, format="json")
    assert r.status_code == 400
    assert "plates" in r.json()["fields"]
    r = api.post("/api/plates/push/", {"plates": ["OK1234"], "cameras": ["127.0.0.1:1"]}, format="json")
    assert r.status_code == 400 and "127.0.0.1:1" in str(r.json()["fields"]["cameras"])
    assert cam.log == []


def test_plates_crud_with_filters(celery_worker, api, doubles):
    cam, camera = doubles("B")
    r = api.post(
        "/api/plates/",
        {"number": "crud-01", "list_type": "allow", "owner": "Ana", "push_to": [camera.pk]},
        format="json",
    )
    assert r.status_code == 201, r.content
    plate_id = r.json()["id"]
    services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30)
    assert cam.plates() == ["CRUD01"]
    PlateFactory(number="OTHER1", list_type="block", owner="Bob")
    assert [p["number"] for p in api.get("/api/plates/?q=crud").json()] == ["CRUD01"]
    assert [p["number"] for p in api.get("/api/plates/?list_type=block").json()] == ["OTHER1"]
    assert [p["number"] for p in api.get(f"/api/plates/?camera={camera.pk}").json()] == ["CRUD01"]
    assert [p["number"] for p in api.get("/api/plates/?owner=bob").json()] == ["OTHER1"]
    assert api.get("/api/plates/?valid_on=nope").status_code == 400
    # Changing list type or validity pushes the change to the plate's cameras.
    r = api.patch(f"/api/plates/{plate_id}/", {"list_type": "block", "valid_until": "2031-01-31"}, format="json")
    assert r.status_code == 200, r.content
    services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30)
    assert cam.records[0].list_type == "blackList" and cam.records[0].end.startswith("2031-01-31")
    assert cam.count("CRUD01") == 1
    r = api.delete(f"/api/plates/{plate_id}/")
    assert finish(r).status == "succeeded"
    assert cam.plates() == []
    assert not Plate.objects.filter(number="CRUD01").exists()  # gone once the camera confirmed
    assert api.post("/api/plates/", {"number": "CRUD01"}, format="json").status_code == 201
    assert api.post("/api/plates/", {"number": "CRUD01"}, format="json").status_code == 400  # exists


def test_sync_reports_drift_and_converges_on_request(celery_worker, api, doubles):
    cam, camera = doubles("A")
    finish(api.post("/api/plates/push/", {"plates": ["SYNC01", "SYNC02"], "cameras": [camera.pk]}, format="json"))
    cam.records = [r for r in cam.records if r.plate != "SYNC02"]  # someone deleted it at the camera
    cam.seed("SYNC01")  # a duplicate
    cam.seed("STRAY1")  # a plate we never put there
    job = finish(api.post(f"/api/plates/cameras/{camera.pk}/sync/", {}, format="json"))
    assert job.status == "succeeded"
    drift = api.get(f"/api/plates/cameras/{camera.pk}/drift/").json()["drift"]
    assert drift["missing"] == ["SYNC02"] and drift["unexpected"] == ["STRAY1"] and drift["duplicates"] == ["SYNC01"]
    assert sorted(cam.plates()) == ["STRAY1", "SYNC01", "SYNC01"]  # a report changes nothing

    job = finish(api.post(f"/api/plates/cameras/{camera.pk}/sync/", {"converge": True}, format="json"))
    assert job.status == "succeeded"
    assert sorted(cam.plates()) == ["STRAY1", "SYNC01", "SYNC02"]  # unexpected kept unless asked
    job = finish(
        api.post(f"/api/plates/cameras/{camera.pk}/sync/", {"converge": True, "remove_unexpected": True}, format="json")
    )
    assert sorted(cam.plates()) == ["SYNC01", "SYNC02"]
    detail = api.get(f"/api/plates/jobs/{job.pk}/").json()
    assert detail["cameras"][0]["result"]["drift_before"]["unexpected"] == ["STRAY1"]
    assert [(p["plate"], p["action"], p["status"]) for p in detail["cameras"][0]["plates"]] == [
        ("STRAY1", "delete", "succeeded")
    ]
    listed = api.get("/api/plates/cameras/").json()
    assert listed[0]["family"] == "A" and listed[0]["has_drift"] is False and listed[0]["desired_count"] == 2


def test_converge_never_empties_a_full_camera_by_accident(celery_worker, api, doubles):
    cam, camera = doubles("A")
    AnprCamera.objects.create(camera=camera)
    cam.seed("FULL01")
    job = finish(
        api.post(f"/api/plates/cameras/{camera.pk}/sync/", {"converge": True, "remove_unexpected": True}, format="json")
    )
    assert job.status == "failed" and "refusing to empty" in job.cameras.get().last_error
    assert cam.plates() == ["FULL01"]
    job = finish(
        api.post(
            f"/api/plates/cameras/{camera.pk}/sync/",
            {"converge": True, "remove_unexpected": True, "allow_empty": True},
            format="json",
        )
    )
    assert job.status == "succeeded" and cam.plates() == []


def test_backups_list_download_restore(celery_worker, api, doubles):
    cam, camera = doubles("A")
    cam.seed("BKP001")
    cam.seed("BKP002", "blackList", "2024-01-01", "2030-01-01")
    AnprCamera.objects.create(camera=camera)
    r = api.post(f"/api/plates/cameras/{camera.pk}/backup/")
    assert r.status_code == 201, r.content
    backup = PlateBackup.objects.get()
    assert backup.plate_count == 2
    listed = api.get("/api/plates/backups/").json()
    assert [b["id"] for b in listed] == [backup.pk]
    raw = api.get(listed[0]["download_url"])
    assert raw.status_code == 200 and b"".join(raw.streaming_content) == cam.export_csv()
    norm = b"".join(api.get(listed[0]["download_url"] + "?normalized=1").streaming_content)
    assert norm.splitlines()[0] == b"plate,list_type,valid_from,valid_until"
    assert b"BKP002,block,2024-01-01,2030-01-01" in norm

    cam.records.clear()
    cam.seed("NEW001")
    job = finish(api.post(f"/api/plates/backups/{backup.pk}/restore/", {}, format="json"))
    assert job.status == "succeeded"
    assert sorted(cam.plates()) == ["BKP001", "BKP002", "NEW001"]  # additive by default
    assert next(r for r in cam.records if r.plate == "BKP002").list_type == "blackList"
    job = finish(api.post(f"/api/plates/backups/{backup.pk}/restore/", {"replace_all": True}, format="json"))
    assert sorted(cam.plates()) == ["BKP001", "BKP002"]


def test_empty_backup_needs_allow_empty(celery_worker, api, doubles):
    cam, camera = doubles("B")
    AnprCamera.objects.create(camera=camera)
    assert api.post(f"/api/plates/cameras/{camera.pk}/backup/").status_code == 201
    backup = PlateBackup.objects.get()
    cam.seed("LIVE01")
    r = api.post(f"/api/plates/backups/{backup.pk}/restore/", {"replace_all": True}, format="json")
    assert r.status_code == 400 and "allow_empty" in r.json()["fields"]
    assert cam.plates() == ["LIVE01"]


def test_beat_schedule_names_registered_tasks():
    from django.conf import settings

    from lprnvr.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"plates.converge_all", "plates.backup_all"} <= tasks
    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)


def test_job_list_shows_progress(celery_worker, api, doubles):
    cam, camera = doubles("A")
    finish(api.post("/api/plates/push/", {"plates": ["PRG001", "PRG002"], "cameras": [camera.pk]}, format="json"))
    cam.stop()
    r = api.post("/api/plates/push/", {"plates": ["PRG003"], "cameras": [camera.pk]}, format="json")
    finish(r)
    jobs = api.get("/api/plates/jobs/").json()
    assert [j["status"] for j in jobs] == ["failed", "succeeded"]
    assert jobs[1]["progress"] == {"cameras_total": 1, "cameras_done": 1, "plates_total": 2, "plates_done": 2}
    assert jobs[0]["progress"]["plates_done"] == 1
    assert [j["id"] for j in api.get("/api/plates/jobs/?status=failed").json()] == [jobs[0]["id"]]


def test_any_visible_camera_can_be_synced(celery_worker, api, doubles):
    cam, camera = doubles("B")  # never used for plates before
    cam.seed("OLD001")
    assert api.get("/api/plates/cameras/").json() == []
    job = finish(api.post(f"/api/plates/cameras/{camera.pk}/sync/", {}, format="json"))
    assert job.status == "succeeded"
    cameras = api.get("/api/plates/cameras/").json()
    assert cameras[0]["family"] == "B" and cameras[0]["drift"]["unexpected"] == ["OLD001"]
    assert api.get("/api/plates/cameras/999999/").status_code == 404
