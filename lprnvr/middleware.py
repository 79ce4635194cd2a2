"""Middleware that keeps every error a REST client sees in the JSON shape of `lprnvr.errors`."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import error_response

JSON_ERROR_STATUSES = {400, 401, 403, 404, 405, 413, 429, 500, 503, 507}
API_PREFIXES = ("/api/", "/AddPlate", "/DeletePlate", "/UpdatePlate", "/health", "/stats")


def wants_json(request) -> bool:
    """API paths always get JSON; elsewhere a browser asking for HTML keeps Django's pages."""
    if request.path.startswith(API_PREFIXES):
        return True
    return "text/html" not in request.headers.get("Accept", "")


class BodySizeLimitMiddleware:
    """Refuse oversized bodies before anything reads them (Django only checks `request.body`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, _("Invalid Content-Length header."))
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return error_response(
                413,
                _("Request body too large: %(size)d bytes, the limit is %(limit)d.") % {"size": length, "limit": limit},
            )
        return self.get_response(request)


class JSONErrorMiddleware:
    """Rewrite plain-text or HTML error responses (405 from Django views, CSRF 403...) as JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code not in JSON_ERROR_STATUSES:
            return response
        if response.get("Content-Type", "").startswith("application/json") or getattr(response, "streaming", False):
            return response
        if not wants_json(request):
            return response
        messages = {
            400: _("Bad request."),
            401: _("Authentication credentials were not provided."),
            403: _("You do not have permission to perform this action."),
            404: _("Not found."),
            405: _("Method %(method)s not allowed.") % {"method": request.method},
            413: _("Request body too large."),
            429: _("Too many requests."),
            500: _("Internal server error."),
            503: _("Service unavailable."),
            507: _("Not enough free disk space."),
        }
        new = error_response(response.status_code, messages[response.status_code])
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                new[header] = response[header]
        return new
