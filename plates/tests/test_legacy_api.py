"""The seed's endpoints over real HTTP (live server), a real Celery worker and camera doubles."""

import shutil
import subprocess

import pytest

from plates.models import CameraPlate, Plate, PlateJob, PlateJobCamera, PlateJobItem

pytestmark = pytest.mark.celery


@pytest.mark.parametrize("family", ["A", "B"])
def test_add_exactly_once_removing_duplicates(celery_worker, legacy, doubles, family):
    cam, camera = doubles(family)
    cam.seed("ABC123")
    if family == "A":
        cam.seed("ABC123")
        cam.seed("ABC123")
    cam.seed("ABC1234")  # a substring neighbour stays untouched
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["ABC123", "xyz-789"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded"
    plates = body["results"][camera.address]["plates"]
    assert plates["ABC123"]["status"] == plates["XYZ789"]["status"] == "succeeded"
    assert cam.count("ABC123") == 1 and cam.count("XYZ789") == 1 and cam.count("ABC1234") == 1
    # Idempotent: the same request again changes nothing on the camera.
    before = [(r.id, r.plate) for r in cam.records]
    again = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["ABC123", "XYZ789"]})
    assert again.json()["results"][camera.address]["plates"]["ABC123"]["detail"] == "already present"
    assert [(r.id, r.plate) for r in cam.records] == before
    assert CameraPlate.objects.filter(camera=camera, desired=True).count() == 2


@pytest.mark.parametrize("family", ["A", "B"])
def test_delete_every_exact_record_confirmed_by_a_second_search(celery_worker, legacy, doubles, family):
    cam, camera = doubles(family)
    for plate in ("ABC1", "ABC1", "ABC1", "ABC12", "XABC1") if family == "A" else ("ABC1", "ABC12", "XABC1"):
        cam.seed(plate)
    r = legacy("/DeletePlate", {"camaras": [camera.address], "plates": ["ABC1"]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][camera.address]["plates"]["ABC1"] == {
        "status": "succeeded",
        "detail": "deleted",
        "error": None,
    }
    assert sorted(cam.plates()) == ["ABC12", "XABC1"]
    searches = [body for method, target, body in cam.log if "searchLPListAudit" in target]
    deletes = [i for i, (m, t, b) in enumerate(cam.log) if "DelLicensePlateAuditData" in t]
    assert any(b"ABC1" in body for body in searches)
    assert "searchLPListAudit" in cam.log[deletes[-1] + 1][1]  # confirmed by searching again


def test_delete_the_camera_did_not_do_is_reported_failed(celery_worker, legacy, doubles):
    cam, camera = doubles("A")
    cam.seed("GHOST1")
    cam.ignore_deletes = True  # answers OK, deletes nothing
    r = legacy("/DeletePlate", {"camaras": [camera.address], "plates": ["GHOST1"]})
    result = r.json()["results"][camera.address]
    assert r.json()["status"] == "failed"
    assert result["plates"]["GHOST1"]["status"] == "failed"
    assert "still there" in result["plates"]["GHOST1"]["error"]
    assert cam.count("GHOST1") == 1


@pytest.mark.parametrize("family", ["A", "B"])
def test_update_renames_keeping_validity_and_list_type(celery_worker, legacy, doubles, family):
    cam, camera = doubles(family)
    if family == "A":
        cam.seed("ABB137", "blackList", "2024-03-26", "2030-12-01")
    else:
        cam.seed("ABB137", "blackList", "2024-03-26T00:00:00", "2030-12-01T23:59:59")
    r = legacy("/UpdatePlate", {"camaras": [camera.address], "old plate": ["ABB137"], "new plate": ["ABB138"]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][camera.address]["plates"]["ABB137"]["status"] == "succeeded"
    assert cam.plates() == ["ABB138"]
    rec = cam.records[0]
    assert rec.list_type == "blackList"
    assert rec.start.startswith("2024-03-26") and rec.end.startswith("2030-12-01")
    if family == "A":
        assert rec.id == "1"  # renamed in place
    assert CameraPlate.objects.get(camera=camera, plate__number="ABB138").desired
    assert not CameraPlate.objects.filter(camera=camera, plate__number="ABB137").exists()


def test_bad_input_names_every_offender_and_sends_nothing(celery_worker, legacy, doubles):
    cam, camera = doubles("A")
    r = legacy("/AddPlate", {"camaras": [camera.address, "127.0.0.1:1"], "plates": ["OK123", "A", "", 7]})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid"
    assert any("127.0.0.1:1" in m for m in body["fields"]["camaras"])
    assert len(body["fields"]["plates"]) == 3
    r = legacy(
        "/UpdatePlate", {"camaras": [camera.address], "old plate": ["AAA111", "BBB222"], "new plate": ["CCC333"]}
    )
    assert r.status_code == 400 and "new plate" in r.json()["fields"]
    r = legacy("/DeletePlate", {"plates": ["AAA111"]})
    assert r.status_code == 400 and "camaras" in r.json()["fields"]
    r = legacy("/AddPlate", None, data=b"not json", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400
    assert cam.log == [] and PlateJob.objects.count() == 0 and Plate.objects.count() == 0


def test_curl_digest_and_bearer_token(celery_worker, live_server, legacy, doubles, operator):
    cam, camera = doubles("A")
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test (apt-get install curl)"
    out = subprocess.run(
        [curl, "-s", "--digest", "-u", "gatekeeper:gate-pass-42",  # no Content-Type: curl says form data
         "-d", f'{{"camaras": ["{camera.address}"], "plates": ["CURL01"]}}', "-w", "\n%{http_code}",
         f"{live_server.url}/AddPlate"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.rstrip().endswith("200"), out.stdout
    assert cam.count("CURL01") == 1

    from conftest import client_for

    client = client_for(operator)
    r = client.post("/DeletePlate", {"camaras": [camera.address], "plates": ["CURL01"]}, format="json")
    assert r.status_code == 200, r.content
    assert cam.count("CURL01") == 0


def test_authentication_required(celery_worker, legacy, doubles, make_user):
    cam, camera = doubles("A")
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["NOAUTH1"]}, auth=None)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Digest ")
    assert 'qop="auth"' in r.headers["WWW-Authenticate"]
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["NOAUTH1"]}, auth=("gatekeeper", "wrong"))
    assert r.status_code == 401
    make_user("viewer", username="watcher", password="watch-pass-42", legacy_digest=True)
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["NOAUTH1"]}, auth=("watcher", "watch-pass-42"))
    assert r.status_code == 403
    assert cam.log == []


