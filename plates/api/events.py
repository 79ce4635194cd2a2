"""Listening mode's door: the camera POSTs its ANPR alert here (`multipart/form-data`, `anpr.xml` or
`ANPR.xml` plus pictures). Cameras cannot do Digest to us: the per-camera secret in the path is the
credential (stored hashed; access logs mask it, see lprnvr/redaction.py)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lprnvr.api import client_address

from ..events import sources

REFUSALS = {
    "unknown_camera": (403, "secret", gettext_lazy("Unknown camera or wrong secret.")),
    "wrong_secret": (403, "secret", gettext_lazy("Unknown camera or wrong secret.")),
}


@csrf_exempt  # a camera, not a browser: no session, no CSRF token
@require_POST
def push(request, camera_id: int, secret: str):
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.EVENTS_PUSH_MAX_BYTES:  # not read at all; counted only when the secret is right
        source, reason = sources.push_refusal(camera_id=camera_id, secret=secret, address=client_address(request))
        if source is None:
            status, field, message = REFUSALS[reason]
            return JsonResponse({field: [message]}, status=status)
        sources.count_rejected(camera_id=camera_id, reasons={"oversize": 1}, detail=f"push of {length} bytes")
        return JsonResponse({"body": [_("The request is too large.")]}, status=413)
    body = request.read(settings.EVENTS_PUSH_MAX_BYTES + 1)
    reason, created = sources.ingest_push(
        camera_id=camera_id,
        secret=secret,
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
        max_part=settings.EVENTS_MAX_PART_BYTES,
        address=client_address(request),
    )
    if reason in REFUSALS:
        status, field, message = REFUSALS[reason]
        return JsonResponse({field: [message]}, status=status)
    if reason:
        # Counted and logged; the camera gets a 400 naming what was wrong (it would not retry a 200).
        return JsonResponse({"body": [_("Not a usable ANPR alert: %(reason)s.") % {"reason": reason}]}, status=400)
    return JsonResponse({"stored": created})
