"""The doors of issue 10 over real HTTP (live server + requests): the admin site signed in with a
session as each role would, the REST API with the token its login gives; camera doubles and a real
Celery worker where a job must reach a camera."""

from __future__ import annotations

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from cameras.tests.factories import CameraFactory
from plates import csvformat, services
from plates.admin import ImportForm
from plates.models import CameraPlate, Plate, PlateBackup, PlateJob
from plates.tests.factories import PlateFactory

PASSWORD = "doors-pass-1"


def admin_session(live_server, username: str) -> requests.Session:
    """A browser's session on the admin site: the login form with its CSRF token."""
    session = requests.Session()
    session.headers["Accept"] = "text/html,application/xhtml+xml"
    session.get(live_server.url + "/admin/login/", timeout=10)
    r = session.post(
        live_server.url + "/admin/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.text[:300]
    return session


def form_post(session: requests.Session, url: str, data: dict, **kw) -> requests.Response:
    return session.post(url, data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=30, **kw)


def api_session(live_server, username: str) -> requests.Session:
    r = requests.post(
        live_server.url + "/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert r.status_code == 200, r.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return session


def write_backup(settings, camera, name: str, csv: bytes) -> PlateBackup:
    settings.BACKUPS_DIR.mkdir(parents=True, exist_ok=True)
    (settings.BACKUPS_DIR / name).write_bytes(csv)
    return PlateBackup.objects.create(
        camera=camera, camera_address=camera.address, raw_path=name, normalized_path=name, sha256="x"
    )


@pytest.fixture
def no_queue(monkeypatch):
    monkeypatch.setattr("plates.services.jobs._enqueue", lambda ids: None)  # these jobs reach no camera


@pytest.mark.django_db(transaction=True)
def test_viewer_reaches_the_video_pages_and_reads_plates_only(live_server, make_user, settings, no_queue):
    mine = CameraFactory(name="Mine gate", ip="127.0.0.81")
    theirs = CameraFactory(name="Secret gate", ip="127.0.0.82")
    viewer = make_user("viewer", username="v-doors", password=PASSWORD)
    viewer.cameras.add(mine)
    csv = b"\xef\xbb\xbfNo.,Plate No.,Group\r\n1,ABC123,1\r\n"
    my_backup = write_backup(settings, mine, "mine.csv", csv)
    their_backup = write_backup(settings, theirs, "theirs.csv", csv)
    browser = admin_session(live_server, "v-doors")
    url = live_server.url

    index = browser.get(url + "/admin/", timeout=10)
    assert index.status_code == 200 and "/admin/recordings/recording/live/" in index.text
    # Plates, jobs and ANPR cameras read only (their own cameras'); no other model.
    assert "/admin/plates/plate/" in index.text and "/admin/cameras/camera/" not in index.text
    assert "/admin/plates/platebackup/" not in index.text
    assert browser.get(url + "/admin/recordings/recording/live/", timeout=10).status_code == 200
    assert browser.get(url + "/admin/recordings/recording/player/", timeout=10).status_code == 200

    # Another camera's backup is the same 404 as a missing one; their own is still not theirs to take.
    r = browser.get(url + f"/admin/plates/platebackup/{their_backup.pk}/download/", timeout=10)
    assert r.status_code == 404 and "ABC123" not in r.text
    assert r.headers["Content-Type"].startswith("text/html")  # a page, not raw JSON
    r = browser.get(url + f"/admin/plates/platebackup/{my_backup.pk}/download/", timeout=10)
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html")

    # The import: its form is refused (and names no camera), and so is a posted file.
    r = browser.get(url + "/admin/plates/plate/import/", timeout=10)
    assert r.status_code == 403
    assert "Secret gate" not in r.text and "127.0.0.82" not in r.text and "127.0.0.81" not in r.text
    r = form_post(
        browser,
        url + "/admin/plates/plate/import/",
        {"list_type": "allow", "cameras": [theirs.pk]},
        files={"file": ("list.csv", csv)},
    )
    assert r.status_code == 403
    assert not Plate.objects.exists() and not PlateJob.objects.exists()
    for page in ("/admin/plates/platebackup/", "/admin/cameras/camera/"):
        assert browser.get(url + page, timeout=10).status_code == 403, page
    plates = browser.get(url + "/admin/plates/plate/", timeout=10)
    assert plates.status_code == 200 and "Secret gate" not in plates.text
    assert 'name="action"' not in plates.text and "/admin/plates/plate/add/" not in plates.text  # nothing to act on


@pytest.mark.django_db
def test_choice_lists_hold_only_the_cameras_the_user_may_manage(make_user):
    mine, theirs = CameraFactory(ip="127.0.0.83"), CameraFactory(ip="127.0.0.84")
    user, viewer = make_user("user", username="u-choices"), make_user("viewer", username="v-choices")
    user.cameras.add(mine)
    viewer.cameras.add(mine)
    assert list(ImportForm(user=user).fields["cameras"].queryset) == [mine]
    assert list(ImportForm(user=viewer).fields["cameras"].queryset) == []
    assert set(ImportForm(user=make_user("admin", username="a-choices")).fields["cameras"].queryset) == {
        mine,
        theirs,
    }


@pytest.mark.django_db(transaction=True)
def test_a_user_cannot_change_a_plate_another_camera_holds(live_server, make_user, settings, no_queue):
    a = CameraFactory(ip="127.0.0.85", http_port=9)
    b = CameraFactory(ip="127.0.0.86", http_port=9)
    user = make_user("user", username="u-doors", password=PASSWORD)
    user.cameras.add(a)
    make_user("admin", username="a-doors", password=PASSWORD)
    shared = PlateFactory(number="SHARED1", list_type="allow")
    for camera in (a, b):
        CameraPlate.objects.create(camera=camera, plate=shared)
    backup = write_backup(settings, a, "a.csv", b"\xef\xbb\xbfNo.,Plate No.,Group\r\n1,SHARED1,0\r\n")
    api = api_session(live_server, "u-doors")
    url = live_server.url

    # Restoring A's backup would make SHARED1 a block-list plate on B as well: refused, naming B.
    r = api.post(url + f"/api/plates/backups/{backup.pk}/restore/", json={}, timeout=10)
    assert r.status_code == 403, r.text
    assert r.json()["fields"]["cameras"] == [b.address] and b.address in r.json()["error"]
    shared.refresh_from_db()
    assert shared.list_type == "allow" and not PlateJob.objects.exists()
    # PATCH and DELETE of the shared row alike.
    r = api.patch(url + f"/api/plates/{shared.pk}/", json={"list_type": "block"}, timeout=10)
    assert r.status_code == 403 and r.json()["fields"]["cameras"] == [b.address]
    r = api.delete(url + f"/api/plates/{shared.pk}/", timeout=10)
    assert r.status_code == 403 and Plate.objects.filter(pk=shared.pk).exists()
    # What changes only A's list is theirs to do.
    r = api.post(url + "/api/plates/remove/", json={"plates": ["SHARED1"], "cameras": [a.pk]}, timeout=10)
    assert r.status_code == 202
    assert CameraPlate.objects.get(camera=b, plate=shared).desired is True
    # A wipe confirmation is an administrator's.
    r = api.post(url + f"/api/plates/backups/{backup.pk}/restore/", json={"confirm_wipe": True}, timeout=10)
    assert r.status_code == 403
    # An administrator may restore it, and the job reaches the cameras named.
    admin = api_session(live_server, "a-doors")
    r = admin.post(url + f"/api/plates/backups/{backup.pk}/restore/", json={}, timeout=10)
    assert r.status_code == 202, r.text
    shared.refresh_from_db()
    assert shared.list_type == "block"


@pytest.mark.celery
def test_admin_delete_single_and_bulk_takes_plates_off_every_camera(celery_worker, live_server, make_user, doubles):
    cam1, c1 = doubles("A")
    cam2, c2 = doubles("B")
    make_user("admin", username="a-delete", password=PASSWORD)
    services.wait_for_job(services.push_plates(cameras=[c1, c2], numbers=["DEL001", "DEL002"]), 30)
    services.wait_for_job(services.push_plates(cameras=[c1], numbers=["DEL003"]), 30)
    assert sorted(cam1.plates()) == ["DEL001", "DEL002", "DEL003"] and sorted(cam2.plates()) == ["DEL001", "DEL002"]
    browser = admin_session(live_server, "a-delete")
    url = live_server.url

    one = Plate.objects.get(number="DEL001")
    confirm = browser.get(url + f"/admin/plates/plate/{one.pk}/delete/", timeout=10)
    assert confirm.status_code == 200 and "Camera plates" not in confirm.text  # the job takes them off
    r = form_post(browser, url + f"/admin/plates/plate/{one.pk}/delete/", {"post": "yes"})
    assert r.status_code == 200 and "Removal job" in r.text  # the changelist, saying which job
    assert "deleted successfully" not in r.text  # the row stays until the cameras confirm
    job = PlateJob.objects.get(operation="delete")
    assert f"/admin/plates/platejob/{job.pk}/change/" in r.text
    assert services.wait_for_job(job, 30).status == "succeeded"
    assert "DEL001" not in cam1.plates() and "DEL001" not in cam2.plates()
    assert not Plate.objects.filter(number="DEL001").exists()  # gone once both cameras confirmed

    pks = list(Plate.objects.filter(number__in=["DEL002", "DEL003"]).values_list("pk", flat=True))
    r = form_post(
        browser, url + "/admin/plates/plate/", {"action": "delete_selected", "_selected_action": pks, "post": "yes"}
    )
    assert r.status_code == 200 and "Removal job" in r.text and "Successfully deleted" not in r.text
    job = PlateJob.objects.filter(operation="delete").latest("id")
    assert services.wait_for_job(job, 30).status == "succeeded"
    assert {row.camera_id for row in job.cameras.all()} == {c1.pk, c2.pk}
    assert cam1.plates() == [] and cam2.plates() == []
    assert not Plate.objects.exists()


@pytest.mark.celery
def test_import_honours_the_list_type_chosen(celery_worker, live_server, make_user, doubles):
    cam, camera = doubles("A")
    make_user("admin", username="a-import", password=PASSWORD)
    browser = admin_session(live_server, "a-import")
    no_list_column = b"\xef\xbb\xbfNo.,Plate No.\r\n1,IMP001\r\n2,IMP002\r\n"
    r = form_post(
        browser,
        live_server.url + "/admin/plates/plate/import/",
        {"list_type": "block", "cameras": [camera.pk]},
        files={"file": ("list.csv", no_list_column)},
    )
    assert r.status_code == 200 and "2 plates imported" in r.text
    assert set(Plate.objects.values_list("list_type", flat=True)) == {"block"}
    assert services.wait_for_job(PlateJob.objects.get(), 30).status == "succeeded"
    assert {(rec.plate, rec.list_type) for rec in cam.records} == {("IMP001", "blackList"), ("IMP002", "blackList")}
    # A file that says which list wins over the choice; with "replace" the rest leaves the camera.
    with_list = b"\xef\xbb\xbfNo.,Plate No.,Group\r\n1,IMP003,1\r\n"
    r = form_post(
        browser,
        live_server.url + "/admin/plates/plate/import/",
        {"list_type": "block", "cameras": [camera.pk], "replace": "on"},
        files={"file": ("list.csv", with_list)},
    )
    assert r.status_code == 200 and "1 plate imported" in r.text
    assert Plate.objects.get(number="IMP003").list_type == "allow"
    for job in PlateJob.objects.filter(pk__gt=PlateJob.objects.order_by("id").first().pk):
        assert services.wait_for_job(job, 30).status == "succeeded"
    assert cam.plates() == ["IMP003"]


@pytest.mark.celery
def test_a_wipe_needs_an_administrators_confirmation(celery_worker, live_server, make_user, doubles, settings):
    cam, camera = doubles("A")
    make_user("admin", username="a-wipe", password=PASSWORD)
    user = make_user("user", username="u-wipe", password=PASSWORD)
    user.cameras.add(camera)
    services.wait_for_job(services.push_plates(cameras=[camera], numbers=["KEEP01", "KEEP02"]), 30)
    for n in range(20):
        cam.seed(f"WIPE{n:02d}")
    admin, operator = api_session(live_server, "a-wipe"), api_session(live_server, "u-wipe")
    sync = f"{live_server.url}/api/plates/cameras/{camera.pk}/sync/"
    converge = {"converge": True, "remove_unexpected": True}

    r = admin.post(sync, json=converge, timeout=10)
    job = services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30)
    assert job.status == "failed" and "confirm_wipe" in job.cameras.get().last_error
    assert len(cam.plates()) == 22  # nothing removed
    assert operator.post(sync, json={**converge, "confirm_wipe": True}, timeout=10).status_code == 403
    r = admin.post(sync, json={**converge, "confirm_wipe": True}, timeout=10)
    assert services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30).status == "succeeded"
    assert sorted(cam.plates()) == ["KEEP01", "KEEP02"]

    # The same for a restore that replaces the list.
    for n in range(20):
        cam.seed(f"WIPE{n:02d}")
    backup = write_backup(settings, camera, "keep.csv", csvformat.normalised_csv([]) + b"KEEP01,allow,,\n")
    restore = f"{live_server.url}/api/plates/backups/{backup.pk}/restore/"
    r = admin.post(restore, json={"replace_all": True}, timeout=10)
    assert services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30).status == "failed"
    assert len(cam.plates()) == 22
    r = admin.post(restore, json={"replace_all": True, "confirm_wipe": True}, timeout=10)
    assert services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30).status == "succeeded"
    assert cam.plates() == ["KEEP01"]


