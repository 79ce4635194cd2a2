"""The plate-read API: filters (fuzzy included), cursor pages, CSV, detail, pictures, clip errors, feed."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import datetime, timedelta

import pytest
import requests
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from conftest import client_for
from plates.clients.isapi_events import Alert
from plates.models import AnprCamera, CameraPlate, PlateRead
from plates.services.reads import ingest_read

from .factories import PlateFactory

JPEG = b"\xff\xd8\xff\xe0" + b"p" * 500 + b"\xff\xd9"


def read(camera, plate, *, uuid, list_type="", at=None, pictures=None, **kw) -> PlateRead:
    at = at or timezone.now()
    alert = Alert(event_type="ANPR", camera_time=at, uuid=uuid, plate=plate, list_type=list_type, **kw)
    return ingest_read(camera=camera, alert=alert, pictures=pictures or {}, source="stream")[0]


@pytest.fixture
def site(make_user):
    gate = CameraFactory(ip="127.0.0.91")
    other = CameraFactory(ip="127.0.0.92")
    viewer = make_user("viewer")
    viewer.cameras.add(gate)
    listed = PlateFactory(number="ABC123", list_type="allow")
    CameraPlate.objects.create(camera=gate, plate=listed)
    rows = {
        "abc": read(gate, "ABC123", uuid="1", list_type="allowList", direction="forward"),
        "a8c": read(gate, "A8C-I23", uuid="2", list_type="allowList", direction="reverse"),  # OCR slip: flagged
        "xyz": read(gate, "XYZ789", uuid="3", list_type="blackList", pictures={"licensePlatePicture.jpg": JPEG}),
        "abd": read(gate, "ABD555", uuid="4"),
        "hidden": read(other, "ABC123", uuid="5", pictures={"licensePlatePicture.jpg": JPEG}),
    }
    return {"gate": gate, "other": other, "viewer": viewer, "rows": rows}


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(r["number"] for r in response.json()["results"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["A8CI23", "ABC123", "ABD555", "XYZ789"]),
        ("plate=abc-123", ["ABC123"]),
        ("plate=AB&match=prefix", ["ABC123", "ABD555"]),
        ("plate=D55&match=contains", ["ABD555"]),
        ("plate=ABC123&match=fuzzy", ["A8CI23", "ABC123"]),
        ("plate=A8C1Z3&match=fuzzy", ["A8CI23", "ABC123"]),
        ("plate=A8C124&match=fuzzy", []),
        ("plate=4BC123&match=fuzzy", []),
        ("plate=AB0123&match=fuzzy", []),
        ("plate=a8ci23&match=fuzzy", ["A8CI23", "ABC123"]),
        ("direction=reverse", ["A8CI23"]),
        ("camera_verdict=block", ["XYZ789"]),
        ("our_verdict=allowed", ["ABC123"]),
        ("our_verdict=unlisted", ["A8CI23", "ABD555", "XYZ789"]),
        ("flagged=true", ["A8CI23", "XYZ789"]),
        ("flagged=false", ["ABC123", "ABD555"]),
        ("camera=127.0.0.91", ["A8CI23", "ABC123", "ABD555", "XYZ789"]),
        ("source=push", []),
    ],
)
def test_filters(site, query, expected):
    assert numbers(client_for(site["viewer"]).get(f"/api/plates/reads/?{query}")) == expected


@pytest.mark.django_db
def test_admin_sees_every_camera(site, admin_user):
    assert numbers(client_for(admin_user).get("/api/plates/reads/?plate=ABC123")) == ["ABC123", "ABC123"]


@pytest.mark.django_db
def test_time_range(site):
    PlateRead.objects.filter(pk=site["rows"]["abd"].pk).update(received_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    client = client_for(site["viewer"])
    assert "ABD555" not in numbers(client.get("/api/plates/reads/", {"since": since}))
    assert numbers(client.get("/api/plates/reads/", {"until": since})) == ["ABD555"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("camera=127.0.0.92", "camera"),  # exists, not theirs: the same answer as an unknown one
        ("camera=10.9.9.9", "camera"),
        ("since=yesterday", "since"),
        ("our_verdict=maybe", "our_verdict"),
        ("match=sounds-like&plate=X", "match"),
        ("flagged=perhaps", "flagged"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
    ],
)
def test_bad_filters_are_400_naming_the_field(site, query, field):
    response = client_for(site["viewer"]).get(f"/api/plates/reads/?{query}")
    assert response.status_code == 400 and field in response.json()["fields"], response.content


@pytest.mark.django_db
def test_unknown_and_invisible_camera_answer_alike(site):
    client = client_for(site["viewer"])
    a = client.get("/api/plates/reads/?camera=127.0.0.92").json()
    b = client.get("/api/plates/reads/?camera=127.0.0.93").json()
    assert a["fields"]["camera"][0].replace("92", "93") == b["fields"]["camera"][0]


@pytest.mark.django_db
def test_cursor_pagination_walks_every_read_once(site):
    gate = site["gate"]
    for i in range(7):
        read(gate, f"PAGE{i}", uuid=f"p{i}")
    client = client_for(site["viewer"])
    seen, url = [], "/api/plates/reads/?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    expected = list(PlateRead.objects.filter(camera=gate).order_by("-received_at", "-id").values_list("id", flat=True))
    assert seen == expected and len(seen) == 11


@pytest.mark.django_db
def test_detail_has_picture_and_clip_urls_of_visible_cameras_only(site):
    overview, hidden_overview = CameraFactory(ip="127.0.0.95"), CameraFactory(ip="127.0.0.96")
    site["viewer"].cameras.add(overview)
    AnprCamera.objects.create(camera=site["gate"]).overview_cameras.add(overview, hidden_overview)
    xyz = site["rows"]["xyz"]
    body = client_for(site["viewer"]).get(f"/api/plates/reads/{xyz.pk}/").json()
    assert body["number"] == "XYZ789" and body["camera_verdict"] == "block" and body["flagged"] is True
    assert set(body["pictures"]) == {"plate"} and body["pictures"]["plate"].endswith(f"/{xyz.pk}/picture/plate/")
    assert [(c["camera"], c["overview"]) for c in body["clips"]] == [("127.0.0.91", False), ("127.0.0.95", True)]
    assert body["clips"][1]["url"].endswith(f"/api/plates/reads/{xyz.pk}/clip/?camera=127.0.0.95")
    start, end = (datetime.fromisoformat(body[k]) for k in ("clip_start", "clip_end"))
    assert end - start == timedelta(seconds=20)


@pytest.mark.django_db
def test_csv_export_of_a_filtered_set(site):
    response = client_for(site["viewer"]).get("/api/plates/reads/export.csv/?flagged=true")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["plate"] for r in rows) == ["A8CI23", "XYZ789"]
    assert {"received_at", "camera", "plate", "camera_verdict", "our_verdict", "flagged"} <= set(rows[0])
    assert all(r["flagged"] == "yes" for r in rows)


@pytest.mark.django_db
def test_csv_cells_never_start_a_formula(site):
    read(site["gate"], "X1", uuid="f", direction="=HYPERLINK(1)")
    text = b"".join(client_for(site["viewer"]).get("/api/plates/reads/export.csv/").streaming_content).decode()
    assert "'=HYPERLINK(1)" in text


@pytest.mark.django_db
def test_clip_of_a_read_with_no_footage_is_404_not_recorded(site):
    response = client_for(site["viewer"]).get(f"/api/plates/reads/{site['rows']['abc'].pk}/clip/")
    assert response.status_code == 404 and response.json()["code"] == "not_recorded"


@pytest.mark.django_db
def test_clip_camera_must_be_the_reads_or_an_overview(site):
    response = client_for(site["viewer"]).get(f"/api/plates/reads/{site['rows']['abc'].pk}/clip/?camera=127.0.0.99")
    assert response.status_code == 400 and "camera" in response.json()["fields"]


@pytest.mark.django_db
def test_feed_answers_at_once_with_the_latest_and_a_cursor(site):
    client = client_for(site["viewer"])
    first = client.get("/api/plates/reads/feed/").json()
    assert [r["number"] for r in first["results"]] == ["ABC123", "A8CI23", "XYZ789", "ABD555"]
    assert first["cursor"] == str(site["rows"]["abd"].pk)  # the newest the viewer may see, not the hidden one
    started = time.monotonic()
    empty = client.get(f"/api/plates/reads/feed/?after={first['cursor']}&wait=0.5").json()
    assert empty == {"results": [], "cursor": first["cursor"]} and time.monotonic() - started >= 0.5
    new = read(site["gate"], "NEW001", uuid="n")
    read(site["other"], "NOTMINE", uuid="m")
    after = client.get(f"/api/plates/reads/feed/?after={first['cursor']}").json()
    assert [r["number"] for r in after["results"]] == ["NEW001"] and after["cursor"] == str(new.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["after=abc", "after=-1", "wait=99", "wait=soon", "camera=127.0.0.92"])
def test_feed_bad_parameters(site, query):
    assert client_for(site["viewer"]).get(f"/api/plates/reads/feed/?{query}").status_code == 400


# --- Over real HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def http_site(transactional_db, site, live_server, settings):
    settings.READS_FEED_WAIT = 10
    from accounts.services import issue_tokens

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {issue_tokens(site['viewer'])['token']}"
    yield {**site, "http": session, "base": live_server.url}
    session.close()  # a kept-alive connection holds a server thread, and its database connection, open


def test_pictures_over_http_and_forbidden_is_unknown(http_site):
    http, base, rows = http_site["http"], http_site["base"], http_site["rows"]
    mine = http.get(f"{base}/api/plates/reads/{rows['xyz'].pk}/picture/plate/", timeout=10)
    assert mine.status_code == 200 and mine.content == JPEG and mine.headers["Content-Type"] == "image/jpeg"
    forbidden = http.get(f"{base}/api/plates/reads/{rows['hidden'].pk}/picture/plate/", timeout=10)
    unknown = http.get(f"{base}/api/plates/reads/999999/picture/plate/", timeout=10)
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json() == unknown.json()
    huge = http.get(f"{base}/api/plates/reads/99999999999999999999/picture/plate/", timeout=10)
    assert huge.status_code == 404
    none = http.get(f"{base}/api/plates/reads/{rows['abc'].pk}/picture/scene/", timeout=10)
    assert none.status_code == 404 and none.json()["code"] == "no_picture"
    anonymous = requests.get(f"{base}/api/plates/reads/{rows['xyz'].pk}/picture/plate/", timeout=10)
    assert anonymous.status_code == 401


def test_feed_long_poll_returns_as_soon_as_a_read_arrives(http_site):
    http, base = http_site["http"], http_site["base"]
    cursor = http.get(f"{base}/api/plates/reads/feed/", timeout=10).json()["cursor"]

    def arrive():
        from django.db import connection

        try:
            read(http_site["gate"], "LIVE01", uuid="live")
        finally:
            connection.close()  # this thread's own connection

    timer = threading.Timer(1.0, arrive)
    started = time.monotonic()
    timer.start()
    try:
        body = http.get(f"{base}/api/plates/reads/feed/", params={"after": cursor}, timeout=20).json()
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert [r["number"] for r in body["results"]] == ["LIVE01"]
    assert 0.9 <= elapsed < 3, elapsed
