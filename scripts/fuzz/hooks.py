"""schemathesis hooks for scripts/fuzz-api.sh: every request as the fuzz administrator (a JWT).

The token is fetched again every few seconds: a fuzzed `POST /api/auth/logout` with `{"all": true}`
may end the administrator's sessions, and the run must go on as an administrator.
"""

from __future__ import annotations

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=15)
class AdminJWT:
    def get(self, case, ctx):
        response = requests.post(
            os.environ["FUZZ_BASE_URL"] + "/api/auth/login",
            json={"username": os.environ["FUZZ_ADMIN"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


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
