"""The real `manage.py run_events` process against the Hikvision double over real HTTP: arming and
listening modes, reconnection after a cut or a silent stream, backfill, duplicates, bad input, 401."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from cameras.tests.doubles.hikvision import HikvisionCamera
from cameras.tests.factories import CameraFactory
from plates.clients.isapi_events import Alert
from plates.events import sources
from plates.models import AnprCamera, AnprEventSource, EventMode, EventState, PlateRead, RefusedPush
from plates.services.reads import ingest_read
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cam():
    with HikvisionCamera("A", heartbeat_seconds=0.3) as cam:
        yield cam


def armed(cam: HikvisionCamera, mode: str = EventMode.ARMING):
    camera = CameraFactory(
        ip=cam.host, http_port=cam.port, username=cam.username, password=cam.password, brand="hikvision"
    )
    source = AnprEventSource.objects.create(camera=camera, mode=mode)
    return camera, source


def state(camera) -> AnprEventSource:
    return AnprEventSource.objects.get(camera=camera)


def reads(camera, number: str | None = None):
    qs = PlateRead.objects.filter(camera=camera)
    return qs.filter(number=number) if number else qs


def connected(camera, cam, n: int = 1):
    wait_for(lambda: cam.stream_connections >= n and len(cam.streams) >= 1, message=f"{n} stream connection(s)")
    wait_for(lambda: state(camera).state == EventState.CONNECTED, message="state connected")


def test_arming_stores_each_read_once_with_its_pictures(listener, cam):
    camera, _ = armed(cam)
    connected(camera, cam)
    read = cam.emit_read("AB123CD", list_type="allowList")
    cam.emit_read("AB123CD", uuid=read["uuid"], active_post_count=2)  # the camera uploads it again
    wait_for(lambda: reads(camera).exists(), message="the read stored")
    wait_for(lambda: state(camera).reads_received >= 2, message="both uploads counted")
    (row,) = reads(camera)
    assert (row.number, row.uuid, row.source, row.camera_list_type) == ("AB123CD", read["uuid"], "stream", "allowList")
    assert row.camera_time == read["time"] and row.camera_utc_offset == 60
    assert row.plate_picture and row.scene_picture and row.picture_bytes > 0
    wait_for(lambda: state(camera).last_heartbeat_at is not None, message="a heartbeat seen")
    json_read = cam.emit_read("JS0001", fmt="json")
    wait_for(lambda: reads(camera, "JS0001").exists(), message="the JSON alert stored")
    assert reads(camera, "JS0001").get().uuid == json_read["uuid"]


def test_listening_mode_and_stream_plus_push_collapse(listener, cam, live_server, settings):
    settings.EVENTS_PUSH_MAX_BYTES = 1024**2
    camera, source = armed(cam)
    secret = sources.rotate_secret(source=source)
    cam.http_hosts[0].update(ipAddress="10.9.9.9", portNo="8080", url="/nvr")  # another system's slot
    slot = sources.configure_http_host(
        camera=camera, url=live_server.url + sources.push_path(camera_id=camera.pk, secret=secret)
    )
    assert slot == "2" and cam.http_hosts[0]["ipAddress"] == "10.9.9.9"  # never overwritten
    connected(camera, cam)
    read = cam.emit_read("PUSH01")
    assert cam.pushes[-1][1] == 200
    wait_for(lambda: state(camera).reads_received >= 2, message="stream and push both received")
    (row,) = reads(camera)
    assert row.uuid == read["uuid"] and row.plate_picture and row.scene_picture

    # Listening only: the camera pushes, nothing holds its stream.
    AnprEventSource.objects.filter(pk=source.pk).update(mode=EventMode.LISTENING)
    wait_for(lambda: not cam.streams, message="the stream released")
    cam.emit_read("PUSH02", pictures={"licensePlatePicture.jpg": b"\xff\xd8plate\xff\xd9"})
    row = wait_for(lambda: reads(camera, "PUSH02").first(), message="the pushed read")
    assert row.source == "push" and row.plate_picture
    assert state(camera).state == EventState.LISTENING

    # Refusals: counted by reason, logged without the secret.
    url = live_server.url + sources.push_path(camera_id=camera.pk, secret="wrong-secret")
    answer = requests.post(url, data=b"x", headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=5)
    assert answer.status_code == 403 and "secret" in answer.json()
    unknown = live_server.url + sources.push_path(camera_id=999999, secret=secret)
    assert requests.post(unknown, data=b"x", timeout=5).status_code == 403
    refused = RefusedPush.objects.get(reason="unknown_camera")  # no camera to count it on: counted apart
    assert (refused.count, refused.last_camera_id, refused.last_address) == (1, 999999, "127.0.0.1")
    good = live_server.url + sources.push_path(camera_id=camera.pk, secret=secret)
    bad = requests.post(
        good, data=b"--x\r\n\r\n<Event", headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=5
    )
    assert bad.status_code == 400 and "body" in bad.json()
    huge = requests.post(
        good, data=b"x" * (2 * 1024**2), headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=10
    )
    assert huge.status_code == 413
    rejected = state(camera).rejected
    assert rejected["wrong_secret"] == 1 and rejected["oversize"] == 1 and sum(rejected.values()) == 3

    # Every slot held elsewhere: nothing changes.
    for slot in cam.http_hosts:
        slot.update(ipAddress="10.9.9.9")
    with pytest.raises(sources.SlotsTaken):
        sources.configure_http_host(camera=camera, url="http://127.0.0.1:1/api/plates/events/push/1/x/")
    assert all(s["ipAddress"] == "10.9.9.9" for s in cam.http_hosts)


def test_cut_stream_reconnects_and_the_backfill_recovers_the_cut_read(listener, cam):
    camera, _ = armed(cam)
    connected(camera, cam)
    first = cam.emit_read("FIRST1")
    wait_for(lambda: reads(camera, "FIRST1").exists(), message="the first read")
    cam.cut_streams()
    cam.emit_read("CUT001", when=first["time"])  # same second; cut mid-part: lost on the stream
    connected(camera, cam, 2)
    wait_for(lambda: reads(camera, "CUT001").exists(), message="the cut read, from the backfill")
    assert reads(camera, "CUT001").get().source == "backfill"
    cam.emit_read("AFTER1")
    wait_for(lambda: reads(camera, "AFTER1").exists(), message="a read after the reconnection")
    wait_for(lambda: state(camera).reconnects >= 1, message="the reconnection counted")
    assert reads(camera).count() == 3 and reads(camera, "FIRST1").count() == 1  # backfill overlap collapsed


def test_backfill_fills_an_outage(listener, cam):
    camera, _ = armed(cam)
    connected(camera, cam)
    cam.emit_read("BEFORE1")
    wait_for(lambda: reads(camera, "BEFORE1").exists(), message="a read before the outage")
    cam.stop()
    time.sleep(1.1)
    missed = [cam.emit_read(f"OUT{n:03d}", stream=False, push=False)["plate"] for n in range(3)]
    cam.start()
    wait_for(lambda: reads(camera).count() == 4, timeout=20, message="the outage backfilled")
    assert sorted(reads(camera).filter(source="backfill").values_list("number", flat=True)) == missed


def test_listening_mode_backfills_what_the_camera_could_not_post(listener, cam):
    camera, _ = armed(cam, mode=EventMode.LISTENING)
    wait_for(lambda: state(camera).state == EventState.LISTENING, message="listening")
    # A read that reached us, then three the camera could not post (our door was down).
    first = cam.emit_read("POSTED1", stream=False, push=False)
    alert = Alert(event_type="ANPR", camera_time=first["time"], uuid=first["uuid"], plate="POSTED1")
    ingest_read(camera=camera, alert=alert, pictures={}, source="push")
    time.sleep(1.1)
    missed = [cam.emit_read(f"LOST{n:02d}", stream=False, push=False)["plate"] for n in range(3)]
    wait_for(lambda: reads(camera).count() == 4, timeout=15, message="the lost pushes backfilled")
    assert sorted(reads(camera).filter(source="backfill").values_list("number", flat=True)) == missed
    assert not cam.streams  # listening: nothing holds its stream
    assert state(camera).backfill_supported is True


def test_silent_stream_is_restarted(listener, cam):
    camera, _ = armed(cam)
    connected(camera, cam)
    cam.silence_streams()
    wait_for(lambda: cam.stream_connections >= 2, timeout=10, message="a new stream after the silence")
    connected(camera, cam, 2)
    cam.emit_read("LOUD01")
    wait_for(lambda: reads(camera, "LOUD01").exists(), message="a read on the new stream")
    assert "the stream went silent" in listener.log() or "no heartbeat" in listener.log()


def test_malformed_input_is_counted_and_survived(listener, cam):
    camera, _ = armed(cam)
    connected(camera, cam)
    cam.emit_read("GOOD01")
    cam.emit_malformed()
    cam.send_to_streams(b"\r\nsome junk between parts\r\n")
    cam.send_to_streams(cam.part(b"\xff\xd8orphan\xff\xd9", "image/jpeg", "detectionPicture.jpg"))
    cam.emit_read("GOOD02")
    wait_for(lambda: reads(camera, "GOOD02").exists(), message="the read after the bad parts")
    wait_for(lambda: sum(state(camera).rejected.values()) >= 2, message="the rejections counted")
    rejected = state(camera).rejected
    assert rejected.get("malformed_xml") == 1 and rejected.get("orphan_picture") == 1
    assert reads(camera).count() == 2 and cam.stream_connections == 1


def test_refused_credentials_stop_retrying_until_they_change(listener, cam):
    camera, _ = armed(cam)
    cam.password = "changed-on-the-camera"  # before the listener's first pass (0.3 s)
    wait_for(lambda: state(camera).state == EventState.AUTH_FAILED, message="auth failed")
    requests_then = cam.stream_requests
    assert requests_then == 2 and cam.failed_logins == 1  # the challenge, then one refused login
    assert AnprCamera.objects.get(camera=camera).auth_failed_at is not None
    time.sleep(2)
    assert cam.stream_requests == requests_then  # not retried
    camera.password = cam.password
    camera.save()
    connected(camera, cam)
    assert AnprCamera.objects.get(camera=camera).auth_failed_at is None


def test_make_run_starts_the_listener():
    from lprnvr.management.commands.runstack import stack_commands

    assert stack_commands(8000, 1)["events"][-1] == "run_events"
    compose = (ROOT / "docker-compose.yml").read_text()
    assert 'command: ["python", "manage.py", "run_events"]' in compose
