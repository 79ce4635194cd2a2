"""List capacity (issue 14 §5): read once from the camera, and a change that would put a camera
over it refused before anything is sent, naming the camera and by how many."""

from __future__ import annotations

import pytest

from plates import services
from plates.models import AnprCamera, CameraPlate, ListType, PlateJob
from plates.services import capacity, lists


def test_the_client_reads_plate_list_num(doubles):
    _cam, camera = doubles("A", plate_list_num=3000)
    assert services.client_for_camera(camera).list_capacity() == 3000
    _unsaid, camera2 = doubles("B")
    assert services.client_for_camera(camera2).list_capacity() is None


@pytest.fixture
def small(doubles, celery_worker):
    cam, camera = doubles("A", plate_list_num=3)
    job = services.wait_for_job(services.push_plates(cameras=[camera], numbers=["CAP001"]), 30)
    assert job.status == "succeeded"
    device = AnprCamera.objects.get(pk=camera.pk)
    assert device.list_capacity == 3 and device.capacity_read_at is not None  # read with the first job
    return cam, camera


@pytest.mark.django_db(transaction=True)
def test_a_push_over_capacity_is_refused_naming_the_camera(small, make_user):
    from conftest import client_for

    cam, camera = small
    writes = len(cam.requests_to("licensePlateAuditData/record"))
    api = client_for(make_user("admin", username="boss"))
    r = api.post("/api/plates/push/", {"plates": ["CAP002", "CAP003", "CAP004"], "cameras": [camera.pk]}, format="json")
    assert r.status_code == 400, r.content
    (reason,) = r.json()["fields"]["plates"]
    assert camera.address in reason and "1 too many" in reason
    assert PlateJob.objects.count() == 1  # only the first push
    assert set(CameraPlate.objects.values_list("plate__number", flat=True)) == {"CAP001"}
    assert len(cam.requests_to("licensePlateAuditData/record")) == writes  # nothing sent
    # Within capacity it goes.
    r = api.post("/api/plates/push/", {"plates": ["CAP002", "CAP003"], "cameras": [camera.pk]}, format="json")
    assert r.status_code == 202
    assert services.wait_for_job(PlateJob.objects.get(pk=r.json()["job"]), 30).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_list_change_over_capacity_is_refused(small):
    _cam, camera = small
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    lists.assign_list(plate_list=residents, cameras=[camera])
    with pytest.raises(capacity.OverCapacity) as refused:
        lists.put_on_list(plate_list=residents, entries=[lists.EntrySpec(f"RES{n:03d}") for n in range(5)])
    assert refused.value.field == "plates" and "3 too many" in refused.value.reasons[0]
    assert not residents.entries.exists() and CameraPlate.objects.filter(camera=camera).count() == 1
