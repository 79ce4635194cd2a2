"""The plate pages as admin, user and viewer: what each sees and may do, the list's filters, camera
names, export and select-all; ANPR-capable targets only (admin, API, legacy API); a 5,000-plate job's
page in a bounded number of queries; drift as tables with its four jobs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cameras.models import Brand
from cameras.tests.factories import CameraFactory
from conftest import client_for
from plates import csvformat, services
from plates.models import AnprCamera, CameraPlate, Plate, PlateJob, PlateJobItem, Status
from plates.tests.factories import PlateFactory

TODAY = timezone.localdate()


@pytest.fixture
def site(make_user, monkeypatch):
    monkeypatch.setattr("plates.services.jobs._enqueue", lambda ids: None)  # pages, not cameras
    north = CameraFactory(name="North gate", ip="127.0.0.61", http_port=9)
    south = CameraFactory(name="South gate", ip="127.0.0.62", http_port=9)
    lobby = CameraFactory(name="Lobby dome", ip="127.0.0.63", http_port=9, brand=Brand.GENERIC)
    for cam in (north, south):
        AnprCamera.objects.create(camera=cam)
    users = {role: make_user(role, username=f"pages-{role}", password="pages-pass-1") for role in ROLES}
    for role in ("viewer", "user"):
        users[role].cameras.add(north, lobby)
    plates = {
        "valid": PlateFactory(number="VAL001", owner="Ana Gómez"),
        "expired": PlateFactory(number="EXP001", valid_until=TODAY - timedelta(days=1), owner="Bo"),
        "future": PlateFactory(number="FUT001", valid_from=TODAY + timedelta(days=1), list_type="block"),
        "both": PlateFactory(number="BOTH01"),
        "theirs": PlateFactory(number="THEIR1"),
    }
    for key in ("valid", "expired", "future", "both"):
        plates[key].assignments.create(camera=north)
    for key in ("both", "theirs"):
        plates[key].assignments.create(camera=south)
    return {"north": north, "south": south, "lobby": lobby, "users": users, "plates": plates}


ROLES = ("viewer", "user", "admin")


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(user)
    return client


def numbers_on(page) -> list[str]:
    return sorted(str(p) for p in page.context["cl"].result_list)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_plate_list_per_role_and_its_filters(site, role):
    client = browser(site["users"][role])
    page = client.get("/admin/plates/plate/")
    assert page.status_code == 200
    mine = ["BOTH01", "EXP001", "FUT001", "VAL001"]
    assert numbers_on(page) == (sorted([*mine, "THEIR1"]) if role == "admin" else mine)
    text = page.content.decode()
    # The cameras column names them, and names only cameras the role sees.
    assert "North gate" in text and ("South gate" in text) == (role == "admin")
    assert ('name="action"' in text) == (role != "viewer")
    # Gate filter: ANPR cameras only (the generic camera is none), the role's own.
    gate_choices = [c[1] for c in page.context["cl"].filter_specs[0].lookup_choices]
    assert "Lobby dome" not in gate_choices and ("South gate" in gate_choices) == (role == "admin")
    north = site["north"].pk
    assert numbers_on(client.get(f"/admin/plates/plate/?camera={north}")) == mine
    assert numbers_on(client.get("/admin/plates/plate/?validity=valid")) == (
        ["BOTH01", "THEIR1", "VAL001"] if role == "admin" else ["BOTH01", "VAL001"]
    )
    assert numbers_on(client.get("/admin/plates/plate/?validity=expired")) == ["EXP001"]
    assert numbers_on(client.get("/admin/plates/plate/?validity=future&list_type=block")) == ["FUT001"]
    assert numbers_on(client.get("/admin/plates/plate/?owner=gómez")) == ["VAL001"]
    assert client.get("/admin/plates/plate/?camera=abc").status_code == 200


@pytest.mark.django_db
def test_camera_names_are_bounded_with_and_n_more(site, admin_user):
    plate = PlateFactory(number="MANY01")
    for i in range(6):
        camera = CameraFactory(name=f"Gate {i:02d}", ip=f"127.0.1.{i + 10}", http_port=9)
        plate.assignments.create(camera=camera)
    page = browser(admin_user).get("/admin/plates/plate/?q=MANY01").content.decode()
    assert "Gate 00, Gate 01, Gate 02 and 3 more" in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_export_is_the_filtered_set_and_imports_back(site, role):
    client = browser(site["users"][role])
    response = client.get("/admin/plates/plate/export/?list_type=allow&validity=valid")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["plate"] for r in rows] == (["BOTH01", "THEIR1", "VAL001"] if role == "admin" else ["BOTH01", "VAL001"])
    both = next(r for r in rows if r["plate"] == "BOTH01")
    assert both["cameras"] == ("North gate; South gate" if role == "admin" else "North gate")
    assert next(r for r in rows if r["plate"] == "VAL001")["owner"] == "Ana Gómez"
    # Everything the list shows, exported, reads back with its validity (the import's parser).
    everything = b"".join(client.get("/admin/plates/plate/export/").streaming_content)
    specs = {s.plate: s for s in csvformat.parse_device_csv(everything)}
    assert specs["EXP001"].valid_until == TODAY - timedelta(days=1) and specs["FUT001"].list_type == "block"


@pytest.mark.django_db
def test_select_all_across_pages_pushes_the_filtered_set(site, admin_user):
    Plate.objects.bulk_create([Plate(number=f"BLK{i:04d}", list_type="block") for i in range(130)])
    client = browser(admin_user)
    first_page = client.get("/admin/plates/plate/?list_type=block")
    page_pks = [p.pk for p in first_page.context["cl"].result_list]
    assert len(page_pks) == 50  # one page of a 131-plate filter
    body = {"action": "push_to_cameras", "_selected_action": page_pks, "select_across": "1"}
    choose = client.post("/admin/plates/plate/?list_type=block", body)
    text = choose.content.decode()
    assert "131 plates" in text and "and 111 more" in text and 'name="select_across" value="1"' in text
    done = client.post("/admin/plates/plate/?list_type=block", {**body, "apply": "1", "cameras": [site["north"].pk]})
    job = PlateJob.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/admin/plates/platejob/{job.pk}/change/"
    assert len(job.params["plates"]) == 131 and "VAL001" not in job.params["plates"]  # FUT001 is block too
    assert "FUT001" in job.params["plates"]
    # Delete, also over the filtered set: the confirmation carries the flag, not 131 ids.
    body["action"] = "delete_selected"
    confirm = client.post("/admin/plates/plate/?list_type=block", body).content.decode()
    assert "Delete 131 plates?" in confirm and 'name="select_across" value="1"' in confirm
    assert confirm.count('name="_selected_action"') == 50 and "and 31 more" in confirm
    client.post("/admin/plates/plate/?list_type=block", {**body, "post": "yes"})
    # All on North gate's list now: taken off it first (one removal job for the 131), then deleted.
    assert Plate.objects.filter(list_type="block", delete_requested=True).count() == 131
    removal = PlateJob.objects.get(operation="delete")
    assert len(removal.params["plates"]) == 131


@pytest.mark.django_db
def test_only_anpr_cameras_are_offered_and_others_refused_with_the_reason(site):
    user = site["users"]["user"]
    client = browser(user)
    plate = site["plates"]["valid"]
    body = {"action": "push_to_cameras", "_selected_action": [plate.pk]}
    choose = client.post("/admin/plates/plate/", body).content.decode()
    assert "North gate" in choose and "Lobby dome" not in choose and "South gate" not in choose
    refused = client.post("/admin/plates/plate/", {**body, "apply": "1", "cameras": [site["lobby"].pk]})
    assert refused.status_code == 200 and "127.0.0.63:9 cannot hold plates" in refused.content.decode()
    assert not PlateJob.objects.exists()
    # The API and the legacy API refuse it the same way: 400 naming the field and the camera.
    api = client_for(user).post("/api/plates/push/", {"plates": ["ABC123"], "cameras": ["127.0.0.63:9"]}, format="json")
    assert api.status_code == 400 and "127.0.0.63:9 cannot hold plates" in api.json()["fields"]["cameras"][0]
    api = client_for(user).post("/api/plates/", {"number": "NEW123", "push_to": ["127.0.0.63:9"]}, format="json")
    assert api.status_code == 400 and "cameras" in api.json()["fields"]
    with pytest.raises(services.NotAnprCapable) as exc:
        services.push_plates(cameras=[site["lobby"]], numbers=["ABC123"])
    assert exc.value.cameras == ["127.0.0.63:9"]
    # A sync probes it (the API's sync is open to it); listed as an ANPR camera once a family is detected.
    sync = client_for(user).post(f"/api/plates/cameras/{site['lobby'].pk}/sync/", {}, format="json")
    assert sync.status_code == 202
    listed = {c["name"] for c in client_for(user).get("/api/plates/cameras/").json()}
    assert listed == {"North gate"}
    AnprCamera.objects.filter(camera=site["lobby"]).update(family="A")
    assert len(client_for(user).get("/api/plates/cameras/").json()) == 2
    services.push_plates(cameras=[site["lobby"]], numbers=["ABC123"])
    assert not Plate.objects.filter(number="NEW123").exists()


@pytest.mark.django_db
def test_legacy_api_takes_a_camera_of_no_brand_and_refuses_another_brand(site, settings):
    """The seed's doors name the Hikvision cameras they push to: a camera registered with no brand
    (before brands mattered) is still one; a camera of another known brand is refused, named."""
    from rest_framework.test import APIRequestFactory, force_authenticate

    from plates.api.legacy import AddPlateView

    settings.PLATES_LEGACY_WAIT = 0

    def add(ref):
        request = APIRequestFactory().post("/AddPlate", {"camaras": [ref], "plates": ["ABC123"]}, format="json")
        force_authenticate(request, user=site["users"]["admin"])
        return AddPlateView.as_view()(request)

    assert add("127.0.0.63:9").status_code in (200, 202)  # the generic lobby camera: pushed as before
    assert PlateJob.objects.get().source == "legacy"
    CameraFactory(name="Dahua box", ip="127.0.0.64", http_port=9, brand=Brand.DAHUA)
    refused = add("127.0.0.64:9")
    assert refused.status_code == 400 and "127.0.0.64:9 cannot hold plates" in str(refused.data)


@pytest.mark.django_db
def test_user_pushes_and_removes_on_its_camera_viewer_cannot(site):
    user, viewer = site["users"]["user"], site["users"]["viewer"]
    plate = site["plates"]["valid"]
    body = {"action": "push_to_cameras", "_selected_action": [plate.pk], "apply": "1", "cameras": [site["north"].pk]}
    assert browser(viewer).post("/admin/plates/plate/", body).status_code == 403
    assert not PlateJob.objects.exists()
    response = browser(user).post("/admin/plates/plate/", body)
    job = PlateJob.objects.get()
    assert response.status_code == 302 and job.requested_by == user and job.source == "admin"
    page = browser(user).get(response["Location"])
    assert page.status_code == 200 and "VAL001" in page.content.decode()
    assert browser(viewer).get(response["Location"]).status_code == 200  # read only, on its camera
    # A plate also on a camera the user does not manage: its row is not the user's to delete.
    both = site["plates"]["both"]
    assert browser(user).get(f"/admin/plates/plate/{both.pk}/delete/").status_code == 403
    r = browser(user).post(
        "/admin/plates/plate/", {"action": "delete_selected", "_selected_action": [both.pk], "post": "yes"}
    )
    assert r.status_code == 302 and Plate.objects.filter(pk=both.pk, delete_requested=False).exists()


def make_big_job(cameras, plates: int = 5000, failed: int = 40) -> PlateJob:
    numbers = [f"BIG{i:05d}" for i in range(plates)]
    job = services.push_plates(cameras=cameras, numbers=numbers)
    items = PlateJobItem.objects.filter(job_camera__job=job)
    done = items.order_by("id").values("id")[failed : plates * len(cameras)]
    PlateJobItem.objects.filter(id__in=done).update(status=Status.SUCCEEDED, detail="added")
    PlateJobItem.objects.filter(job_camera__job=job, status=Status.PENDING).update(
        status=Status.FAILED, last_error="the camera refused the record"
    )
    job.cameras.update(status=Status.FAILED, last_error="40 plates refused")
    PlateJob.objects.filter(pk=job.pk).update(status=Status.PARTIAL)
    return job


@pytest.mark.django_db
def test_a_5000_plate_job_page_is_bounded(site, admin_user, django_assert_max_num_queries):
    job = make_big_job([site["north"], site["south"]])
    client = browser(admin_user)
    client.get("/admin/")  # the session's first queries are not the page's
    with django_assert_max_num_queries(14):
        page = client.get(f"/admin/plates/platejob/{job.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200 and len(page.content) < 80_000  # a few screens, not 10,000 rows
    assert text.count('class="status-failed"') == 40  # failed first: all 40 on page 1 (of 50 rows)
    assert text.count("<tr>") < 70
    assert "5000 plates: BIG00000, BIG00001" in text and "and 4990 more" in text  # parameters in words
    assert '"plates": [' not in text  # no JSON
    summary = page.context["summary"]
    assert [dict(e["counts"]) for e in summary] == [
        {"failed": 40, "retrying": 0, "running": 0, "pending": 0, "succeeded": 4960},
        {"failed": 0, "retrying": 0, "running": 0, "pending": 0, "succeeded": 5000},
    ]
    south_row = summary[1]["row"].pk
    with django_assert_max_num_queries(14):
        page = client.get(f"/admin/plates/platejob/{job.pk}/change/?camera={south_row}&status=succeeded&page=100")
    assert page.context["items_page"].number == 100 and page.context["items_page"].paginator.count == 5000
    assert len(page.content) < 80_000
    assert page.context["items_page"][0].plate == "BIG04950"
    filtered = client.get(f"/admin/plates/platejob/{job.pk}/change/?plate=big0499")
    assert filtered.context["items_page"].paginator.count == 20  # BIG04990..BIG04999 on two cameras
    # A camera's page is the job's, filtered to it.
    r = client.get(f"/admin/plates/platejobcamera/{south_row}/change/")
    assert r["Location"] == f"/admin/plates/platejob/{job.pk}/change/?camera={south_row}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["user", "admin"])
def test_a_5000_plate_list_and_job_list_are_bounded(site, role, django_assert_max_num_queries):
    make_big_job([site["north"], site["south"]], failed=0)
    client = browser(site["users"][role])
    client.get("/admin/")
    with django_assert_max_num_queries(14):
        page = client.get("/admin/plates/plate/")
    assert page.status_code == 200 and page.context["cl"].result_count == (5005 if role == "admin" else 5004)
    assert len(page.context["cl"].result_list) == 50
    text = page.content.decode()
    assert ("North gate, South gate" in text) == ("South gate" in text) == (role == "admin")  # the role's cameras
    with django_assert_max_num_queries(12):
        jobs = client.get("/admin/plates/platejob/")
    assert jobs.status_code == 200 and jobs.context["cl"].result_count == 1


@pytest.mark.django_db
def test_job_titles_and_parameters_in_words(site):
    job = services.sync_cameras(cameras=[site["north"]], converge=True, adopt_unexpected=True)
    assert str(job) == f"Job #{job.pk}: Converge (Pending)"
    from plates.admin.words import describe_params

    assert describe_params(job) == (
        "Make the cameras match their lists. Plates on a camera and not on its list are taken into the list."
    )
    renames = services.rename_plates(cameras=[site["north"]], renames=[services.Rename("VAL001", "VAL002")])
    assert describe_params(renames) == "1 rename: VAL001 → VAL002."


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_drift_page_shows_tables_and_its_buttons_run_jobs(site, role):
    AnprCamera.objects.filter(camera=site["north"]).update(
        drift={
            "missing": ["VAL001"],
            "unexpected": ["ODD001", "ODD002"],
            "to_remove": [],
            "duplicates": [],
            "mismatched": ["EXP001"],
        },
        last_synced_at=timezone.now(),
    )
    client = browser(site["users"][role])
    page = client.get(f"/admin/plates/anprcamera/{site['north'].pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200 and "ODD002" in text and "Missing on the camera (1)" in text
    assert '"unexpected"' not in text  # tables, not JSON
    assert ('value="adopt"' in text) == (role != "viewer")
    listing = client.get("/admin/plates/anprcamera/").content.decode()
    assert "1 missing, 2 unexpected, 1 mismatched" in listing and "Lobby dome" not in listing
    wanted = {
        "sync": {"converge": False},
        "converge": {"converge": True, "remove_unexpected": False},
        "adopt": {"adopt_unexpected": True, "converge": False},
        "remove": {"converge": True, "remove_unexpected": True},
    }
    for do, params in wanted.items():
        r = client.post(f"/admin/plates/anprcamera/{site['north'].pk}/drift/", {"do": do})
        if role == "viewer":
            assert r.status_code == 403
            continue
        job = PlateJob.objects.order_by("-id").first()
        assert r["Location"] == f"/admin/plates/platejob/{job.pk}/change/"
        assert {k: job.params[k] for k in params} == params and job.requested_by == site["users"][role]
    assert PlateJob.objects.exists() == (role != "viewer")


@pytest.mark.django_db
def test_adopting_takes_the_cameras_own_records_into_its_list(doubles, admin_user):
    cam, camera = doubles("A")
    cam.seed("ODD001")
    PlateFactory(number="KNOWN1", owner="kept").assignments.create(camera=camera)
    job = services.run_job_inline(services.sync_cameras(cameras=[camera], adopt_unexpected=True, user=admin_user))
    assert job.status == "succeeded"
    adopted = Plate.objects.get(number="ODD001")
    assert CameraPlate.objects.filter(camera=camera, plate=adopted, desired=True).exists()
    assert adopted.created_by == admin_user and adopted.valid_until is None  # the camera's "for ever": open
    assert str(adopted.valid_from) == "2024-03-26" and adopted.list_type == "allow"  # the camera's record
    item = PlateJobItem.objects.get(job_camera__job=job, plate="ODD001")
    assert item.status == "succeeded" and item.detail == "taken into this camera's list"
    assert AnprCamera.objects.get(camera=camera).drift["unexpected"] == []