@pytest.mark.celery
def test_deleted_plates_are_never_held_back_as_a_wipe(celery_worker, doubles):
    """Tombstones are removals somebody asked for: a converge takes them off however many they are."""
    cam, camera = doubles("A")
    numbers = [f"GONE{n:02d}" for n in range(15)]
    services.wait_for_job(services.push_plates(cameras=[camera], numbers=[*numbers, "STAY01"]), 30)
    services.assign_plates([camera], list(Plate.objects.filter(number__in=numbers)), desired=False)
    job = services.sync_cameras(cameras=[camera], converge=True)
    assert services.wait_for_job(job, 30).status == "succeeded"
    assert cam.plates() == ["STAY01"]


@pytest.mark.django_db
def test_an_import_that_replaces_most_of_a_list_needs_confirming(client, admin_user, monkeypatch):
    monkeypatch.setattr("plates.services.jobs._enqueue", lambda ids: None)
    camera = CameraFactory(ip="127.0.0.87", http_port=9)
    services.push_plates(cameras=[camera], numbers=[f"OLD{n:02d}" for n in range(12)])
    client.force_login(admin_user)
    csv = b"\xef\xbb\xbfNo.,Plate No.\r\n1,NEW001\r\n"

    def post(**extra):
        data = {"file": SimpleUploadedFile("l.csv", csv), "list_type": "allow", "cameras": [camera.pk], **extra}
        return client.post("/admin/plates/plate/import/", data)

    r = post(replace="on")
    assert r.status_code == 200 and b"confirm" in r.content  # the form again, saying why
    assert not Plate.objects.filter(number="NEW001").exists() and PlateJob.objects.count() == 1
    assert post(replace="on", confirm_wipe="on").status_code == 302
    assert set(CameraPlate.objects.filter(camera=camera, desired=True).values_list("plate__number", flat=True)) == {
        "NEW001"
    }


@pytest.mark.celery
def test_a_plate_deleted_while_a_camera_is_off_line_goes_when_it_converges(celery_worker, doubles):
    cam1, c1 = doubles("A")
    cam2, c2 = doubles("B")
    services.wait_for_job(services.push_plates(cameras=[c1, c2], numbers=["OFF001"]), 30)
    cam2.stop()
    job = services.delete_plates(plates=list(Plate.objects.filter(number="OFF001")))
    assert services.wait_for_job(job, 60).status == "partial"
    plate = Plate.objects.get(number="OFF001")  # still the tombstone of camera 2's list
    assert plate.delete_requested and cam1.plates() == []
    cam2.start()
    converge = services.converge_camera(c2.pk)
    assert converge is not None and services.wait_for_job(converge, 30).status == "succeeded"
    assert cam2.plates() == [] and not Plate.objects.filter(number="OFF001").exists()
