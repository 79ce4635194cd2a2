"""Request latencies for /metrics: one histogram by view, method and status class.

The labels stay bounded whatever the traffic: the view is the URL pattern's name (one per route,
never the path, which carries ids and HLS tokens), the method one of the HTTP methods Django routes
(anything else is "other"), the status its class (2xx, 4xx...).

Under gunicorn with several workers each worker process holds its own histogram; gunicorn_conf sets
PROMETHEUS_MULTIPROC_DIR so that each writes it to a file there and /metrics, whichever worker answers,
sums every worker's file (prometheus_client's multiprocess mode). In a single process (runserver,
tests) the histogram lives in memory and /metrics reads it directly.
"""

from __future__ import annotations

import time

import prometheus_client
from prometheus_client import Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A `_created` series per label set doubles the output for nothing Prometheus uses (and is absent in
# multiprocess mode: one output in both modes).
prometheus_client.disable_created_metrics()

UNRESOLVED = "unresolved"  # no URL pattern matched (a 404, or a file whitenoise served)

# registry=None: registered by the /metrics view itself (in memory) or read from the multiprocess
# files, never in prometheus_client's global registry, which would also export per-process figures.
REQUEST_DURATION = Histogram(
    "lprnvr_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response is handed to the server; a streamed body not included).",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)


def view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else UNRESOLVED


class RequestLatencyMiddleware:
    """Times every request into REQUEST_DURATION (first in MIDDLEWARE, so refusals count too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        status = f"{response.status_code // 100}xx"
        REQUEST_DURATION.labels(view_label(request), method, status).observe(time.perf_counter() - started)
        return response
