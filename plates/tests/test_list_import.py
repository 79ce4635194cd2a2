"""Named lists as CSV (issue 14 §6): the plain form and the camera's own, a 100,000-plate import
with its preview (added, removed, changed) before it is applied, export of a list and of a camera's
effective list."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from plates import csvformat
from plates.models import ListEntry, ListType, PlateJob
from plates.services import lists


def test_the_plain_form_and_the_cameras_own_are_read():
    plain = b"plate,owner,valid_from,valid_until,notes\nabc-123,Ana,2027-01-01,,night shift\nABC123,dup,,,\n!,x,,,\n"
    rows, bad = csvformat.parse_list_csv(plain)
    assert rows == [csvformat.ListRow("ABC123", "Ana", "night shift", date(2027, 1, 1), None)] and bad == ["!"]
    device = (
        '\ufeffNo.,Plate No.,"Group(0 BlockList, 1 AllowList)",'
        '"Effective Start Date (Format: YYYY-MM-DD, e.g., 2017-12-07)",'
        '"Effective End Date (Format: YYYY-MM-DD, e.g., 2017-12-07)"\r\n'
        "1,XYZ789,1,1970-01-01,5000-12-01\r\n2,KLM456,1,2027-02-01,2027-03-01\r\n"
    ).encode()
    rows, _bad = csvformat.parse_list_csv(device)
    assert [(r.number, r.valid_from, r.valid_until) for r in rows] == [
        ("XYZ789", None, None),  # the camera's "for ever" is an open end here
        ("KLM456", date(2027, 2, 1), date(2027, 3, 1)),
    ]
    with pytest.raises(csvformat.CsvError):
        csvformat.parse_list_csv(b"owner,notes\nx,y\n")
    # What we write, we read back; a formula is never one.
    again, _ = csvformat.parse_list_csv("".join(csvformat.list_rows_csv(rows)).encode())
    assert again == rows
    cell = "".join(csvformat.list_rows_csv([csvformat.ListRow("ABC123", "=cmd()")]))
    assert "'=cmd()" in cell


def file_of(lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", ("plate,owner,valid_from,valid_until,notes\n" + "".join(lines)).encode())


@pytest.mark.django_db
def test_a_100000_plate_import_with_its_preview(make_user):
    from conftest import client_for

    api = client_for(make_user("admin", username="importer"))
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    url = f"/api/plates/lists/{residents.pk}/import/"
    lines = [f"R{n:06d},Owner {n},,2027-12-31,\n" for n in range(100_000)]
    r = api.post(url, {"file": file_of(lines)}, format="multipart")
    assert r.status_code == 200, r.content
    preview = r.json()["preview"]
    assert (preview["added"], preview["removed"], preview["changed"], preview["unchanged"]) == (100_000, 0, 0, 0)
    assert preview["samples"]["added"][:2] == ["R000000", "R000001"] and r.json()["applied"] is False
    assert not ListEntry.objects.exists()  # a preview writes nothing

    r = api.post(url, {"file": file_of(lines), "apply": "true"}, format="multipart")
    assert r.status_code == 200 and r.json()["applied"] and r.json()["job"] is None  # assigned nowhere yet
    assert ListEntry.objects.filter(plate_list=residents).count() == 100_000

    changed = [line.replace("Owner", "New owner") if n < 10 else line for n, line in enumerate(lines)][5:]
    r = api.post(url, {"file": file_of(changed), "replace": "true"}, format="multipart")
    preview = r.json()["preview"]
    assert (preview["added"], preview["removed"], preview["changed"]) == (0, 5, 5)
    assert preview["samples"]["removed"] == [f"R{n:06d}" for n in range(5)]
    assert preview["unchanged"] == 100_000 - 10
    r = api.post(url, {"file": file_of(changed), "replace": "true", "apply": "true"}, format="multipart")
    assert r.status_code == 200
    assert ListEntry.objects.filter(plate_list=residents).count() == 99_995
    assert ListEntry.objects.get(plate_list=residents, plate__number="R000007").owner == "New owner 7"
    export = b"".join(api.get(f"/api/plates/lists/{residents.pk}/export/").streaming_content)
    rows, _ = csvformat.parse_list_csv(export)
    assert len(rows) == 99_995 and rows[0] == csvformat.ListRow("R000005", "New owner 5", "", None, date(2027, 12, 31))


@pytest.mark.django_db
def test_bad_files_are_400s_naming_the_field(make_user):
    from conftest import client_for

    api = client_for(make_user("admin", username="importer"))
    residents = lists.create_list(name="Residents", kind=ListType.ALLOW)
    url = f"/api/plates/lists/{residents.pk}/import/"
    r = api.post(url, {"csv": "owner\nx\n"}, format="json")
    assert r.status_code == 400 and "file" in r.json()["fields"]
    r = api.post(url, {}, format="json")
    assert r.status_code == 400 and "file" in r.json()["fields"]
    r = api.get(f"/api/plates/lists/{residents.pk}/export/?layout=xls")
    assert r.status_code == 400 and "layout" in r.json()["fields"]


@pytest.mark.django_db(transaction=True)
def test_a_list_in_the_cameras_own_format_and_a_cameras_effective_list(celery_worker, doubles, make_user):
    from conftest import client_for
    from plates import services

    cam, camera = doubles("A")
    api = client_for(make_user("admin", username="exporter"))
    banned = lists.create_list(name="Banned", kind=ListType.BLOCK)
    lists.assign_list(plate_list=banned, cameras=[camera])
    job = lists.put_on_list(
        plate_list=banned, entries=[lists.EntrySpec("BAN001"), lists.EntrySpec("BAN002", valid_until=date(2027, 1, 1))]
    )
    services.wait_for_job(job, 30)
    services.wait_for_job(services.push_plates(cameras=[camera], numbers=["OWN001"]), 30)
    device_file = b"".join(api.get(f"/api/plates/lists/{banned.pk}/export/?layout=device").streaming_content)
    cam.records.clear()
    assert cam.import_csv(device_file)[1]["statusCode"] == 1  # the camera takes it back as its own
    assert {(r.plate, r.list_type, r.end) for r in cam.records} == {
        ("BAN001", "blackList", "2037-12-31"),
        ("BAN002", "blackList", "2027-01-01"),
    }
    effective = b"".join(api.get(f"/api/plates/cameras/{camera.pk}/export/?layout=device").streaming_content)
    assert [line.split(",")[1:3] for line in effective.decode("utf-8-sig").splitlines()[1:]] == [
        ["BAN001", "0"],
        ["BAN002", "0"],
        ["OWN001", "1"],
    ]
    assert PlateJob.objects.count() == 2
