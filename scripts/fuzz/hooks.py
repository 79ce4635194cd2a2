"""schemathesis hooks for scripts/fuzz-api.sh: every request as the fuzz administrator (a JWT).

The token is fetched again every few seconds: a fuzzed `POST /api/auth/logout` with `{"all": true}`
may end the administrator's sessions, and the run must go on as an administrator.
"""

from __future__ import annotations

import os

import requests
import schemathesis

FUZZ_ADMIN_ID = 900_000_001  # scripts/fuzz/seed.py


def _login() -> requests.Response:
    return requests.post(
        os.environ["FUZZ_BASE_URL"] + "/api/auth/login",
        json={"username": os.environ["FUZZ_ADMIN"], "password": os.environ["FUZZ_PASSWORD"]},
        timeout=30,
    )


def _restore_admin() -> None:
    """Fuzzed `PUT /api/users/<id>` may give the run's own account another password (which also ends
    its tokens): set it back in the database the server uses (SQLite under the run's VAR_DIR)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")
    django.setup()
    from accounts.models import Role, User

    admin = User.objects.get(username=os.environ["FUZZ_ADMIN"])
    admin.set_password(os.environ["FUZZ_PASSWORD"])
    admin.role, admin.is_active = Role.ADMIN, True
    admin.save()


@schemathesis.auth(refresh_interval=15)
class AdminJWT:
    def get(self, case, ctx):
        response = _login()
        if response.status_code == 401:
            _restore_admin()
            response = _login()
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def filter_path_parameters(ctx, path_parameters):
    """Keep the fuzzer off its own account (it would change its password or delete itself)."""
    return not path_parameters or str(path_parameters.get("id")) != str(FUZZ_ADMIN_ID)


@schemathesis.check
def typed_server_answer(ctx, response, case):
    """A 5xx is only ever a deliberate answer: a JSON error body whose code names the cause."""
    if response.status_code < 500:
        return None
    try:
        code = response.json().get("code", "")
    except (ValueError, AttributeError):
        code = ""
    if response.status_code == 500 or not code or code == "server_error":
        raise AssertionError(f"HTTP {response.status_code} without a typed error body (code {code!r})")
    return None