def test_user_acts_only_on_cameras_they_manage(celery_worker, legacy, doubles, make_user):
    cam, mine = doubles("A")
    other_cam, other = doubles("A")
    user = make_user("user", username="guard", password="guard-pass-42", legacy_digest=True)
    user.cameras.add(mine)
    r = legacy(
        "/AddPlate", {"camaras": [mine.address, other.address], "plates": ["GRD001"]}, auth=("guard", "guard-pass-42")
    )
    assert r.status_code == 400  # a camera the user cannot see is unknown to them
    assert other.address in str(r.json()["fields"]["camaras"])
    r = legacy("/AddPlate", {"camaras": [mine.address], "plates": ["GRD001"]}, auth=("guard", "guard-pass-42"))
    assert r.status_code == 200
    assert cam.count("GRD001") == 1 and other_cam.log == []


def test_slow_camera_answers_202_with_the_job_url(celery_worker, live_server, legacy, doubles, settings, operator):
    settings.PLATES_LEGACY_WAIT = 0.2
    _cam, camera = doubles("A", latency=0.15)
    r = legacy("/AddPlate", {"camaras": [camera.address], "plates": ["SLOW01", "SLOW02"]})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    assert r.headers["Location"] == url
    from conftest import client_for
    from plates.services import wait_for_job

    job = wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 20)
    assert job.status == "succeeded"
    # The legacy client polls with its own HTTP Digest credentials.
    import requests
    from requests.auth import HTTPDigestAuth

    polled = requests.get(live_server.url + url, auth=HTTPDigestAuth("gatekeeper", "gate-pass-42"), timeout=30)
    assert polled.status_code == 200 and polled.json()["status"] == "succeeded"
    detail = client_for(operator).get(url).json()
    assert detail["cameras"][0]["status"] == "succeeded"
    assert {p["plate"] for p in detail["cameras"][0]["plates"]} == {"SLOW01", "SLOW02"}
    assert detail["progress"]["plates_done"] == 2


def test_job_rows_record_who_when_and_timings(celery_worker, legacy, doubles, operator):
    _cam, camera = doubles("B")
    legacy("/AddPlate", {"camaras": [camera.address], "plates": ["ROW001"]})
    job = PlateJob.objects.get()
    assert job.requested_by == operator and job.source == "legacy" and job.operation == "add"
    assert job.created_at <= job.started_at <= job.finished_at
    row = PlateJobCamera.objects.get(job=job)
    assert row.status == "succeeded" and row.attempts == 1 and row.last_error == ""
    item = PlateJobItem.objects.get(job_camera=row)
    assert item.status == "succeeded" and item.attempts == 1 and item.started_at <= item.finished_at
