"""The password doors and the tokens, through real HTTP (live_server + requests).

Two client addresses are simulated with X-Forwarded-For behind one trusted proxy (NUM_PROXIES=1).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import LoginFailureCounter, User

GUESSER = {"X-Forwarded-For": "198.51.100.66"}
OWNER = {"X-Forwarded-For": "203.0.113.7"}
PASSWORD = "correct-horse-9"


@pytest.fixture
def doors(settings, live_server):
    settings.NUM_PROXIES = 1
    settings.LOGIN_MAX_FAILURES_PER_USER = 5
    settings.LOGIN_FAILURE_WINDOW = 300
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 12
    settings.LOGIN_ADDRESS_FAILURE_WINDOW = 3600
    return live_server.url


def api_login(base, username, password, headers=None):
    return requests.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, headers=headers, timeout=30
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def refresh(base, token):
    return requests.post(f"{base}/api/auth/refresh", json={"refresh": token}, timeout=30)


def admin_login(base, username, password, headers=None) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    session.headers.update(headers or {})
    session.get(f"{base}/admin/login/", timeout=30)
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Accept": "text/html", "Referer": f"{base}/admin/login/"},
        allow_redirects=False,
        timeout=30,
    )
    return session, response


# --- throttling ------------------------------------------------------------------------------


def test_api_guesser_is_refused_with_the_right_password_while_the_owner_logs_in(doors, make_user):
    make_user("admin", username="boss")
    for _ in range(5):
        assert api_login(doors, "boss", "wrong", GUESSER).status_code == 401
    refused = api_login(doors, "boss", PASSWORD, GUESSER)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    assert refused.json()["code"] == "throttled"
    # The owner, from another address, is not locked out by somebody else's guesses.
    assert api_login(doors, "boss", PASSWORD, OWNER).status_code == 200


def test_admin_site_guesser_gets_a_message_while_the_owner_logs_in(doors, make_user):
    make_user("admin", username="boss")
    for _ in range(5):
        _session, page = admin_login(doors, "boss", "wrong", GUESSER)
        assert page.status_code == 200 and "correct username and password" in page.text
    session, page = admin_login(doors, "boss", PASSWORD, GUESSER)
    assert page.status_code == 200  # the login page again, not a redirect into the site
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Too many failed logins from your address. Try again in 5 minutes." in page.text
    assert session.get(f"{doors}/admin/", allow_redirects=False, timeout=30).status_code == 302  # not signed in

    owner, page = admin_login(doors, "boss", PASSWORD, OWNER)
    assert page.status_code == 302 and page.headers["Location"] == "/admin/"
    assert owner.get(f"{doors}/admin/", timeout=30).status_code == 200


def test_the_doors_share_one_count(doors, make_user):
    """Guesses at the admin site count against the API login too (and the reverse)."""
    make_user("admin", username="boss")
    for _ in range(3):
        admin_login(doors, "boss", "wrong", GUESSER)
    for _ in range(2):
        api_login(doors, "boss", "wrong", GUESSER)
    assert api_login(doors, "boss", PASSWORD, GUESSER).status_code == 429
    _session, page = admin_login(doors, "boss", PASSWORD, GUESSER)
    assert "Too many failed logins" in page.text


def test_one_address_trying_many_usernames_hits_the_slower_address_limit(doors, make_user):
    make_user("user", username="ana")
    for i in range(12):
        assert api_login(doors, f"guess{i}", "wrong", GUESSER).status_code == 401
    refused = api_login(doors, "ana", PASSWORD, GUESSER)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 300  # the address window is the longer one
    assert api_login(doors, "ana", PASSWORD, OWNER).status_code == 200


def test_a_success_forgets_the_failures_of_that_username_from_that_address(doors, make_user):
    make_user("user", username="ana")
    for _ in range(4):
        api_login(doors, "ana", "wrong", OWNER)
    assert api_login(doors, "ana", PASSWORD, OWNER).status_code == 200
    for _ in range(4):
        assert api_login(doors, "ana", "wrong", OWNER).status_code == 401
    assert api_login(doors, "ana", PASSWORD, OWNER).status_code == 200


def test_parallel_guesses_get_no_more_tries_than_the_limit(doors, make_user):
    """Twenty guesses at once: exactly five reach the password check (the counter is atomic)."""
    make_user("admin", username="boss")
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _i: api_login(doors, "boss", "wrong", GUESSER).status_code, range(20)))
    assert sorted(statuses) == [401] * 5 + [429] * 15
    assert LoginFailureCounter.objects.get(key="user:boss|198.51.100.66").failures == 5


# --- tokens ----------------------------------------------------------------------------------


def assert_ended(base, tokens):
    assert requests.get(f"{base}/api/cameras/list", headers=bearer(tokens["token"]), timeout=30).status_code == 401
    assert refresh(base, tokens["refresh"]).status_code == 401


def assert_working(base, tokens):
    assert requests.get(f"{base}/api/cameras/list", headers=bearer(tokens["token"]), timeout=30).status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_is_spent(doors, make_user):
    make_user("user", username="ana")
    first = api_login(doors, "ana", PASSWORD).json()
    rotated = refresh(doors, first["refresh"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert set(second) == {"token", "refresh"} and second["refresh"] != first["refresh"]
    assert_working(doors, second)
    again = refresh(doors, first["refresh"])
    assert again.status_code == 401 and again.json()["error"] == "Refresh token has been revoked."
    assert refresh(doors, second["refresh"]).status_code == 200


def test_a_spent_refresh_token_used_again_later_ends_every_session(doors, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import RevokedToken

    make_user("user", username="ana")
    stolen = api_login(doors, "ana", PASSWORD).json()
    mine = refresh(doors, stolen["refresh"]).json()  # the owner rotates; the thief kept the old one
    RevokedToken.objects.update(revoked_at=timezone.now() - timedelta(minutes=5))
    assert refresh(doors, stolen["refresh"]).status_code == 401
    assert_ended(doors, mine)  # the family ends: whoever holds the successors must log in again
    assert_working(doors, api_login(doors, "ana", PASSWORD).json())


def test_a_refresh_token_used_twice_at_once_rotates_once(doors, make_user):
    make_user("user", username="ana")
    tokens = api_login(doors, "ana", PASSWORD).json()
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _i: refresh(doors, tokens["refresh"]).status_code, range(6)))
    assert sorted(statuses) == [200] + [401] * 5


def test_logout_all_ends_every_session_of_the_caller_only(doors, make_user):
    make_user("user", username="ana")
    make_user("user", username="bob")
    laptop, phone = api_login(doors, "ana", PASSWORD).json(), api_login(doors, "ana", PASSWORD).json()
    other = api_login(doors, "bob", PASSWORD).json()
    web, _page = admin_login(doors, "ana", PASSWORD)
    assert web.get(f"{doors}/api/cameras/list", timeout=30).status_code == 200

    out = requests.post(f"{doors}/api/auth/logout", json={"all": True}, headers=bearer(laptop["token"]), timeout=30)
    assert out.status_code == 200 and out.json() == {"message": "Logged out"}
    assert_ended(doors, laptop)
    assert_ended(doors, phone)
    assert web.get(f"{doors}/api/cameras/list", timeout=30).status_code in (401, 403)  # the admin session too
    assert_working(doors, other)
    assert_working(doors, api_login(doors, "ana", PASSWORD).json())  # a new login works


def test_plain_logout_ends_only_that_session(doors, make_user):
    make_user("user", username="ana")
    laptop, phone = api_login(doors, "ana", PASSWORD).json(), api_login(doors, "ana", PASSWORD).json()
    assert requests.post(f"{doors}/api/auth/logout", headers=bearer(laptop["token"]), timeout=30).status_code == 200
    assert_ended(doors, laptop)
    assert_working(doors, phone)


@pytest.mark.parametrize(
    "change",
    [{"password": "a-new-password-77"}, {"role": "viewer"}, {"is_active": False}],
    ids=["password", "role", "deactivation"],
)
def test_api_password_role_or_active_change_ends_both_tokens(doors, make_user, change):
    make_user("admin", username="boss")
    ana = make_user("user", username="ana")
    boss = api_login(doors, "boss", PASSWORD).json()
    tokens = api_login(doors, "ana", PASSWORD).json()
    assert_working(doors, tokens)
    put = requests.put(f"{doors}/api/users/{ana.pk}", json=change, headers=bearer(boss["token"]), timeout=30)
    assert put.status_code == 200, put.text
    assert_ended(doors, tokens)
    assert_working(doors, boss)  # the admin who made the change keeps theirs


def test_admin_site_password_change_ends_both_tokens(doors, make_user):
    make_user("admin", username="boss")
    ana = make_user("user", username="ana")
    tokens = api_login(doors, "ana", PASSWORD).json()
    web, _page = admin_login(doors, "boss", PASSWORD)
    url = f"{doors}/admin/accounts/user/{ana.pk}/password/"
    form = web.get(url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    done = web.post(
        url,
        data={
            "csrfmiddlewaretoken": csrf,
            "usable_password": "true",
            "password1": "a-new-password-77",
            "password2": "a-new-password-77",
        },
        headers={"Referer": url},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text[-2000:]
    assert_ended(doors, tokens)
    assert api_login(doors, "ana", "a-new-password-77").status_code == 200


def test_admin_site_role_change_ends_tokens(doors, make_user):
    make_user("admin", username="boss")
    ana = make_user("user", username="ana")
    tokens = api_login(doors, "ana", PASSWORD).json()
    web, _page = admin_login(doors, "boss", PASSWORD)
    url = f"{doors}/admin/accounts/user/{ana.pk}/change/"
    form = web.get(url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    done = web.post(
        url,
        data={
            "csrfmiddlewaretoken": csrf,
            "username": "ana",
            "role": "viewer",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        headers={"Referer": url},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text[-3000:]
    assert User.objects.get(pk=ana.pk).role == "viewer"
    assert_ended(doors, tokens)


def test_changepassword_command_ends_tokens(doors, make_user, monkeypatch):
    from django.core.management import call_command

    make_user("user", username="ana")
    tokens = api_login(doors, "ana", PASSWORD).json()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-password-77")
    call_command("changepassword", "ana")
    assert_ended(doors, tokens)


def test_a_login_and_a_password_rehash_do_not_end_tokens(doors, make_user, settings):
    make_user("user", username="ana")
    tokens = api_login(doors, "ana", PASSWORD).json()
    # A new preferred hasher: the next login rehashes the stored password; that is no change.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert api_login(doors, "ana", PASSWORD).status_code == 200
    assert User.objects.get(username="ana").password.startswith("pbkdf2_sha256$")
    assert_working(doors, tokens)
    assert refresh(doors, tokens["refresh"]).status_code == 200
