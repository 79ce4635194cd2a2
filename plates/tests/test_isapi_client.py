"""The ISAPI client against the camera double over real HTTP (no database)."""

import pytest

from plates.clients import isapi
from plates.tests.camera_double import CameraDouble


@pytest.fixture(params=["A", "B"])
def cam(request):
    with CameraDouble(request.param, max_page=7, hang_seconds=2) as cam:
        yield cam


def client(cam, password="cam-secret-1", **kw):  # noqa: S107
    return isapi.ISAPIClient(
        "127.0.0.1", port=cam.port, username="admin", password=password, timeouts=isapi.Timeouts(0.5, 0.5), **kw
    )


def test_family_detected_and_remembered(cam):
    c = client(cam)
    assert c.detect_family() == cam.family
    searches = len(cam.requests_to("searchLPListAudit"))
    assert c.detect_family() == cam.family
    assert len(cam.requests_to("searchLPListAudit")) == searches  # asked once


def test_digest_uri_includes_the_query(cam):
    c = client(cam)
    c.add([isapi.PlateSpec("ABC123")])
    _method, target, _ = cam.requests_to("licensePlateAuditData/record")[0]
    assert target.endswith("?format=json")  # the double only accepts a digest whose uri is the full target


def test_search_pages_until_total_and_matches_exactly(cam):
    for i in range(20):
        cam.seed(f"ABC1{i:02d}")
    cam.seed("ABC1")
    cam.seed("XABC1")
    c = client(cam)
    assert len(c.list_all()) == 22  # 4 pages of at most 7
    assert [r.plate for r in c.find("ABC1")] == ["ABC1"]


def test_write_shapes_per_family(cam):
    c = client(cam)
    c.add([isapi.PlateSpec("BLK1", isapi.BLOCK)])
    (rec,) = c.find("BLK1")
    assert rec.list_type == isapi.BLOCK
    assert rec.record_id == ("BLK1" if cam.family == "B" else "1")
    c.delete_records([rec])
    assert c.find("BLK1") == []


def test_duplicates_are_accepted_by_family_a_only():
    with CameraDouble("A") as cam:
        c = client(cam)
        c.add([isapi.PlateSpec("DUP1")])
        c.add([isapi.PlateSpec("DUP1")])
        assert cam.count("DUP1") == 2


def test_numeric_id_delete_is_a_silent_no_op_on_family_a():
    with CameraDouble("A") as cam:
        rec = cam.seed("NUM1")
        c = client(cam)
        c._expect_ok(c.request("PUT", c._path("DelLicensePlateAuditData?format=json"), json_body={"id": [int(rec.id)]}))
        assert cam.count("NUM1") == 1
        c.delete_records(c.find("NUM1"))  # ours sends strings
        assert cam.count("NUM1") == 0


def test_busy_5xx_timeout_and_offline_are_transient(cam):
    c = client(cam)
    cam.inject("busy")
    with pytest.raises(isapi.DeviceBusy):
        c.list_all()
    cam.inject("5xx")
    with pytest.raises(isapi.TransientError):
        c.list_all()
    cam.inject("timeout")
    with pytest.raises(isapi.DeviceTimeout):
        c.list_all()
    cam.stop()
    with pytest.raises(isapi.DeviceUnreachable):
        c.list_all()
    cam.start()
    assert c.list_all() == []


def test_bad_parameters_are_permanent_with_the_device_reason():
    with CameraDouble("B") as cam:
        c = client(cam, family="B")
        record = c._record(isapi.PlateSpec("CA9999XX"))
        record["cardNo"] = "123"
        with pytest.raises(isapi.BadParameters) as info:
            c.put_records([record])
        assert info.value.http_status == 400
        assert info.value.sub_status_code == "badParameters"
        assert not info.value.transient


def test_bad_credentials_never_retried_and_lockout_reported(cam):
    cam.max_failures = 2
    bad = client(cam, password="wrong")
    for _ in range(5):
        with pytest.raises(isapi.BadCredentials) as info:
            bad.list_all()
    assert cam.failed_logins == 1  # one refused login, then the client stops sending
    assert not info.value.locked
    with pytest.raises(isapi.DeviceLocked) as info:
        client(cam, password="wrong").list_all()
    assert info.value.locked and info.value.unlock_time == 210
    with pytest.raises(isapi.DeviceLocked):  # locked even with the right password
        client(cam).list_all()


def test_one_digest_handshake_per_connection(cam):
    c = client(cam)
    for _ in range(5):
        c.list_all()
    assert len(cam._nonces) == 1  # one challenge; later requests answer the same nonce (nc counting up)
    assert len(cam.requests_to("searchLPListAudit")) == 5


def test_a_nonce_the_camera_forgot_is_answered_once_with_the_new_challenge(cam):
    c = client(cam)
    c.list_all()
    cam._nonces.clear()  # the device expired its nonces: our next digest is refused with a new challenge
    assert c.list_all() == []
    assert len(cam._nonces) == 1 and cam.failed_logins == 0
    assert len(cam.requests_to("searchLPListAudit")) == 2


def test_export_is_the_device_bytes(cam):
    cam.seed("ABB138")
    data = client(cam).export_csv()
    assert data.startswith(b"\xef\xbb\xbfNo.,Plate No.,")
    assert b"\r\n1,ABB138,1," in data
    assert data == cam.export_csv()


@pytest.mark.parametrize(
    ("body", "code", "sub"),
    [
        (b'{"statusCode":1,"statusString":"OK"}', 1, ""),
        (b'{"ResponseStatus":{"statusCode":2,"subStatusCode":"deviceBusy"}}', 2, "deviceBusy"),
        (
            b'<?xml version="1.0"?><ResponseStatus xmlns="http://www.hikvision.com/ver20/XMLSchema">'
            b"<statusCode>6</statusCode><subStatusCode>badXmlContent</subStatusCode></ResponseStatus>",
            6,
            "badXmlContent",
        ),
    ],
)
def test_response_status_parsed_from_json_and_xml(body, code, sub):
    status = isapi.parse_response_status(body)
    assert int(status["statusCode"]) == code
    assert status.get("subStatusCode", "") == sub


def test_error_classification():
    assert isinstance(isapi.error_from_status({"statusCode": 2}, 200), isapi.TransientError)
    assert isinstance(
        isapi.error_from_status({"statusCode": 6, "subStatusCode": "badParameters"}, 400), isapi.BadParameters
    )
    assert isinstance(
        isapi.error_from_status({"statusCode": 4, "subStatusCode": "notSupport"}, 403), isapi.NotSupported
    )
    err = isapi.error_from_status({"statusCode": 4, "subStatusCode": "badAuthorization", "errorCode": 1073741827}, 200)
    assert isinstance(err, isapi.BadCredentials) and err.error_code == 0x40000003


def test_user_check_parsing():
    body = b"<userCheck><statusValue>401</statusValue><lockStatus>lock</lockStatus><unlockTime>210</unlockTime></userCheck>"
    assert isapi.parse_user_check(body) == {"lockStatus": "lock", "unlockTime": "210"}
    assert isapi.parse_user_check(b"<!DOCTYPE html><html><head><title>Document Error</title></head></html>") == {}
