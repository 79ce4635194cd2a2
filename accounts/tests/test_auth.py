import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def login(client, username, password, **extra):
    return client.post("/api/auth/login", {"username": username, "password": password}, format="json", **extra)


def test_login_returns_seed_shape(api_client, make_user):
    user = make_user("viewer", username="ana")
    response = login(api_client, "ana", "correct-horse-9")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "refresh", "user"}
    assert body["user"] == {"id": user.id, "username": "ana", "role": "viewer"}


def test_wrong_password_is_401_json(api_client, make_user):
    make_user(username="ana")
    response = login(api_client, "ana", "nope")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_authenticates_and_logout_revokes_access_and_refresh(api_client, make_user):
    make_user("admin", username="boss")
    tokens = login(api_client, "boss", "correct-horse-9").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert client.get("/api/users").status_code == 200

    response = client.post("/api/auth/logout")
    assert response.status_code == 200
    assert response.json() == {"message": "Logged out"}

    assert client.get("/api/users").status_code == 401
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401


def test_refresh_issues_working_token(api_client, make_user):
    make_user("admin", username="boss")
    tokens = login(api_client, "boss", "correct-horse-9").json()
    response = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert client.get("/api/users").status_code == 200
    # logging out with the refreshed access token also kills the refresh token
    assert client.post("/api/auth/logout").status_code == 200
    assert APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_expired_token_is_401(settings, make_user):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    user = make_user("admin")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/users")
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_garbage_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert client.get("/api/cameras/list").status_code == 401


def test_first_registration_becomes_admin_then_admin_only(api_client):
    response = api_client.post(
        "/api/auth/register", {"username": "first", "password": "s3cret-pass-x", "role": "viewer"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["role"] == "admin"

    anon = api_client.post("/api/auth/register", {"username": "second", "password": "s3cret-pass-x"}, format="json")
    assert anon.status_code == 401

    tokens = login(api_client, "first", "s3cret-pass-x").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    created = client.post(
        "/api/auth/register", {"username": "second", "password": "s3cret-pass-x", "role": "viewer"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["role"] == "viewer"


def test_register_by_non_admin_is_403(as_user, make_user):
    response = as_user(make_user("user")).post(
        "/api/auth/register", {"username": "x1", "password": "s3cret-pass-x"}, format="json"
    )
    assert response.status_code == 403


def test_register_validation_names_fields(as_user, admin_user):
    client = as_user(admin_user)
    response = client.post(
        "/api/auth/register", {"username": "admin", "password": "123", "role": "boss"}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {"username", "role"} <= set(fields)
    weak = client.post("/api/auth/register", {"username": "newbie", "password": "123"}, format="json")
    assert weak.status_code == 400
    assert "password" in weak.json()["fields"]


@override_settings(LOGIN_MAX_FAILURES_PER_USER=3, LOGIN_MAX_FAILURES_PER_ADDRESS=100)
def test_failed_logins_are_throttled_per_username(api_client, make_user):
    make_user(username="ana")
    for _ in range(3):
        assert login(api_client, "ana", "wrong").status_code == 401
    response = login(api_client, "ana", "correct-horse-9")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    # another user from the same address is not affected
    make_user(username="bob")
    assert login(api_client, "bob", "correct-horse-9").status_code == 200


@override_settings(LOGIN_MAX_FAILURES_PER_USER=100, LOGIN_MAX_FAILURES_PER_ADDRESS=4)
def test_failed_logins_are_throttled_per_address(api_client, make_user):
    make_user(username="ana")
    for i in range(4):
        login(api_client, f"guess{i}", "wrong", REMOTE_ADDR="127.0.0.9")
    assert login(api_client, "ana", "correct-horse-9", REMOTE_ADDR="127.0.0.9").status_code == 429
    assert login(api_client, "ana", "correct-horse-9", REMOTE_ADDR="127.0.0.10").status_code == 200


@override_settings(LOGIN_MAX_FAILURES_PER_USER=2, LOGIN_FAILURE_WINDOW=1)
def test_throttle_expires(api_client, make_user):
    make_user(username="ana")
    login(api_client, "ana", "wrong")
    login(api_client, "ana", "wrong")
    assert login(api_client, "ana", "correct-horse-9").status_code == 429
    time.sleep(1.1)
    assert login(api_client, "ana", "correct-horse-9").status_code == 200


def test_deactivated_user_token_stops_working(as_user, make_user):
    user = make_user("user")
    client = as_user(user)
    assert client.get("/api/cameras/list").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/cameras/list").status_code == 401


@override_settings(NUM_PROXIES=1, LOGIN_MAX_FAILURES_PER_USER=100, LOGIN_MAX_FAILURES_PER_ADDRESS=2)
def test_address_behind_a_proxy_comes_from_forwarded_for(api_client, make_user):
    make_user(username="ana")
    for _ in range(2):
        login(api_client, "ana", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert login(api_client, "ana", "correct-horse-9", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert login(api_client, "ana", "correct-horse-9", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200
