"""`/metrics`: the Prometheus exposition, for a scraper holding the token or at an allowed address.

A plain Django view, not an API view: Prometheus sends a bearer token of its own (METRICS_TOKEN), not
a user's JWT, and the endpoint is not part of the REST API (hence not in the OpenAPI schema).
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from lprnvr.api import client_address
from lprnvr.errors import error_response

from .metrics import exposition


def _bearer_token(request) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _allowed_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a malformed entry never opens the endpoint (the system check names it)
    return False


def refusal(request) -> str | None:
    """Why this request may not read the metrics; None when it may (the token or the address)."""
    token, allowed = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS
    if not token and not allowed:
        return _("The metrics endpoint is off: set METRICS_TOKEN or METRICS_ALLOWED_IPS to open it.")
    given = _bearer_token(request)
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return None
    if allowed and _allowed_address(client_address(request)):
        return None
    return _("A valid bearer token (METRICS_TOKEN) or an allowed address (METRICS_ALLOWED_IPS) is required.")


@require_GET
def metrics(request):
    reason = refusal(request)
    if reason is not None:
        return error_response(403, reason)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
