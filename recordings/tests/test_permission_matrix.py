"""Every media endpoint x anonymous/viewer/user/admin, with the expected status.

No supervisor runs here: the fixture writes a fresh playlist, so a stream counts as playable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from lprnvr.tests import matrix
from lprnvr.tests.matrix import LOGIN, model_admin
from recordings import playback, services, storage
from recordings.models import MediaChannel, MediaNode

from .factories import RecordingFactory, make_sample_mp4, make_segment


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory) -> Path:
    return make_sample_mp4(tmp_path_factory.mktemp("media") / "sample.mp4")


@pytest.fixture
def world(make_user, settings, sample_mp4):
    settings.MEDIA_READY_TIMEOUT = 0
    assigned = CameraFactory(ip="127.0.0.71")
    unassigned = CameraFactory(ip="127.0.0.72")
    users = {role: make_user(role, username=f"mm-{role}") for role in ("viewer", "user", "admin")}
    for role in ("viewer", "user"):
        users[role].cameras.add(assigned)
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    recs = {}
    segments = {}
    for name, camera in (("rec", assigned), ("rec_unassigned", unassigned)):
        segments[name] = make_segment(camera, start, seconds=4, sample=sample_mp4)
        recs[name] = RecordingFactory(
            camera=camera,
            user=users["admin"],
            start_time=start,
            end_time=start + timedelta(seconds=4),
            status="completed",
        )
        folder = storage.hls_dir(camera.id)
        folder.mkdir(parents=True)
        (folder / "index.m3u8").write_text("#EXTM3U\n#EXTINF:1.0,\ns1.m4s\n")
        (folder / "s1.m4s").write_bytes(b"\0" * 10)
    # An active recording by the admin on the assigned camera: what DELETE /api/nvr/record stops.
    RecordingFactory(camera=assigned, user=users["admin"], start_time=timezone.now(), end_time=None)
    viewer = users["viewer"]
    token = services.signed_token(camera_id=assigned.id, user_id=viewer.id, generation=viewer.token_generation)
    export = f"camera_ip={{a}}&start={start.isoformat().replace('+00:00', 'Z')}&end={(start + timedelta(seconds=3)).isoformat().replace('+00:00', 'Z')}"
    channel = MediaChannel.objects.create(camera=assigned)
    node = MediaNode.objects.create(name="matrix-node")
    at = (start + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    window = f"start={at}&end={(start + timedelta(minutes=1)).isoformat().replace('+00:00', 'Z')}"
    return {
        "window": window,
        "at": at,
        "vod": playback.signed_token(camera_id=assigned.id, user=viewer, start=start),
        "vod_unassigned": playback.signed_token(camera_id=unassigned.id, user=viewer, start=start),
        "vod_segment": f"{segments['rec'].id}_0_0.ts",
        "vod_segment_unassigned": f"{segments['rec_unassigned'].id}_0_0.ts",
        "assigned": assigned,
        "unassigned": unassigned,
        "assigned_pk": assigned.pk,
        "unassigned_pk": unassigned.pk,
        "users": users,
        "token": token,
        "export": export,
        "segment": segments["rec"].id,
        "channel": channel.id,
        "node": node.id,
        **recs,
    }


# (method, path template, body, expected for anonymous, viewer, user, admin)
MATRIX = [
    ("get", "/api/cameras/stream/{a}", None, (401, 200, 200, 200)),
    ("get", "/api/cameras/stream/{u}", None, (401, 404, 404, 200)),
    ("delete", "/api/cameras/stream/{a}", None, (401, 200, 200, 200)),
    ("delete", "/api/cameras/stream/{u}", None, (401, 404, 404, 200)),
    ("post", "/api/cameras/streams/batch", {"ips": ["{a}"]}, (401, 200, 200, 200)),
    ("get", "/api/cameras/streams/{a}/index.m3u8", None, (401, 200, 200, 200)),
    ("get", "/api/cameras/streams/{u}/index.m3u8", None, (401, 404, 404, 200)),
    ("get", "/api/cameras/streams/{a}/s1.m4s", None, (401, 200, 200, 200)),
    ("get", "/api/cameras/streams/{u}/s1.m4s", None, (401, 404, 404, 200)),
    ("get", "/api/cameras/streams/{token}/index.m3u8", None, (200, 200, 200, 200)),
    ("post", "/api/nvr/record/{a}", {"duration": 60}, (401, 403, 201, 201)),
    ("post", "/api/nvr/record/{u}", {"duration": 60}, (401, 403, 404, 201)),
    ("post", "/api/nvr/records/batch", {"ips": ["{a}"], "duration": 60}, (401, 403, 200, 200)),
    ("delete", "/api/nvr/record/{a}", None, (401, 403, 404, 200)),
    ("get", "/api/nvr/recordings", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/recordings/{rec}/download", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/recordings/{rec_unassigned}/download", None, (401, 404, 404, 200)),
    ("delete", "/api/nvr/recordings/{rec}", None, (401, 403, 403, 200)),
    ("delete", "/api/nvr/recordings/{rec_unassigned}", None, (401, 403, 404, 200)),
    ("get", "/api/nvr/status/{a}", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/status/{u}", None, (401, 404, 404, 200)),
    ("get", "/api/nvr/continuous/{a}", None, (401, 200, 200, 200)),
    ("put", "/api/nvr/continuous/{a}", {"continuous": True, "retention_days": 3}, (401, 403, 403, 200)),
    ("get", "/api/nvr/export?{export}", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/timeline/{a}?{window}", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/timeline/{u}?{window}", None, (401, 404, 404, 200)),
    ("get", "/api/nvr/timeline/?cameras={a}&{window}", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/timeline/?cameras={a},{u}&{window}", None, (401, 400, 400, 200)),
    ("get", "/api/nvr/playback/{a}?start={at}", None, (401, 200, 200, 200)),
    ("get", "/api/nvr/playback/{u}?start={at}", None, (401, 404, 404, 200)),
    # Playback files: the signed token is the credential (a viewer's here), refused on a camera it
    # may not see, whoever presents it.
    ("get", "/api/nvr/vod/{vod}/index.m3u8", None, (200, 200, 200, 200)),
    ("get", "/api/nvr/vod/{vod}/{vod_segment}", None, (200, 200, 200, 200)),
    ("get", "/api/nvr/vod/{vod_unassigned}/index.m3u8", None, (403, 403, 403, 403)),
    ("get", "/api/nvr/vod/{vod_unassigned}/{vod_segment_unassigned}", None, (403, 403, 403, 403)),
    ("get", "/api/nvr/vod/not-a-token/index.m3u8", None, (403, 403, 403, 403)),
    # The admin site: the Live view and the Player for every role (each filtered to its cameras) ...
    ("get", "/admin/recordings/recording/live/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/recordings/recording/player/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/recordings/recording/timeline/", None, (LOGIN, 200, 200, 200)),
    # Record / stop from the live grid: users and admins on their cameras (the API's rule), never viewers.
    ("post", "/admin/recordings/recording/live/{assigned_pk}/record/", {"action": "stop"}, (LOGIN, 403, 302, 302)),
    ("post", "/admin/recordings/recording/live/{unassigned_pk}/record/", {"action": "stop"}, (LOGIN, 403, 404, 302)),
    ("post", "/admin/recordings/recording/live/{assigned_pk}/record/", {"action": "x"}, (LOGIN, 403, 400, 400)),
    ("get", "/admin/recordings/recording/live/{assigned_pk}/record/", None, (LOGIN, 405, 405, 405)),
    # ... and nothing else.
    ("get", "/admin/recordings/", None, (LOGIN, 404, 404, 200)),
    # Rows the system writes: no add form; segments and media channels are never deleted here.
    *model_admin("recordings/recording", "rec", add=403),
    *model_admin("recordings/segment", "segment", add=403, delete=403),
    *model_admin("recordings/mediachannel", "channel", add=403, delete=403),
    *model_admin("recordings/medianode", "node", add=403),  # nodes write their own rows; a gone one may be deleted
]


@pytest.mark.django_db
@matrix.parametrize(MATRIX)
def test_matrix(world, role, method, path, body, expected):
    names = {
        "a": world["assigned"].address,
        "u": world["unassigned"].address,
        "rec": world["rec"].id,
        "rec_unassigned": world["rec_unassigned"].id,
        "token": world["token"],
        "segment": world["segment"],
        "channel": world["channel"],
        "node": world["node"],
    }
    names.update({k: world[k] for k in ("window", "at", "vod", "vod_unassigned", "vod_segment",
                                        "vod_segment_unassigned", "assigned_pk", "unassigned_pk")})  # fmt: skip
    names["export"] = world["export"].format(**names)
    matrix.check(role, world["users"], method, path, body, expected, names)
