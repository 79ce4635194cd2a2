"""The one place that removes credentials from text: URLs, error messages, argv, log lines.

Masks the userinfo of any URL (`rtsp://user:pass@host` -> `rtsp://***:***@host`), the values of
credential parameters, wherever they appear (`?credentials=u:p`, XMEye's `/user=admin&password=x`),
signed tokens carried in a path (the live HLS URL `/api/cameras/streams/<token>/index.m3u8`), and the
per-camera secret of the plate-read push URL (`/api/plates/events/push/<camera>/<secret>/`).
Applied to the console log handler (settings.LOGGING) and to gunicorn's access log (lprnvr.gunicorn_conf).
"""

from __future__ import annotations

import logging
import re

_USERINFO = re.compile(r"(\w+://)[^/@\s\"']*@")
# django.core.signing's `value:timestamp:signature` (signature: 43 base64url characters) as a path segment.
_SIGNED_SEGMENT = re.compile(r"(?<=/)[\w.-]+:[\w-]+:[\w-]{43}(?=[/?#\s\"']|$)")
_PUSH_SECRET = re.compile(r"(/events/push/[^/\s]+/)[^/\s\"'?#]+")
_PARAMS = re.compile(r"((?<!\w)(?:user|username|password|passwd|pass|pwd|credentials)=)[^&\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """Text safe to log, store or show."""
    text = _SIGNED_SEGMENT.sub("***", _PARAMS.sub(r"\1***", _USERINFO.sub(r"\1***:***@", text)))
    return _PUSH_SECRET.sub(r"\1***", text)


class RedactCredentialsFilter(logging.Filter):
    """Defence in depth on the console handler: request lines and messages quoting a URL are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
