"""The timeline API from the segment index: spans, gaps, markers, multi-camera, and the 400s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from cameras.tests.factories import CameraFactory
from conftest import client_for
from plates.models import AnprCamera, PlateRead
from recordings import timeline
from recordings.models import Segment

from .factories import make_segment

T0 = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def seconds(at: datetime) -> float:
    return (at - T0).total_seconds()


@pytest.fixture
def recorded(db):
    """Recording segments 0-24 s (one 1 s hole inside: under the tolerance), an outage 24-54 s,
    then continuous segments 54-66 s."""
    camera = CameraFactory(name="Gate", ip="127.0.0.81")
    starts = [0, 4, 8, 13, 17, 20]  # 12-13: a 1 s hole, merged
    for s in starts:
        make_segment(camera, T0 + timedelta(seconds=s), seconds=4)
    for s in (54, 58, 62):
        make_segment(camera, T0 + timedelta(seconds=s), seconds=4, continuous=True)
    return camera


def spans_of(body) -> list[tuple[float, float, bool]]:
    return [(seconds(parse(s["start"])), seconds(parse(s["end"])), s["continuous"]) for s in body["spans"]]


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_spans_and_gaps_across_an_outage(recorded, admin_user):
    body = client_for(admin_user).get(
        f"/api/nvr/timeline/{recorded.address}",
        {"start": iso(T0 - timedelta(seconds=10)), "end": iso(T0 + timedelta(seconds=70))},
    )
    assert body.status_code == 200, body.content
    body = body.json()
    assert body["name"] == "Gate"
    assert spans_of(body) == [(0, 24, False), (54, 66, True)]
    assert [s["segments"] for s in body["spans"]] == [6, 3]
    gaps = [(seconds(parse(g["start"])), seconds(parse(g["end"]))) for g in body["gaps"]]
    assert gaps == [(-10, 0), (24, 54), (66, 70)]
    assert body["recorded_seconds"] == 36


def test_spans_are_clipped_to_the_window_and_a_larger_hole_splits(recorded, admin_user, settings):
    settings.TIMELINE_GAP_TOLERANCE = 0.5
    body = (
        client_for(admin_user)
        .get(
            f"/api/nvr/timeline/{recorded.address}",
            {"start": iso(T0 + timedelta(seconds=2)), "end": iso(T0 + timedelta(seconds=56))},
        )
        .json()
    )
    assert spans_of(body) == [(2, 12, False), (13, 24, False), (54, 56, True)]


def test_postgresql_islands_equal_the_python_merge(recorded):
    assert connection.vendor == "postgresql"
    start, end = T0 - timedelta(minutes=1), T0 + timedelta(minutes=2)
    in_sql = timeline.spans_by_camera([recorded.id], start, end, tolerance=1.5)[recorded.id]
    rows = Segment.objects.filter(camera=recorded).order_by("start").values_list("start", "end", "continuous")
    assert in_sql == [timeline.clip(s, start, end) for s in timeline.merge(rows, 1.5)]


def test_markers_are_the_cameras_reads_and_its_gates_reads(recorded, make_user):
    anpr = CameraFactory(name="Gate ANPR", ip="127.0.0.82")
    AnprCamera.objects.create(camera=anpr).overview_cameras.add(recorded)
    other = CameraFactory(name="Elsewhere", ip="127.0.0.83")
    PlateRead.objects.create(camera=recorded, number="OWN1", camera_time=T0 + timedelta(seconds=5))
    PlateRead.objects.create(camera=anpr, number="GATE1", camera_time=T0 + timedelta(seconds=6))
    PlateRead.objects.create(camera=anpr, number="LATE", camera_time=T0 + timedelta(hours=2))
    PlateRead.objects.create(camera=other, number="NOPE", camera_time=T0 + timedelta(seconds=7))
    window = {"start": iso(T0), "end": iso(T0 + timedelta(minutes=1))}

    viewer = make_user("viewer", username="tl-viewer")
    viewer.cameras.add(recorded, anpr)
    body = client_for(viewer).get(f"/api/nvr/timeline/{recorded.address}", window).json()
    assert [(m["number"], m["own"], m["camera"]) for m in body["markers"]] == [
        ("OWN1", True, "Gate"),
        ("GATE1", False, "Gate ANPR"),
    ]
    # A viewer who may not see the ANPR camera does not see its reads.
    viewer.cameras.remove(anpr)
    body = client_for(viewer).get(f"/api/nvr/timeline/{recorded.address}", window).json()
    assert [m["number"] for m in body["markers"]] == ["OWN1"]


def test_several_cameras_in_one_request(recorded, make_user):
    second = CameraFactory(name="Yard", ip="127.0.0.84")
    make_segment(second, T0 + timedelta(seconds=30), seconds=4)
    user = make_user("user", username="tl-user")
    user.cameras.add(recorded, second)
    window = {"start": iso(T0), "end": iso(T0 + timedelta(minutes=1))}
    body = (
        client_for(user).get("/api/nvr/timeline/", {**window, "cameras": f"{second.address},{recorded.address}"}).json()
    )
    assert [c["name"] for c in body["cameras"]] == ["Yard", "Gate"]
    assert spans_of(body["cameras"][0]) == [(30, 34, False)]
    assert len(body["cameras"][1]["spans"]) == 2
    # A camera the user may not see is refused by name, as an unknown one is.
    hidden = CameraFactory(ip="127.0.0.85")
    response = client_for(user).get("/api/nvr/timeline/", {**window, "cameras": f"{recorded.address},{hidden.address}"})
    assert response.status_code == 400 and "cameras" in response.json()["fields"]


def test_naive_times_are_the_sites_time_zone(recorded, admin_user, settings):
    settings.TIME_ZONE = "Europe/Madrid"  # UTC+1 in November
    body = (
        client_for(admin_user)
        .get(f"/api/nvr/timeline/{recorded.address}", {"start": "2026-11-30T11:00:00", "end": "2026-11-30T11:01:00"})
        .json()
    )
    assert parse(body["start"]) == T0
    assert spans_of(body) == [(0, 24, False), (54, 60, True)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-11-30T10:00:00Z"}, "start"),
        ({"start": "yesterday", "end": "2026-11-30T10:00:00Z"}, "start"),
        ({"start": "2026-11-30T10:00:00Z", "end": "2026-11-30T09:00:00Z"}, "end"),
        ({"start": "2026-11-20T10:00:00Z", "end": "2026-11-30T10:00:00Z"}, "end"),
        ({"start": "2026-11-30T10:00:00Z", "end": "2026-13-30T10:00:00Z"}, "end"),
    ],
)
def test_bad_windows_are_400s_naming_the_field(recorded, admin_user, params, field):
    response = client_for(admin_user).get(f"/api/nvr/timeline/{recorded.address}", params)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    response = client_for(admin_user).get("/api/nvr/timeline/", {**params, "cameras": recorded.address})
    assert response.status_code == 400 and field in response.json()["fields"]


def test_seven_days_is_the_longest_window(recorded, admin_user):
    response = client_for(admin_user).get(
        f"/api/nvr/timeline/{recorded.address}", {"start": iso(T0 - timedelta(days=7)), "end": iso(T0)}
    )
    assert response.status_code == 200
    assert response.json()["spans"] == []
    assert len(response.json()["gaps"]) == 1


def test_the_cameras_list_is_required_and_bounded(admin_user, settings):
    settings.TIMELINE_MAX_CAMERAS = 2
    window = {"start": iso(T0), "end": iso(T0 + timedelta(minutes=1))}
    for cameras in ("", ",", "1.1.1.1,1.1.1.2,1.1.1.3"):
        response = client_for(admin_user).get("/api/nvr/timeline/", {**window, "cameras": cameras})
        assert response.status_code == 400 and "cameras" in response.json()["fields"], cameras


def test_islands_equal_the_merge_on_random_footage(db):
    """Holes above and below the tolerance, class switches without a hole, single-segment spans, and
    a segment straddling the window's start, on two cameras at once."""
    import random

    rng = random.Random(15)
    cameras = [CameraFactory(ip=f"127.0.0.{86 + i}") for i in range(2)]
    for camera in cameras:
        at, rows = T0 - timedelta(seconds=7), []
        for _ in range(300):
            length = rng.choice([2, 4, 10])
            rows.append(
                Segment(camera=camera, start=at, end=at + timedelta(seconds=length), size=1,
                        path=f"r/{camera.id}/{at.timestamp()}", continuous=rng.random() < 0.5)
            )  # fmt: skip
            at += timedelta(seconds=length + rng.choice([0, 0, 0, 0.5, 1.4, 1.6, 3, 60]))
        Segment.objects.bulk_create(rows)
    start, end = T0, T0 + timedelta(hours=2)
    in_sql = timeline.spans_by_camera([c.id for c in cameras], start, end, tolerance=1.5)
    for camera in cameras:
        rows = (
            Segment.objects.filter(camera=camera, start__lt=end, end__gt=start)
            .order_by("start")
            .values_list("start", "end", "continuous")
        )
        expected = [timeline.clip(s, start, end) for s in timeline.merge(rows, 1.5)]
        assert len(expected) > 20
        assert in_sql[camera.id] == expected
