"""`manage.py discover`: inline, and through the Celery worker like the API."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cameras.tests.doubles.lab import PASSWORD, USERNAME


@pytest.mark.django_db
def test_inline_json(lab):
    out = StringIO()
    call_command("discover", "--range", f"{lab.xmeye.address}/32", "--user", USERNAME, "--password", PASSWORD,
                 "--inline", "--json", stdout=out, stderr=StringIO())  # fmt: skip
    body = json.loads(out.getvalue())
    assert body["job"]["status"] == "succeeded"
    [device] = body["devices"]
    assert device["brand"] == "xmeye" and device["channels"] == 2
    assert device["failures"] == []  # the 404 on channel 3 ended the channel walk
    assert body["job"]["streams_checked"] == 6 and body["job"]["streams_ok"] == 4
    assert "Cam-pass" not in out.getvalue()


@pytest.mark.django_db
def test_inline_table_with_progress(lab, monkeypatch):
    monkeypatch.setenv("LPRNVR_DISCOVERY_PASSWORD", PASSWORD)
    out, err = StringIO(), StringIO()
    call_command("discover", "--range", f"{lab.hikvision.address}/32", "--user", USERNAME, "--inline",
                 stdout=out, stderr=err)  # fmt: skip
    table = out.getvalue()
    assert "DS-2CD2155FWD-I" in table and "rtsp://***:***@127.0.0.18:554/Streaming/Channels/101" in table
    assert "2/2 streams working" in table
    assert "[100%] done" in err.getvalue()
    assert "Cam-pass" not in table + err.getvalue()


@pytest.mark.celery
def test_through_the_worker(lab, celery_worker):
    out, err = StringIO(), StringIO()
    call_command("discover", "--range", f"{lab.onvif.address}/32", "--user", USERNAME, "--password", PASSWORD,
                 "--json", "--refresh", stdout=out, stderr=err)  # fmt: skip
    body = json.loads(out.getvalue())
    assert body["job"]["status"] == "succeeded"
    assert body["devices"][0]["brand"] == "onvif"


@pytest.mark.django_db
def test_bad_range_is_a_command_error():
    with pytest.raises(CommandError, match="Public ranges"):
        call_command("discover", "--range", "1.1.1.0/24", "--inline", stdout=StringIO(), stderr=StringIO())
