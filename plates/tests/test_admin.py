"""The admin pages: plates with search and bulk actions, CSV import, jobs inline, drift, backups."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from plates import services
from plates.models import AnprCamera, Plate, PlateBackup, PlateJob
from plates.tests.factories import PlateFactory


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.celery
def test_push_and_remove_actions_and_job_page(celery_worker, admin_client_, doubles):
    cam, camera = doubles("A")
    plate = PlateFactory(number="ADM001")
    r = admin_client_.post(
        "/admin/plates/plate/",
        {"action": "push_to_cameras", "_selected_action": [plate.pk], "apply": "1", "cameras": [camera.pk]},
    )
    assert r.status_code == 302
    job = services.wait_for_job(PlateJob.objects.get(), 30)
    assert job.status == "succeeded" and job.source == "admin" and cam.plates() == ["ADM001"]
    page = admin_client_.get(f"/admin/plates/platejob/{job.pk}/change/")
    assert page.status_code == 200 and b"<b>ADM001</b>" in page.content and b'class="status-succeeded"' in page.content
    row = job.cameras.get()
    r = admin_client_.get(f"/admin/plates/platejobcamera/{row.pk}/change/")
    assert r.status_code == 302 and r["Location"] == f"/admin/plates/platejob/{job.pk}/change/?camera={row.pk}"
    # The intermediate page first, then the job.
    r = admin_client_.post("/admin/plates/plate/", {"action": "remove_from_cameras", "_selected_action": [plate.pk]})
    assert r.status_code == 200 and b"Queue the job" in r.content
    admin_client_.post(
        "/admin/plates/plate/",
        {"action": "remove_from_cameras", "_selected_action": [plate.pk], "apply": "1", "cameras": [camera.pk]},
    )
    services.wait_for_job(PlateJob.objects.get(operation="delete"), 30)
    assert cam.plates() == []


@pytest.mark.django_db
def test_search_import_drift_and_backups_pages(admin_client_, doubles, monkeypatch):
    monkeypatch.setattr("plates.services.jobs._enqueue", lambda ids: None)
    cam, camera = doubles("A")
    PlateFactory(number="FIND01", owner="Zoe")
    r = admin_client_.get("/admin/plates/plate/?q=zoe")
    assert r.status_code == 200 and b"FIND01" in r.content
    csv = b"\xef\xbb\xbfNo.,Plate No.,Group\r\n1,IMP001,1\r\n2,IMP002,0\r\n3,-,1\r\n"
    r = admin_client_.post(
        "/admin/plates/plate/import/",
        {"file": SimpleUploadedFile("list.csv", csv), "list_type": "allow", "cameras": [camera.pk]},
    )
    assert r.status_code == 302
    assert Plate.objects.get(number="IMP002").list_type == "block"
    assert PlateJob.objects.get().params["plates"] == ["IMP001", "IMP002"]

    AnprCamera.objects.filter(camera=camera).update(drift={"missing": ["A1", "B2"], "unexpected": []})
    r = admin_client_.get("/admin/plates/anprcamera/")
    assert r.status_code == 200 and b"Gate" in r.content
    cam.seed("BK0001")
    r = admin_client_.post("/admin/plates/anprcamera/", {"action": "backup_now", "_selected_action": [camera.pk]})
    assert r.status_code == 302
    backup = PlateBackup.objects.get()
    assert admin_client_.get("/admin/plates/platebackup/").status_code == 200
    raw = admin_client_.get(f"/admin/plates/platebackup/{backup.pk}/download/")
    assert b"".join(raw.streaming_content) == cam.export_csv()
    norm = admin_client_.get(f"/admin/plates/platebackup/{backup.pk}/download/?normalized=1")
    assert b"BK0001,allow" in b"".join(norm.streaming_content)
