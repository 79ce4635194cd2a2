"""HTTP Digest on the legacy endpoints, through real HTTP: opt-in per account, replays refused,
clients that count nc up keep working, and the login throttle applies."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import requests
from requests.auth import HTTPDigestAuth

from accounts.models import User
from conftest import client_for
from plates.models import DigestCredential

# A body the view refuses with 400 after authentication: 400 means "authenticated", 401 "not".
BAD_BODY = {"camaras": [], "plates": []}


def post(base, auth=None, headers=None, session=None):
    return (session or requests).post(f"{base}/AddPlate", json=BAD_BODY, auth=auth, headers=headers, timeout=30)


def test_requests_digest_client_keeps_working_over_many_requests(live_server, operator):
    session = requests.Session()
    session.auth = HTTPDigestAuth("gatekeeper", "gate-pass-42")
    statuses = [post(live_server.url, session=session).status_code for _ in range(15)]
    assert statuses == [400] * 15
    # One challenge, then the same nonce with nc counting up.
    assert session.auth._thread_local.nonce_count == 15


def test_a_replayed_authorization_header_is_refused(live_server, operator):
    first = post(live_server.url, auth=HTTPDigestAuth("gatekeeper", "gate-pass-42"))
    assert first.status_code == 400
    captured = first.request.headers["Authorization"]
    assert "nc=00000001" in captured
    replayed = requests.post(
        f"{live_server.url}/AddPlate",
        json={"camaras": ["192.0.2.1"], "plates": ["EVIL1"]},  # any body: the digest does not cover it
        headers={"Authorization": captured},
        timeout=30,
    )
    assert replayed.status_code == 401
    challenge = replayed.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ") and "stale=TRUE" in challenge
    assert replayed.json()["status"] == 401


def test_a_replay_of_an_older_count_is_refused(live_server, operator):
    session = requests.Session()
    session.auth = HTTPDigestAuth("gatekeeper", "gate-pass-42")
    headers = []
    for _ in range(3):
        response = post(live_server.url, session=session)
        assert response.status_code == 400
        headers.append(response.request.headers["Authorization"])
    for captured in headers:
        assert post(live_server.url, headers={"Authorization": captured}).status_code == 401
    assert post(live_server.url, session=session).status_code == 400  # the real client goes on


def test_curl_digest_keeps_working(live_server, operator):
    curl = shutil.which("curl")
    assert curl, "curl is a test dependency"
    for _ in range(3):
        done = subprocess.run(
            [curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", "gatekeeper:gate-pass-42",
             "-H", "Content-Type: application/json", "-d", '{"camaras": [], "plates": []}',
             f"{live_server.url}/AddPlate"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        assert done.stdout == "400"


def test_an_account_without_legacy_digest_gets_401_and_keeps_no_ha1(live_server, make_user):
    user = make_user("admin", username="plain", password="plain-pass-42")
    assert not DigestCredential.objects.filter(user=user).exists()
    refused = post(live_server.url, auth=HTTPDigestAuth("plain", "plain-pass-42"))
    assert refused.status_code == 401
    # Its password passing through a login does not record an HA1 either.
    assert requests.post(
        f"{live_server.url}/api/auth/login", json={"username": "plain", "password": "plain-pass-42"}, timeout=30
    ).ok
    assert not DigestCredential.objects.filter(user=user).exists()


def test_opt_in_and_out_through_the_api(live_server, admin_user, make_user):
    guard = make_user("user", username="guard", password="guard-pass-42")
    admin = client_for(admin_user)
    on = admin.put(f"/api/users/{guard.pk}", {"legacy_digest": True, "password": "guard-pass-43"}, format="json")
    assert on.status_code == 200 and on.json()["legacy_digest"] is True
    assert post(live_server.url, auth=HTTPDigestAuth("guard", "guard-pass-43")).status_code == 400

    off = admin.put(f"/api/users/{guard.pk}", {"legacy_digest": False}, format="json")
    assert off.status_code == 200 and off.json()["legacy_digest"] is False
    assert not DigestCredential.objects.filter(user=guard).exists()
    assert post(live_server.url, auth=HTTPDigestAuth("guard", "guard-pass-43")).status_code == 401


def test_opt_in_without_a_password_records_the_ha1_at_the_next_login(live_server, admin_user, make_user):
    guard = make_user("user", username="guard", password="guard-pass-42")
    on = client_for(admin_user).put(f"/api/users/{guard.pk}", {"legacy_digest": True}, format="json")
    assert on.status_code == 200
    assert post(live_server.url, auth=HTTPDigestAuth("guard", "guard-pass-42")).status_code == 401
    assert requests.post(
        f"{live_server.url}/api/auth/login", json={"username": "guard", "password": "guard-pass-42"}, timeout=30
    ).ok
    assert post(live_server.url, auth=HTTPDigestAuth("guard", "guard-pass-42")).status_code == 400


def test_register_with_legacy_digest(live_server, admin_user):
    created = client_for(admin_user).post(
        "/api/auth/register",
        {"username": "gate2", "password": "gate2-pass-42", "role": "user", "legacy_digest": True},
        format="json",
    )
    assert created.status_code == 201
    assert User.objects.get(username="gate2").legacy_digest is True
    assert post(live_server.url, auth=HTTPDigestAuth("gate2", "gate2-pass-42")).status_code == 400
    default = client_for(admin_user).post(
        "/api/auth/register", {"username": "gate3", "password": "gate3-pass-42"}, format="json"
    )
    assert default.status_code == 201 and User.objects.get(username="gate3").legacy_digest is False


def test_digest_guessing_is_throttled_per_address(live_server, operator, settings):
    settings.NUM_PROXIES = 1
    settings.LOGIN_MAX_FAILURES_PER_USER = 3
    guesser = {"X-Forwarded-For": "198.51.100.66"}
    for _ in range(3):
        assert post(live_server.url, auth=HTTPDigestAuth("gatekeeper", "wrong"), headers=guesser).status_code == 401
    refused = post(live_server.url, auth=HTTPDigestAuth("gatekeeper", "gate-pass-42"), headers=guesser)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    owner = {"X-Forwarded-For": "203.0.113.7"}
    assert post(live_server.url, auth=HTTPDigestAuth("gatekeeper", "gate-pass-42"), headers=owner).status_code == 400


@pytest.mark.django_db
def test_admin_user_page_has_the_checkbox(admin_user, make_user, client):
    guard = make_user("user", username="guard")
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{guard.pk}/change/")
    assert 'name="legacy_digest"' in page.content.decode()


@pytest.mark.django_db
def test_the_data_migration_drops_the_ha1_of_accounts_without_digest(make_user):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("plates.migrations.0002_digest_nonce_and_opt_in")
    kept = make_user("user", username="gate", legacy_digest=True)
    dropped = make_user("admin", username="boss")
    DigestCredential.objects.create(user=dropped, realm="lprnvr", ha1="0" * 32, password_hash=dropped.password)
    assert DigestCredential.objects.filter(user=kept).exists()
    migration.drop_ha1_of_accounts_without_digest(apps, None)
    assert list(DigestCredential.objects.values_list("user__username", flat=True)) == ["gate"]
