"""Bad input is a 4xx naming what is wrong, never a 500: the cases schemathesis found (issue 10)."""

from __future__ import annotations

import pytest

from lprnvr.api import MAX_ID
from plates.tests.factories import PlateFactory

TOO_BIG = str(2**87)  # past 64 bits: SQLite raises OverflowError on it


@pytest.fixture
def admin_api(as_user, admin_user):
    return as_user(admin_user)


@pytest.mark.parametrize("body", ["false", "true", "null", "1", '"x"', "[]", '[{"number": "A"}]'])
def test_a_json_body_that_is_not_an_object_is_a_400(admin_api, body):
    plate = PlateFactory()
    for method, url in (
        ("patch", f"/api/plates/{plate.pk}/"),
        ("post", "/api/plates/"),
        ("post", "/api/plates/push/"),
        ("post", "/api/cameras/discovery/adopt"),
        ("post", "/api/auth/login"),
    ):
        response = getattr(admin_api, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (method, url, body, response.content)
        assert "must be an object" in response.json()["error"]


@pytest.mark.parametrize("url", ["/api/plates/jobs/", "/api/plates/"])
@pytest.mark.parametrize("value", [TOO_BIG, str(MAX_ID + 1), "²", "0", "-1", "x"])
def test_a_camera_filter_that_is_not_an_id_is_a_400_naming_it(admin_api, url, value):
    response = admin_api.get(url, {"camera": value})
    assert response.status_code == 400, response.content
    assert "camera" in response.json()["fields"]


def test_a_camera_filter_at_the_largest_id_finds_nothing(admin_api):
    assert admin_api.get("/api/plates/jobs/", {"camera": str(MAX_ID)}).json() == []


def test_adopt_with_ids_past_64_bits_is_a_400_naming_the_field(admin_api):
    response = admin_api.post("/api/cameras/discovery/adopt", {"streams": [1, int(TOO_BIG)]}, format="json")
    assert response.status_code == 400
    assert "streams" in response.json()["fields"]


@pytest.mark.parametrize("ref", ["²", "¹²", "127.0.0.1:²", "127.0.0.1:80:³", TOO_BIG, f"127.0.0.1:{TOO_BIG}"])
def test_camera_refs_with_odd_digits_are_unknown_cameras(admin_api, camera, ref):
    response = admin_api.post("/api/plates/push/", {"plates": ["ABC123"], "cameras": [ref]}, format="json")
    assert response.status_code == 400, response.content
    assert "cameras" in response.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/plates/?list_type=zzz", "list_type"), ("/api/plates/jobs/?status=zzz", "status"),
     ("/api/plates/jobs/?operation=yyy", "operation")],
)  # fmt: skip
def test_an_unknown_filter_value_is_a_400_naming_it(as_user, admin_user, path, name):
    response = as_user(admin_user).get(path)
    assert response.status_code == 400 and name in response.json()["fields"], response.json()
    assert (
        as_user(admin_user).get(path.split("=")[0] + "=" + ("allow" if name == "list_type" else "")).status_code == 200
    )


def test_a_new_list_takes_its_schedule_or_names_it(admin_api):
    made = admin_api.post("/api/plates/lists/", {"name": "Contractors", "kind": "allow", "schedule": ""}, format="json")
    assert made.status_code in (201, 400), made.content
    made = admin_api.post("/api/plates/lists/", {"name": "Residents"}, format="json")  # the kind's default
    assert made.status_code == 201 and made.json()["kind"] == "allow", made.content
    weekly = [{"days": "mon-fri", "start": "07:00", "end": "19:00"}]
    made = admin_api.post("/api/plates/lists/", {"name": "Staff", "kind": "allow", "schedule": weekly}, format="json")
    assert made.status_code == 201 and made.json()["schedule"][0]["days"] == [0, 1, 2, 3, 4]


def test_gate_lanes_with_ids_past_64_bits_are_a_400_naming_the_field(admin_api):
    site = admin_api.post("/api/plates/sites/", {"name": "HQ", "time_zone": "Europe/Madrid"}, format="json").json()
    gate = admin_api.post("/api/plates/gates/", {"name": "North", "site": site["id"]}, format="json").json()
    for lanes in ([{"camera": int(TOO_BIG)}], [{"camera": 14160517320073877504}], [{"camera": 0}]):
        response = admin_api.patch(f"/api/plates/gates/{gate['id']}/", {"lanes": lanes}, format="json")
        assert response.status_code == 400 and "lanes" in response.json()["fields"], response.content
