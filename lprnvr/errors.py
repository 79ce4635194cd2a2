"""One JSON error shape for every error the system answers.

    {"error": "<human message>", "code": "<machine code>", "status": <http status>,
     "fields": {"<field>": ["<problem>", ...]}}        # "fields" only for input errors

DRF views go through `api_exception_handler`; plain Django views (and Django's own 404/500)
through the handlers below and `JSONErrorMiddleware`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    502: "bad_gateway",
    503: "unavailable",
    507: "insufficient_storage",
}


def error_body(status_code: int, message: str, code: str | None = None, fields: Any = None) -> dict:
    body: dict[str, Any] = {
        "error": str(message),
        "code": code or DEFAULT_CODES.get(status_code, "error"),
        "status": status_code,
    }
    if fields:
        body["fields"] = fields
    return body


def error_response(status_code: int, message: str, code: str | None = None, fields: Any = None) -> JsonResponse:
    return JsonResponse(error_body(status_code, message, code, fields), status=status_code)


class InsufficientStorage(exceptions.APIException):
    status_code = 507
    default_detail = gettext_lazy("Not enough free disk space.")
    default_code = "insufficient_storage"


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = gettext_lazy("The request conflicts with the current state.")
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = gettext_lazy("Service unavailable.")
    default_code = "unavailable"


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    from .visibility import OutOfScope

    if isinstance(exc, OutOfScope):
        fields = {"cameras": exc.cameras} if exc.cameras else None
        return Response(error_body(403, str(exc), "out_of_scope", fields), status=403)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 answers it
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        names = ", ".join(fields)
        message = _("Invalid input: %(fields)s.") % {"fields": names}
        response.data = error_body(response.status_code, message, "invalid", fields)
    else:
        if isinstance(detail, dict):  # simplejwt: {"detail": ..., "code": ..., "messages": [...]}
            detail = detail.get("detail") or next(iter(detail.values()), None)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        code = getattr(detail, "code", None) or getattr(exc, "default_code", None)
        if isinstance(exc.detail, dict) and exc.detail.get("code"):
            code = str(exc.detail["code"])
        message = str(detail) if detail is not None else HTTPStatus(response.status_code).phrase
        response.data = error_body(response.status_code, message, code)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    return response


def bad_request(request, exception=None):
    from .middleware import wants_json

    message = _("Bad request.")
    if not wants_json(request):
        return render(request, "400.html", {"message": message}, status=400)
    return error_response(400, message)


def permission_denied(request, exception=None):
    from .middleware import wants_json

    message = _("You do not have permission to perform this action.")
    if not wants_json(request):  # a person in a browser gets a page in their language
        return render(request, "403.html", {**_site_context(request), "message": message}, status=403)
    return error_response(403, message)


def _site_context(request) -> dict:
    """The admin site's header, user links and language selector for our error pages."""
    from django.contrib import admin

    return admin.site.each_context(request)


def page_not_found(request, exception=None):
    from .middleware import wants_json

    if not wants_json(request):
        return render(request, "404.html", {**_site_context(request), "message": _("Not found.")}, status=404)
    return error_response(404, _("Not found."))


def server_error(request):
    from .middleware import wants_json

    message = _("Internal server error.")
    if not wants_json(request):
        # A page of its own, without the admin's context: whatever failed (the database) may fail again.
        return render(request, "500.html", {"message": message}, status=500)
    return error_response(500, message)
