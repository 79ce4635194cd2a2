"""Webhook: an HTTP POST of a JSON body, signed with HMAC-SHA256 under the target's secret."""

from __future__ import annotations

import hashlib
import hmac
import time

import requests

from . import PermanentError, TransientError

USER_AGENT = "lprnvr-alerts/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, f"{timestamp}.{body}"): what X-Lprnvr-Signature carries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def post(*, url: str, body: bytes, secret: str, timeout: float, headers: dict[str, str] | None = None) -> int:
    """POST `body` (JSON) to `url`; the status code on 2xx. TransientError for a refused connection,
    a timeout, 408, 429 or 5xx; PermanentError for any other answer."""
    timestamp = str(int(time.time()))
    sent = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Lprnvr-Timestamp": timestamp,
        **(headers or {}),
    }
    if secret:
        sent["X-Lprnvr-Signature"] = signature(secret, timestamp, body)
    try:
        response = requests.post(url, data=body, headers=sent, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise TransientError(f"no answer within {timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise TransientError(f"connection failed: {_reason(exc)}") from None
    except requests.RequestException as exc:
        raise PermanentError(f"request failed: {type(exc).__name__}") from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    answer = f"HTTP {status} {response.reason or ''}".strip()
    if status in (408, 429) or status >= 500:
        raise TransientError(answer)
    raise PermanentError(answer)


def _reason(exc: BaseException) -> str:
    """The operating system's word for it ("Connection refused"), never the URL requests quotes (a
    webhook URL may carry a token)."""
    seen: BaseException | None = exc
    for _depth in range(10):
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return type(exc).__name__
