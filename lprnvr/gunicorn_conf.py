"""gunicorn settings for every way the web server is started (runstack, Dockerfile, docker-compose):
`gunicorn -c python:lprnvr.gunicorn_conf lprnvr.wsgi:application`.

The access log goes to stdout with every field passed through lprnvr.redaction: the live HLS token
sits in the path (`/api/cameras/streams/<token>/...`) and device credentials in some query strings,
and neither may reach a log file.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from lprnvr.redaction import redact

accesslog = "-"
# Path without the query string: GET /api/cameras/discover carries device credentials there.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
timeout = 120


class RedactingLogger(Logger):
    """gunicorn's logger with every access-log field redacted (request line, path, query, headers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
