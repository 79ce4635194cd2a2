"""The one HTTP chokepoint of the discovery clients: digest auth, timeouts, typed errors.

Kept deliberately small: the plates app owns the full ISAPI client. One GET with digest auth is all
discovery needs, and a 401 that carried credentials stops at once (Hikvision locks the source address
after a few bad attempts; Dahua does the same).
"""

from __future__ import annotations

import requests
from requests.auth import HTTPDigestAuth

from .errors import DeviceAuthError, DeviceProtocolError, DeviceTimeout, DeviceUnreachable


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never route device traffic through an environment proxy
    s.headers["User-Agent"] = "lprnvr-discovery"
    return s


def base_url(host: str, port: int) -> str:
    scheme = "https" if port == 443 else "http"
    return f"{scheme}://{host}:{port}"


def get(
    http: requests.Session, url: str, *, username: str = "", password: str = "", timeout: float = 5, auth: bool = True
) -> requests.Response:
    """GET with digest auth; raises DeviceAuthError on a 401/403 that carried credentials."""
    try:
        response = http.get(
            url,
            auth=HTTPDigestAuth(username, password) if auth and (username or password) else None,
            timeout=(timeout, timeout),
            verify=False,  # cameras use self-signed certificates
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise DeviceTimeout("HTTP request timed out") from exc
    except requests.ConnectionError as exc:
        raise DeviceUnreachable("HTTP service unreachable") from exc
    except requests.RequestException as exc:
        raise DeviceProtocolError(f"HTTP error: {type(exc).__name__}") from exc
    if response.status_code in (401, 403) and auth and (username or password):
        raise DeviceAuthError(f"HTTP {response.status_code}: the device refused the credentials")
    return response
