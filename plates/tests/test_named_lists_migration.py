"""The migration to named lists (issue 14 §7): a database of today's schema with plates on cameras
comes out with every camera's desired list unchanged, and nothing to send to any camera."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("plates", "0007_job_base"),
    ("cameras", "0004_job_base"),
    ("accounts", "0003_user_legacy_digest_token_generation_login_counter"),
]
AFTER = [("plates", "0008_named_lists"), ("cameras", "0005_sites_and_gates"), ("accounts", "0004_gates_and_sites")]


@pytest.mark.django_db(transaction=True)
def test_existing_per_camera_lists_come_through_unchanged():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Camera, Plate, CameraPlate = (old.get_model("cameras", "Camera"), old.get_model("plates", "Plate"),
                                  old.get_model("plates", "CameraPlate"))  # fmt: skip
    gate = Camera.objects.create(name="Gate", ip="127.0.0.1", http_port=8001, brand="hikvision")
    yard = Camera.objects.create(name="Yard", ip="127.0.0.1", http_port=8002, brand="hikvision")
    resident = Plate.objects.create(number="RES001", list_type="allow", valid_until=date(2027, 1, 31))
    banned = Plate.objects.create(number="BAN001", list_type="block")
    gone = Plate.objects.create(number="OLD001", delete_requested=True)
    CameraPlate.objects.create(camera=gate, plate=resident, desired=True)
    CameraPlate.objects.create(camera=gate, plate=banned, desired=True)
    CameraPlate.objects.create(camera=yard, plate=resident, desired=True)
    CameraPlate.objects.create(camera=yard, plate=gone, desired=False)
    before = sorted(CameraPlate.objects.values_list("camera_id", "plate__number", "desired"))

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from plates.models import CameraPlate as Line
    from plates.models import PlateJob
    from plates.services import derivation, desired_for

    assert sorted(Line.objects.values_list("camera_id", "plate__number", "desired")) == before
    assert set(Line.objects.values_list("direct", "derived_type")) == {(True, "")}  # the cameras' own lists
    from cameras.models import Camera as Cam

    desired, _removals = desired_for(Cam.objects.get(pk=gate.pk))
    assert {n: (s.list_type, s.valid_until) for n, s in desired.items()} == {
        "RES001": ("allow", date(2027, 1, 31)),
        "BAN001": ("block", None),
    }
    assert desired_for(Cam.objects.get(pk=yard.pk))[1] == {"OLD001"}
    # Deriving the migrated cameras changes nothing and makes no job: no camera is written to.
    assert derivation.apply_to_cameras(camera_ids=[gate.pk, yard.pk]) is None
    assert not PlateJob.objects.exists()
