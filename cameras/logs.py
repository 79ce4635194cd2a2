"""A logging filter that keeps device credentials out of log lines (defence in depth).

Request lines logged by `runserver` (and any message quoting a URL) may carry
`?credentials=user:pass` or a password parameter, or an RTSP URL with user:pass@: all are masked.
"""

from __future__ import annotations

import logging
import re

QUERY = re.compile(r"((?:credentials|password|passwd|pass)=)[^&\s\"']*", re.IGNORECASE)
USERINFO = re.compile(r"((?:rtsp|rtsps|http|https)://)[^/\s@\"']+@", re.IGNORECASE)


def redact_text(text: str) -> str:
    return USERINFO.sub(r"\1***:***@", QUERY.sub(r"\1***", text))


class RedactCredentialsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's problem, not ours
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
