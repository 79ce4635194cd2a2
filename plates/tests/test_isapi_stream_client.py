"""The one ISAPI client's streaming GET against the Hikvision double's alertStream (real HTTP)."""

from __future__ import annotations

import threading
import time

import pytest

from cameras.clients import isapi
from cameras.tests.doubles.hikvision import HikvisionCamera
from plates.clients import isapi_events as ev

PATH = "/ISAPI/Event/notification/alertStream"


@pytest.fixture
def cam():
    with HikvisionCamera("A", heartbeat_seconds=0.2) as cam:
        yield cam


def client(cam, password=None):
    return isapi.ISAPIClient(cam.host, port=cam.port, username=cam.username, password=password or cam.password)


def first_events(stream, n, *, on_heartbeat=None):
    reader = ev.MultipartReader(ev.boundary_from(stream.content_type))
    asm, out = ev.AlertAssembler(), []
    for chunk in stream.chunks():
        for part in reader.feed(chunk):
            for item in asm.feed(part):
                out.append(item)
                if isinstance(item, ev.Heartbeat) and on_heartbeat:
                    on_heartbeat()
                    on_heartbeat = None
        if len(out) >= n:
            return out
    return out


def test_stream_carries_heartbeats_and_an_emitted_read(cam):
    with client(cam) as c, c.open_stream(PATH, read_timeout=5) as stream:
        assert stream.content_type.startswith("multipart/mixed")
        out = first_events(stream, 3, on_heartbeat=lambda: cam.emit_read("AB123", uuid="u1"))
    reads = [e for e in out if isinstance(e, ev.Read)]
    assert reads[0].alert.plate == "AB123" and set(reads[0].pictures) == {
        "licensePlatePicture.jpg",
        "detectionPicture.jpg",
    }
    assert cam.stream_connections == 1


def test_wrong_password_one_refusal_and_never_again(cam):
    c = client(cam, password="wrong")
    with pytest.raises(isapi.BadCredentials):
        c.open_stream(PATH, read_timeout=5)
    with pytest.raises(isapi.BadCredentials):
        c.open_stream(PATH, read_timeout=5)
    assert cam.stream_requests == 2 and cam.failed_logins == 1  # the challenge, then one refused login


def test_silence_raises_timeout(cam):
    with client(cam) as c, c.open_stream(PATH, read_timeout=0.8) as stream:
        cam.silence_streams()
        started = time.monotonic()
        with pytest.raises(isapi.DeviceTimeout):
            for _ in stream.chunks():
                pass
        assert time.monotonic() - started < 3


def test_cut_stream_ends(cam):
    with client(cam) as c, c.open_stream(PATH, read_timeout=5) as stream:
        cam.cut_streams()
        threading.Timer(0.1, lambda: cam.emit_read("CUT1")).start()
        reader = ev.MultipartReader("boundary")
        rejected = []
        try:
            for chunk in stream.chunks():
                rejected += [p for p in reader.feed(chunk) if isinstance(p, ev.Rejected)]
        except isapi.DeviceUnreachable:
            pass
        rejected += reader.close()
    assert [r.reason for r in rejected if isinstance(r, ev.Rejected)] == ["truncated"]


def test_a_401_on_the_stream_itself_is_bad_credentials(cam):
    cam.inject("401", path="alertStream")  # the digest was right, the camera refuses anyway
    c = client(cam)
    with pytest.raises(isapi.BadCredentials):
        c.open_stream(PATH, read_timeout=5)
    assert c.auth_failure is not None and cam.stream_requests == 2
