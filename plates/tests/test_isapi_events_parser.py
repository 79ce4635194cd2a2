"""The alertStream / push / backfill parser (`plates/clients/isapi_events.py`): framing edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cameras.tests.doubles.hikvision import HikvisionCamera, fake_jpeg
from plates.clients import isapi_events as ev

CAM = HikvisionCamera("A")


def read(plate="AB123CD", pictures=None, **kw):
    base = {
        "plate": plate, "list_type": "allowList", "uuid": "u-1", "direction": "forward", "confidence": 91,
        "lane": 2, "time": datetime(2026, 12, 1, 15, 30, 5, tzinfo=timezone(timedelta(hours=1))),
        "active_post_count": 1, "pic_name": "p1",
        "pictures": pictures if pictures is not None else {"licensePlatePicture.jpg": fake_jpeg("a", 900),
                                                           "detectionPicture.jpg": fake_jpeg("b", 3000)},
    }  # fmt: skip
    return {**base, **kw}


def events(data: bytes, *, chunk: int | None = None, max_part=ev.MAX_PART_BYTES):
    reader, asm, out = ev.MultipartReader("boundary", max_part=max_part), ev.AlertAssembler(), []
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    for piece in pieces:
        for item in reader.feed(piece):
            out.extend(asm.feed(item))
    for item in reader.close():
        out.extend(asm.feed(item))
    out.extend(asm.flush())
    return out


def test_boundary_from_the_header():
    assert ev.boundary_from("multipart/mixed; boundary=boundary") == "boundary"
    assert ev.boundary_from('multipart/form-data; boundary="---abc"') == "---abc"
    with pytest.raises(ev.MalformedStream):
        ev.boundary_from("application/xml")


@pytest.mark.parametrize("chunk", [None, 1, 7, 100, 4096])
def test_anpr_alert_with_its_pictures_and_heartbeats_any_chunking(chunk):
    r = read()
    data = (
        CAM.part(CAM.heartbeat_xml(), "application/xml")
        + CAM.stream_parts(r)
        + CAM.part(CAM.heartbeat_xml(), "application/xml")
    )
    out = events(data, chunk=chunk)
    kinds = [type(e).__name__ for e in out]
    assert kinds == ["Heartbeat", "Read", "Heartbeat"]
    got = out[1]
    assert got.pictures == r["pictures"]
    a = got.alert
    assert (a.event_type, a.plate, a.original_plate, a.uuid, a.confidence, a.direction, a.lane, a.list_type) == (
        "ANPR", "AB123CD", "AB123CD", "u-1", 91, "forward", 2, "allowList")  # fmt: skip
    assert a.camera_time == r["time"] and a.camera_time.utcoffset() == timedelta(hours=1)
    assert a.channel == 1 and a.active_post_count == 1
    assert a.vehicle["type"] == "vehicle" and a.vehicle["color"] == "white" and a.vehicle["brand"] == "1036"
    assert out[0].alert.active_post_count == 0 and out[0].alert.is_heartbeat


def test_read_completes_as_soon_as_its_pictures_arrived():
    reader, asm = ev.MultipartReader("boundary"), ev.AlertAssembler()
    out = []
    for item in reader.feed(CAM.stream_parts(read())):
        out.extend(asm.feed(item))
    assert [type(e).__name__ for e in out] == ["Read"]  # no need to wait for the next part


def test_lf_framing_no_content_length_and_junk():
    r = read(pictures={"licensePlatePicture.jpg": fake_jpeg("z", 500)})
    xml = CAM.anpr_xml(r).replace(b"<picNum>1</picNum>", b"")
    data = (
        b"preamble junk\r\n\r\n--boundary\nContent-Type: application/xml\n\n" + xml + b"\n"
        b"garbage between parts\n"
        b"--boundary\nContent-Type: image/jpeg\nContent-Disposition: form-data; name=\"licensePlatePicture.jpg\"\n\n"
        + r["pictures"]["licensePlatePicture.jpg"] + b"\n--boundary\nContent-Type: application/xml\n\n"
        + CAM.heartbeat_xml() + b"\n--boundary--\n"
    )  # fmt: skip
    out = events(data, chunk=13)
    assert [type(e).__name__ for e in out] == ["Read", "Heartbeat"]
    assert out[0].pictures == r["pictures"]


def test_a_lying_content_length_resynchronises_on_the_boundary():
    xml = CAM.anpr_xml(read(pictures={}))
    data = (
        f"--boundary\r\nContent-Type: application/xml\r\nContent-Length: {len(xml) + 5000}\r\n\r\n".encode()
        + xml + b"\r\n" + CAM.stream_parts(read("ZZ999", uuid="u-2"))
    )  # fmt: skip
    out = events(data, chunk=50)
    assert [e.alert.plate for e in out if isinstance(e, ev.Read)] == ["AB123CD", "ZZ999"]


def test_malformed_and_truncated_parts_are_rejected_and_the_next_read_survives():
    broken = CAM.anpr_xml(read())[:300]
    data = (
        CAM.part(broken, "application/xml") + CAM.part(b"<notAnAlert/>", "application/xml")
        + CAM.part(b'{"eventType": ', "application/json") + CAM.stream_parts(read("OK1", uuid="u-3"))
        + CAM.stream_parts(read("CUT1", uuid="u-4"))[:500]
    )  # fmt: skip
    out = events(data, chunk=64)
    reasons = [e.reason for e in out if isinstance(e, ev.Rejected)]
    assert reasons == ["malformed_xml", "not_an_alert", "malformed_json", "truncated"]
    reads = [e for e in out if isinstance(e, ev.Read)]
    assert [r.alert.plate for r in reads] == ["OK1"]  # CUT1's alert part was cut: never half-stored
    assert len(reads[0].pictures) == 2


def test_oversize_picture_is_dropped_without_losing_the_alert():
    big = fake_jpeg("big", 50_000)
    out = events(CAM.stream_parts(read(pictures={"detectionPicture.jpg": big})), chunk=1000, max_part=20_000)
    assert [type(e).__name__ for e in out] == ["Rejected", "Read"]
    assert out[0].reason == "oversize" and out[1].pictures == {}


def test_json_alert_parts():
    out = events(CAM.stream_parts(read("JS123"), fmt="json"))
    (got,) = out
    assert got.alert.plate == "JS123" and got.alert.uuid == "u-1" and got.alert.list_type == "allowList"
    assert len(got.pictures) == 2


def test_un_namespaced_xml():
    alert = ev.parse_alert(CAM.anpr_xml(read(), namespace=False))
    assert alert.plate == "AB123CD" and alert.event_type == "ANPR"


def test_orphan_picture_is_rejected():
    out = events(CAM.part(fake_jpeg("x", 100), "image/jpeg", "detectionPicture.jpg"))
    assert [e.reason for e in out] == ["orphan_picture"]


def test_listening_mode_form_with_upper_case_name():
    r = read()
    boundary = "----x"
    body = b""
    for name, data, ctype in [("ANPR.xml", CAM.anpr_xml(r), "text/xml")] + [
        (n, d, "image/jpeg") for n, d in r["pictures"].items()
    ]:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    got = ev.read_form(body, f"multipart/form-data; boundary={boundary}")
    assert got.alert.plate == "AB123CD" and got.pictures == r["pictures"]
    with pytest.raises(ev.MalformedAlert):
        ev.read_form(
            b"--x\r\nContent-Type: text/xml\r\n\r\n<EventNotificationAlert>\r\n--x--", "multipart/form-data; boundary=x"
        )


def test_times():
    plus1 = timezone(timedelta(hours=1))
    assert ev.parse_time("2026-12-01T15:30:05Z") == datetime(2026, 12, 1, 15, 30, 5, tzinfo=UTC)
    assert ev.parse_time("2026-12-01T15:30:05+01:00").utcoffset() == timedelta(hours=1)
    assert ev.parse_time("20261201T153005+0100") == datetime(2026, 12, 1, 15, 30, 5, tzinfo=plus1)
    assert ev.parse_time("20261201153005250", plus1) == datetime(2026, 12, 1, 15, 30, 5, 250000, tzinfo=plus1)
    assert ev.parse_time("2026-12-01T15:30:05") is None  # no zone, none known: unknown
    assert ev.format_pic_time(datetime(2026, 12, 1, 15, 30, 5, tzinfo=plus1)) == "20261201T153005+0100"


def test_backfill_answer():
    cam = HikvisionCamera("A")
    first = cam.emit_read("OLD1", stream=False, push=False, when=datetime(2026, 12, 1, 10, 0, 0, tzinfo=cam.tz))
    cam.emit_read("NEW1", stream=False, push=False, when=datetime(2026, 12, 1, 10, 5, 0, tzinfo=cam.tz))
    answer = cam.backfill_xml(ev.backfill_request(first["time"]).encode())
    alerts = ev.parse_backfill(answer, tz=ev.offset_of(first["time"]))
    assert [(a.plate, a.camera_time) for a in alerts] == [("NEW1", datetime(2026, 12, 1, 10, 5, tzinfo=cam.tz))]
    with pytest.raises(ev.MalformedAlert):
        ev.parse_backfill(b"<Plates><Plate>")
