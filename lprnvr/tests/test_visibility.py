"""One visibility point: every model the admin serves has `visible_to` / `manageable_by`, every
ModelAdmin goes through the one mixin, and the rows each role reaches are its cameras' rows."""

import pytest
from django.contrib import admin

from cameras.models import Camera, DiscoveryJob
from cameras.tests.factories import CameraFactory
from lprnvr.admin import RestrictedAdminMixin
from plates.models import AnprCamera, CameraPlate, Plate, PlateBackup, PlateJob, PlateJobCamera, PlateJobItem
from recordings.models import MediaChannel

OUR_APPS = {"accounts", "cameras", "recordings", "plates"}


def test_every_admin_page_goes_through_the_one_mixin():
    # Third-party admins (none today) rely on Django's permissions, which only administrators hold.
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        assert isinstance(model_admin, RestrictedAdminMixin), model
        manager = model._default_manager
        assert hasattr(manager, "visible_to") and hasattr(manager, "manageable_by"), model
        for inline in model_admin.inlines:
            inline_manager = inline.model._default_manager
            assert hasattr(inline_manager, "visible_to") and hasattr(inline_manager, "manageable_by"), inline


@pytest.mark.django_db
def test_each_role_reaches_its_cameras_rows(make_user):
    a, b = CameraFactory(ip="127.0.0.91"), CameraFactory(ip="127.0.0.92")
    viewer, user, admin_ = make_user("viewer"), make_user("user"), make_user("admin")
    for someone in (viewer, user):
        someone.cameras.add(a)
    rows = {}
    for camera in (a, b):
        plate = Plate.objects.create(number=f"VIS{camera.pk}")
        CameraPlate.objects.create(camera=camera, plate=plate)
        AnprCamera.objects.create(camera=camera)
        job = PlateJob.objects.create(operation="add")
        job_camera = PlateJobCamera.objects.create(job=job, camera=camera, camera_address=camera.address)
        PlateJobItem.objects.create(job_camera=job_camera, action="add", plate=plate.number)
        PlateBackup.objects.create(camera=camera, camera_address=camera.address, sha256="x")
        MediaChannel.objects.create(camera=camera)
        rows[camera.pk] = plate
    shared = Plate.objects.create(number="VISBOTH")
    for camera in (a, b):
        CameraPlate.objects.create(camera=camera, plate=shared)
    DiscoveryJob.objects.create(network_range="127.0.0.0/30")

    camera_scoped = [CameraPlate, AnprCamera, PlateJobCamera, PlateJobItem, PlateBackup, MediaChannel, PlateJob]
    for model in camera_scoped:
        assert model.objects.visible_to(admin_).count() == model.objects.count(), model
        assert model.objects.visible_to(viewer).count() == model.objects.visible_to(user).count() > 0, model
        assert model.objects.visible_to(user).count() < model.objects.count(), model
        assert not model.objects.manageable_by(viewer).exists(), model
    assert set(Plate.objects.visible_to(user)) == {rows[a.pk], shared}
    # A plate also on B is visible to A's user, but its row is not theirs to change.
    assert set(Plate.objects.manageable_by(user)) == {rows[a.pk]}
    assert set(Plate.objects.manageable_by(admin_)) == set(Plate.objects.all())
    assert not DiscoveryJob.objects.visible_to(user).exists() and DiscoveryJob.objects.visible_to(admin_).exists()
    assert list(type(user).objects.visible_to(user)) == [user]
    assert not type(user).objects.manageable_by(user).exists()
    assert set(Camera.objects.manageable_by(user)) == {a} and not Camera.objects.manageable_by(viewer).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "user", "admin"])
def test_the_admin_index_and_sidebar_lead_every_role_to_the_video_pages(client, make_user, role):
    someone = make_user(role, username=f"idx-{role}")
    client.force_login(someone)
    for path in ("/admin/", "/admin/recordings/recording/live/"):
        page = client.get(path)
        assert page.status_code == 200
        text = page.content.decode()
        assert "/admin/recordings/recording/live/" in text and "/admin/recordings/recording/player/" in text
        assert "permission to view or edit anything" not in text
    index = client.get("/admin/").content.decode()
    assert "/admin/plates/plate/" in index and "/admin/plates/platejob/" in index  # every role: plates and jobs
    assert ("/admin/cameras/camera/" in index) == (role == "admin")
