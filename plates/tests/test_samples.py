"""The client against the recorded device samples of the research report (copied in samples/)."""

import json
from pathlib import Path

import pytest

from plates.clients import isapi
from plates.tests.camera_double import HTML_401, CameraDouble

SAMPLES = Path(__file__).parent / "samples"


def body_of(name: str) -> bytes:
    data = (SAMPLES / name).read_bytes()
    if name.endswith(".http"):
        sep = b"\r\n\r\n" if b"\r\n\r\n" in data else b"\n\n"
        return data.split(sep, 1)[1]
    return data


@pytest.mark.parametrize(
    ("name", "http_status", "error"),
    [
        ("responsestatus_json_badAuthorization_accesscontrol.json", 200, isapi.BadCredentials),
        ("responsestatus_json_badParameters_DS-TCG406-E_V5.5.0_http400.json", 400, isapi.BadParameters),
        ("responsestatus_json_notSupport_http403_isapi_guide.http", 403, isapi.NotSupported),
        ("responsestatus_xml_badXmlContent_hikvision_next.xml", 200, isapi.BadParameters),
    ],
)
def test_recorded_error_bodies_become_typed_errors(name, http_status, error):
    status = isapi.parse_response_status(body_of(name))
    err = isapi.error_from_status(status, http_status)
    assert type(err) is error
    assert not err.transient
    assert err.sub_status_code == status["subStatusCode"]


def test_recorded_ok_body():
    assert isapi.parse_response_status(body_of("responsestatus_json_ok_lp_audit.json"))["statusCode"] == 1


def test_recorded_bad_parameters_keeps_the_firmware_code():
    err = isapi.error_from_status(
        isapi.parse_response_status(body_of("responsestatus_json_badParameters_DS-TCG406-E_V5.5.0_http400.json")), 400
    )
    assert "0x38410029" in str(err)


def test_recorded_empty_search_result():
    page = isapi.parse_search_result(body_of("lp_search_result_empty_NO_MATCHES_transcribed.xml"))
    assert page.records == [] and page.total_matches == 0 and page.status == "NO MATCHES"


def test_recorded_401_page_is_what_the_double_sends():
    body = body_of("http_401_digest_challenge_DS-2CD2155FWD-I_V5.5.0.http")
    assert body == HTML_401
    assert isapi.parse_user_check(body) == {}


def test_recorded_device_info_parses_without_namespace_knowledge():
    root = isapi._xml(body_of("deviceinfo_DS-2CD2155FWD-I_V5.5.0.xml"))
    values = {isapi._local(c.tag): c.text for c in root}
    assert values["model"] == "DS-2CD2155FWD-I" and values["firmwareVersion"] == "V5.5.0"


def requests_sample(name: str) -> dict:
    return json.loads((SAMPLES / "requests" / name).read_text())


@pytest.mark.parametrize(
    ("family", "sample"),
    [("A", "add_record_json_original_subir_matricula.json"), ("B", "add_record_json_webui_fieldset_tcg_v5.5.json")],
)
def test_add_bodies_have_the_recorded_shape(family, sample):
    client = isapi.ISAPIClient("127.0.0.1", port=9, family=family)
    ours = client._record(isapi.PlateSpec("CA9999XX"))
    recorded = requests_sample(sample)["LicensePlateInfoList"][0]
    assert set(ours) == set(recorded)
    assert ours["listType"] == recorded["listType"]
    assert ours["id"] == recorded["id"] if family == "B" else ours["id"] == ""


@pytest.mark.parametrize(
    ("family", "sample"),
    [("A", "delete_by_id_json_with_flag.json"), ("B", "delete_by_plate_compoundcond_json_tcg.json")],
)
def test_delete_bodies_have_the_recorded_shape(family, sample):
    with CameraDouble(family) as cam:
        rec = cam.seed("CA9999XX")
        if family == "A":
            cam.records[0].id = "2"
            rec = cam.records[0]
        client = isapi.ISAPIClient("127.0.0.1", port=cam.port, username="admin", password="cam-secret-1", family=family)
        client.delete_records([isapi.PlateRecord(rec.id, rec.plate, isapi.ALLOW)])
        (_, _, body) = cam.requests_to("DelLicensePlateAuditData")[0]
        assert json.loads(body) == requests_sample(sample)


def test_search_body_has_the_recorded_tags():
    recorded = isapi._xml((SAMPLES / "requests" / "search_by_plate_xml_original_obtener_id_matricula.xml").read_bytes())
    with CameraDouble("A") as cam:
        client = isapi.ISAPIClient("127.0.0.1", port=cam.port, username="admin", password="cam-secret-1")
        client.find("ABB138")
        ours = isapi._xml(cam.requests_to("searchLPListAudit")[0][2])
    assert [c.tag for c in ours] == [c.tag for c in recorded]
    assert ours.find("LicensePlate").text == "ABB138"
