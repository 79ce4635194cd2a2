"""Every plates endpoint x anonymous/viewer/user/admin, with the expected status (no camera is contacted:
the cameras point at a closed loopback port and the jobs are only queued)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from lprnvr.tests import matrix
from lprnvr.tests.matrix import LOGIN, model_admin, open_model_admin
from plates.clients.isapi_events import Alert
from plates.models import AnprCamera, AnprEventSource, PlateBackup, PlateJob, PlateJobCamera, RefusedPush
from plates.services.reads import ingest_read
from plates.tests.factories import PlateFactory
from recordings.tests.factories import make_sample_mp4, make_segment


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory):
    return make_sample_mp4(tmp_path_factory.mktemp("media") / "sample.mp4")


@pytest.fixture
def world(make_user, tmp_path, settings, monkeypatch, sample_mp4):
    monkeypatch.setattr("plates.services.jobs._enqueue", lambda ids: None)  # queue nothing: this is about access
    assigned = CameraFactory(ip="127.0.0.71", http_port=9)
    unassigned = CameraFactory(ip="127.0.0.72", http_port=9)
    for cam in (assigned, unassigned):
        AnprCamera.objects.create(camera=cam)
        AnprEventSource.objects.create(camera=cam)
    users = {
        role: make_user(role, username=f"p-{role}", password="matrix-pass-1") for role in ("viewer", "user", "admin")
    }
    for role in ("viewer", "user"):
        users[role].cameras.add(assigned)
    plate = PlateFactory(number="MINE01")
    plate.assignments.create(camera=assigned)
    other_plate = PlateFactory(number="THEIRS1")
    other_plate.assignments.create(camera=unassigned)
    free_plate = PlateFactory(number="FREE01", created_by=users["user"])
    job = PlateJob.objects.create(operation="add", requested_by=users["admin"])
    job_camera = PlateJobCamera.objects.create(job=job, camera=assigned, camera_address=assigned.address)
    other_job = PlateJob.objects.create(operation="add", requested_by=users["admin"])
    PlateJobCamera.objects.create(job=other_job, camera=unassigned, camera_address=unassigned.address)
    backup_dir = settings.BACKUPS_DIR
    backup_dir.mkdir(parents=True, exist_ok=True)
    (backup_dir / "b.csv").write_bytes(b"\xef\xbb\xbfNo.,Plate No.,Group\r\n1,ABC123,1\r\n")
    backups = {}
    for name, cam in (("backup", assigned), ("other_backup", unassigned)):
        backups[name] = PlateBackup.objects.create(
            camera=cam, camera_address=cam.address, raw_path="b.csv", normalized_path="b.csv", sha256="x"
        )
    # A read on each camera, with its plate picture, at a time both cameras recorded.
    settings.DISK_FREE_FLOOR_BYTES = 0
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    reads = {}
    for name, cam in (("read", assigned), ("other_read", unassigned)):
        for i in range(6):
            make_segment(cam, at - timedelta(seconds=12 - 4 * i), sample=sample_mp4)
        alert = Alert(event_type="ANPR", camera_time=at, plate="MINE01", uuid=name, list_type="allowList")
        reads[name] = ingest_read(
            camera=cam, alert=alert, pictures={"licensePlatePicture.jpg": b"\xff\xd8jpeg"}, source="stream"
        )[0]
    # A site whose gate has the assigned camera as a lane; a list reaching it, another elsewhere.
    from cameras.models import Gate, Site
    from plates.models import ListAssignment, ListEntry, PlateList

    gate = Gate.objects.create(site=Site.objects.create(name="HQ", time_zone="Europe/Madrid"), name="North")
    assigned.gate = gate
    assigned.save(update_fields=["gate"])
    plate_list = PlateList.objects.create(name="Residents")
    ListEntry.objects.create(plate_list=plate_list, plate=plate)
    ListAssignment.objects.create(plate_list=plate_list, gate=gate)
    other_list = PlateList.objects.create(name="Elsewhere")
    ListEntry.objects.create(plate_list=other_list, plate=other_plate)
    ListAssignment.objects.create(plate_list=other_list, camera=unassigned)
    from plates.models import VisitorPass

    south = Gate.objects.create(site=gate.site, name="South")
    unassigned.gate = south
    unassigned.save(update_fields=["gate"])
    passes = {}
    for name, on, number in (("visitor_pass", gate, "VIS001"), ("other_pass", south, "VIS002")):
        passes[name] = VisitorPass.objects.create(
            plate=PlateFactory(number=number),
            starts_at=timezone.now() - timedelta(hours=1),
            ends_at=timezone.now() + timedelta(hours=1),
            created_by=users["admin"],
        )
        passes[name].gates.add(on)
    from plates.services.derivation import derive_cameras

    derive_cameras([assigned.pk, unassigned.pk])
    return {
        "site": gate.site_id,
        "visitor_pass": passes["visitor_pass"].pk,
        "other_gate": south.pk,
        "other_pass": passes["other_pass"].pk,
        "gate": gate.pk,
        "plate_list": plate_list.pk,
        "other_list": other_list.pk,
        "read": reads["read"].pk,
        "other_read": reads["other_read"].pk,
        "assigned": assigned.pk,
        "unassigned": unassigned.pk,
        "users": users,
        "plate": plate.pk,
        "other_plate": other_plate.pk,
        "free_plate": free_plate.pk,
        "job": job.pk,
        "job_camera": job_camera.pk,
        "other_job": other_job.pk,
        "backup": backups["backup"].pk,
        "other_backup": backups["other_backup"].pk,
        "refused_push": RefusedPush.objects.create(reason="unknown_camera", count=1).pk,
    }


A = "127.0.0.71:9"
U = "127.0.0.72:9"
# (method, path, body, expected for anonymous, viewer, user, admin)
MATRIX = [
    ("get", "/api/plates/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/", {"number": "NEW123"}, (401, 403, 201, 201)),
    ("post", "/api/plates/", {"number": "NEW123", "push_to": [A]}, (401, 403, 201, 201)),
    ("post", "/api/plates/", {"number": "NEW123", "push_to": [U]}, (401, 403, 400, 201)),
    ("get", "/api/plates/{plate}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/{other_plate}/", None, (401, 404, 404, 200)),
    ("patch", "/api/plates/{plate}/", {"owner": "x"}, (401, 403, 200, 200)),
    ("patch", "/api/plates/{other_plate}/", {"owner": "x"}, (401, 403, 404, 200)),
    ("delete", "/api/plates/{plate}/", None, (401, 403, 202, 202)),
    ("delete", "/api/plates/{free_plate}/", None, (401, 403, 204, 204)),
    ("post", "/api/plates/push/", {"plates": ["ABC123"], "cameras": [A]}, (401, 403, 202, 202)),
    ("post", "/api/plates/push/", {"plates": ["ABC123"], "cameras": [U]}, (401, 403, 400, 202)),
    ("post", "/api/plates/remove/", {"plates": ["ABC123"], "cameras": [A]}, (401, 403, 202, 202)),
    (
        "post",
        "/api/plates/rename/",
        {"renames": [{"old": "ABC123", "new": "ABC124"}], "cameras": [A]},
        (401, 403, 202, 202),
    ),
    ("get", "/api/plates/jobs/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/jobs/{job}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/jobs/{other_job}/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/cameras/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/cameras/{assigned}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/cameras/{unassigned}/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/cameras/{assigned}/drift/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/cameras/{assigned}/sync/", {}, (401, 403, 202, 202)),
    ("post", "/api/plates/cameras/{unassigned}/sync/", {}, (401, 403, 404, 202)),
    ("post", "/api/plates/cameras/{unassigned}/backup/", None, (401, 403, 404, 502)),
    ("get", "/api/plates/backups/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/backups/{backup}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/backups/{other_backup}/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/backups/{backup}/download/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/backups/{backup}/restore/", {}, (401, 403, 202, 202)),
    ("post", "/api/plates/backups/{other_backup}/restore/", {}, (401, 403, 404, 202)),
    # Plate reads: viewers read; a read, its pictures and its clips only on a camera the user sees.
    ("get", "/api/plates/reads/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/reads/", {}, (401, 405, 405, 405)),
    ("get", "/api/plates/reads/{read}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/reads/{other_read}/", None, (401, 404, 404, 200)),
    ("delete", "/api/plates/reads/{read}/", None, (401, 405, 405, 405)),
    ("get", "/api/plates/reads/{read}/picture/plate/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/reads/{other_read}/picture/plate/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/reads/{read}/clip/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/reads/{other_read}/clip/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/reads/{read}/clip/?camera=" + U, None, (401, 400, 400, 400)),
    ("get", "/api/plates/reads/feed/?after=0&wait=0", None, (401, 200, 200, 200)),
    ("get", "/api/plates/reads/export.csv/", None, (401, 200, 200, 200)),
    # Sites and gates: everyone reads what they reach; administrators lay them out.
    ("get", "/api/plates/sites/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/sites/{site}/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/sites/", {"name": "South", "time_zone": "Europe/Madrid"}, (401, 403, 403, 201)),
    ("post", "/api/plates/sites/", {"name": "South", "time_zone": "Mars/Base"}, (401, 403, 403, 400)),
    ("patch", "/api/plates/sites/{site}/", {"time_zone": "Europe/Lisbon"}, (401, 403, 403, 200)),
    ("get", "/api/plates/gates/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/gates/{gate}/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/gates/", {"site": 999999, "name": "South"}, (401, 403, 403, 400)),
    ("patch", "/api/plates/gates/{gate}/", {"name": "North 2"}, (401, 403, 403, 200)),
    ("patch", "/api/plates/gates/{gate}/", {"lanes": [{"camera": 999999}]}, (401, 403, 403, 400)),
    ("delete", "/api/plates/gates/{gate}/", None, (401, 403, 403, 204)),
    ("delete", "/api/plates/sites/{site}/", None, (401, 403, 403, 204)),
    # Named lists: read where they reach a camera the role sees; changed by operators on their cameras.
    ("get", "/api/plates/lists/", None, (401, 200, 200, 200)),
    ("post", "/api/plates/lists/", {"name": "Visitors", "kind": "allow"}, (401, 403, 201, 201)),
    ("post", "/api/plates/lists/", {"name": "Visitors", "kind": "maybe"}, (401, 403, 400, 400)),
    ("get", "/api/plates/lists/{plate_list}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/lists/{other_list}/", None, (401, 404, 404, 200)),
    ("patch", "/api/plates/lists/{plate_list}/", {"notes": "x"}, (401, 403, 200, 200)),
    ("patch", "/api/plates/lists/{plate_list}/", {"kind": "block"}, (401, 403, 200, 200)),
    ("patch", "/api/plates/lists/{other_list}/", {"notes": "x"}, (401, 403, 404, 200)),
    ("post", "/api/plates/lists/{plate_list}/plates/", {"plates": [{"plate": "LST001"}]}, (401, 403, 202, 202)),
    ("post", "/api/plates/lists/{plate_list}/plates/", {"plates": [{"plate": "!"}]}, (401, 403, 400, 400)),
    ("post", "/api/plates/lists/{plate_list}/plates/remove/", {"plates": ["MINE01"]}, (401, 403, 202, 202)),
    ("post", "/api/plates/lists/{plate_list}/assign/", {"cameras": ["{unassigned}"]}, (401, 403, 400, 202)),
    ("post", "/api/plates/lists/{plate_list}/assign/", {}, (401, 403, 400, 400)),
    ("post", "/api/plates/lists/{other_list}/assign/", {"cameras": ["{assigned}"]}, (401, 403, 404, 202)),
    ("post", "/api/plates/lists/{plate_list}/unassign/", {"gates": ["{gate}"]}, (401, 403, 202, 202)),
    ("post", "/api/plates/lists/{plate_list}/import/", {"csv": "plate\nIMP001\n"}, (401, 403, 200, 200)),
    (
        "post",
        "/api/plates/lists/{plate_list}/import/",
        {"csv": "plate\nIMP001\n", "apply": True},
        (401, 403, 202, 202),
    ),
    ("post", "/api/plates/lists/{other_list}/import/", {"csv": "plate\nIMP001\n"}, (401, 403, 404, 200)),
    ("post", "/api/plates/lists/{plate_list}/import/", {"csv": "owner\nx\n"}, (401, 403, 400, 400)),
    ("get", "/api/plates/lists/{plate_list}/export/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/lists/{plate_list}/export/?layout=device", None, (401, 200, 200, 200)),
    ("get", "/api/plates/lists/{other_list}/export/", None, (401, 404, 404, 200)),
    ("get", "/api/plates/cameras/{assigned}/export/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/cameras/{unassigned}/export/", None, (401, 404, 404, 200)),
    ("delete", "/api/plates/lists/{plate_list}/", None, (401, 403, 202, 202)),
    ("delete", "/api/plates/lists/{other_list}/", None, (401, 403, 404, 202)),
    # Visitor passes: on the gates the role reaches; listed with who created them.
    ("get", "/api/plates/passes/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/passes/{visitor_pass}/", None, (401, 200, 200, 200)),
    ("get", "/api/plates/passes/{other_pass}/", None, (401, 404, 404, 200)),
    ("post", "/api/plates/passes/", {"plate": "VIS009", "gates": ["{gate}"], "hours": 2}, (401, 403, 201, 201)),
    ("post", "/api/plates/passes/", {"plate": "VIS009", "gates": ["{gate}"]}, (401, 403, 400, 400)),
    ("post", "/api/plates/passes/", {"plate": "VIS009", "gates": ["{other_gate}"], "hours": 2}, (401, 403, 400, 201)),
    ("post", "/api/plates/passes/{visitor_pass}/end/", None, (401, 403, 202, 202)),
    ("post", "/api/plates/passes/{other_pass}/end/", None, (401, 403, 404, 202)),
    ("delete", "/api/plates/passes/{visitor_pass}/", None, (401, 403, 405, 405)),
    ("post", "/AddPlate", {"camaras": [A], "plates": ["ABC123"]}, (401, 403, 202, 202)),
    ("post", "/AddPlate", {"camaras": [U], "plates": ["ABC123"]}, (401, 403, 400, 202)),
    ("post", "/DeletePlate", {"camaras": [A], "plates": ["ABC123"]}, (401, 403, 202, 202)),
    ("post", "/UpdatePlate", {"camaras": [A], "old plate": ["ABC123"], "new plate": ["ABC124"]}, (401, 403, 202, 202)),
    # Listening mode's door: the secret in the path is the credential, whoever calls (roles do not open it).
    ("post", "/api/plates/events/push/{assigned}/wrong-secret/", {"x": 1}, (403, 403, 403, 403)),
    ("get", "/api/plates/events/push/{assigned}/wrong-secret/", None, (405, 405, 405, 405)),
    # The plate-read pages (drawn from the reads API above): every signed-in role, like the live view.
    ("get", "/admin/plates/plateread/log/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/plates/plateread/monitor/", None, (LOGIN, 200, 200, 200)),
    # The admin site. Plates, jobs and ANPR cameras: every role reads its cameras' rows, users act on
    # them (viewers 403); other rows are "not found" (the admin's redirect). The rest: administrators.
    ("get", "/admin/plates/", None, (LOGIN, 200, 200, 200)),
    *open_model_admin("plates/plate", "plate", add=(403, 200, 200), delete=(403, 200, 200)),
    ("get", "/admin/plates/plate/{other_plate}/change/", None, (LOGIN, LOGIN, LOGIN, 200)),
    ("get", "/admin/plates/plate/export/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/plates/plate/export/?list_type=allow&validity=valid", None, (LOGIN, 200, 200, 200)),
    *open_model_admin("plates/platejob", "job", add=(403, 403, 403), delete=(403, 403, 200)),
    ("get", "/admin/plates/platejob/{other_job}/change/", None, (LOGIN, LOGIN, LOGIN, 200)),
    ("get", "/admin/plates/platejob/{job}/change/?status=failed&camera=1&page=2", None, (LOGIN, 200, 200, 200)),
    *model_admin("plates/platejobcamera", "job_camera", add=403, change=LOGIN),
    *open_model_admin("plates/anprcamera", "assigned", add=(403, 403, 403), delete=(403, 403, 200)),
    ("get", "/admin/plates/anprcamera/{unassigned}/change/", None, (LOGIN, LOGIN, LOGIN, 200)),
    ("get", "/admin/plates/anprcamera/{assigned}/drift/", None, (LOGIN, LOGIN, LOGIN, LOGIN)),
    *[
        ("post", "/admin/plates/anprcamera/{assigned}/drift/", {"do": do}, (LOGIN, 403, LOGIN, LOGIN))
        for do in ("sync", "converge", "adopt", "remove")
    ],
    ("post", "/admin/plates/anprcamera/{unassigned}/drift/", {"do": "sync"}, (LOGIN, 404, 404, LOGIN)),
    *model_admin("plates/platebackup", "backup", add=403),
    *model_admin("cameras/site", "site"),
    *model_admin("cameras/gate", "gate"),
    *open_model_admin("plates/platelist", "plate_list", add=(403, 200, 200), delete=(403, 200, 200)),
    ("get", "/admin/plates/platelist/{other_list}/change/", None, (LOGIN, LOGIN, LOGIN, 200)),
    ("post", "/admin/plates/platelist/{plate_list}/delete/", {"post": "yes"}, (LOGIN, 403, 302, 302)),
    *open_model_admin("plates/visitorpass", "visitor_pass", add=(403, 200, 200), delete=(403, 200, 200)),
    ("get", "/admin/plates/visitorpass/{other_pass}/change/", None, (LOGIN, LOGIN, LOGIN, 200)),
    (
        "post",
        "/admin/plates/visitorpass/add/",
        {"number": "VIS009", "gates": ["{gate}"], "hours": "2", "visitor": "Ana", "notes": ""},
        (LOGIN, 403, 302, 302),
    ),
    (
        "post",
        "/admin/plates/visitorpass/",
        {"action": "end_now", "_selected_action": ["{visitor_pass}"]},
        (LOGIN, 403, 302, 302),
    ),
    *model_admin("plates/anpreventsource", "assigned"),
    *model_admin("plates/plateread", "read", add=403, delete=403),
    *model_admin("plates/refusedpush", "refused_push", add=403, change=200),
    ("get", "/admin/plates/plate/import/", None, (LOGIN, 403, 403, 200)),
    (
        "post",
        "/admin/plates/plate/import/",
        {"file": lambda: SimpleUploadedFile("l.csv", CSV), "list_type": "block", "cameras": ["{assigned}"]},
        (LOGIN, 403, 403, 302),
    ),
    ("get", "/admin/plates/platebackup/{backup}/download/", None, (LOGIN, 403, 403, 200)),
    ("get", "/admin/plates/platebackup/{other_backup}/download/", None, (LOGIN, 404, 404, 200)),
    *[
        ("post", "/admin/plates/plate/", {"action": action, "_selected_action": ["{plate}"]}, (LOGIN, 403, 200, 200))
        for action in ("push_to_cameras", "remove_from_cameras", "delete_selected")
    ],
    *[
        (
            "post",
            "/admin/plates/plate/",
            {"action": action, "_selected_action": ["{plate}"], "apply": "1", "cameras": ["{assigned}"]},
            (LOGIN, 403, 302, 302),
        )
        for action in ("push_to_cameras", "remove_from_cameras")
    ],
    # Another's camera is no choice for a user (the form says so: 200 with the error).
    (
        "post",
        "/admin/plates/plate/",
        {"action": "push_to_cameras", "_selected_action": ["{plate}"], "apply": "1", "cameras": ["{unassigned}"]},
        (LOGIN, 403, 200, 302),
    ),
    # Select all across pages: the filtered set, not the page's rows.
    (
        "post",
        "/admin/plates/plate/?list_type=allow",
        {"action": "push_to_cameras", "_selected_action": ["{plate}"], "select_across": "1"},
        (LOGIN, 403, 200, 200),
    ),
    *[
        (
            "post",
            "/admin/plates/anprcamera/",
            {"action": action, "_selected_action": ["{assigned}"]},
            (LOGIN, 403, LOGIN, LOGIN),
        )
        for action in ("sync_report", "converge", "converge_confirm_wipe", "clear_credential_failure", "backup_now")
    ],
    *[
        (
            "post",
            "/admin/plates/anpreventsource/",
            {"action": action, "_selected_action": ["{assigned}"]},
            (LOGIN, 403, 403, 302),
        )
        for action in ("rotate_secret", "configure_http_host")
    ],
    *[
        (
            "post",
            "/admin/plates/platebackup/",
            {"action": action, "_selected_action": ["{backup}"]},
            (LOGIN, 403, 403, 302),
        )
        for action in ("restore", "restore_replace_all", "restore_replace_all_confirm_wipe")
    ],
]
CSV = b"\xef\xbb\xbfNo.,Plate No.\r\n1,IMP123\r\n"


@pytest.mark.django_db
@matrix.parametrize(MATRIX)
def test_matrix(world, role, method, path, body, expected, settings):
    settings.PLATES_LEGACY_WAIT = 0  # the jobs are only queued here
    settings.PLATES_CONNECT_TIMEOUT = 0.2
    names = {k: v for k, v in world.items() if k != "users"}
    matrix.check(role, world["users"], method, path, body, expected, names)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "user", "admin"])
def test_read_pages_show_each_role_only_its_cameras(world, role):
    """The pages list the role's ANPR cameras (filter, gates) and the session the pages' JS uses gets
    the role's reads only: the API's own `visible_to`."""
    from django.test import Client

    from cameras.models import Camera

    client = Client()
    client.force_login(world["users"][role])
    mine, theirs = (Camera.objects.get(pk=world[k]) for k in ("assigned", "unassigned"))
    sees_all = role == "admin"
    log = client.get("/admin/plates/plateread/log/").content.decode()
    assert f'value="{mine.address}"' in log and (f'value="{theirs.address}"' in log) == sees_all
    monitor = client.get("/admin/plates/plateread/monitor/").content.decode()
    assert f'data-camera="{mine.pk}"' in monitor and (f'data-camera="{theirs.pk}"' in monitor) == sees_all
    ids = {r["id"] for r in client.get("/api/plates/reads/").json()["results"]}
    assert ids == ({world["read"], world["other_read"]} if sees_all else {world["read"]})
    feed = {r["id"] for r in client.get("/api/plates/reads/feed/").json()["results"]}
    assert feed == ids
    assert client.get(f"/api/plates/reads/{world['other_read']}/").status_code == (200 if sees_all else 404)
    index = client.get("/admin/").content.decode()
    assert "/admin/plates/plateread/log/" in index and "/admin/plates/plateread/monitor/" in index


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_gate_monitor_plays_the_overview_camera_the_role_sees(world, role):
    """A gate's live video is its overview camera, if the user sees it; else the ANPR camera's own.
    `?camera=<ref>` shows that one gate."""
    from django.test import Client

    from cameras.models import Camera

    mine, theirs = (Camera.objects.get(pk=world[k]) for k in ("assigned", "unassigned"))
    AnprCamera.objects.get(camera=mine).overview_cameras.add(theirs)
    client = Client()
    client.force_login(world["users"][role])
    page = client.get("/admin/plates/plateread/monitor/", {"camera": mine.address}).content.decode()
    assert page.count('class="gate"') == 1 and f'data-camera="{mine.pk}"' in page
    live = theirs if role == "admin" else mine
    assert f'class="live-cell" data-ref="{live.address}"' in page
    nothing = client.get("/admin/plates/plateread/monitor/", {"camera": "127.0.0.99"}).content.decode()
    assert 'class="gate"' not in nothing
