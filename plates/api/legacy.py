"""The original LPR server's endpoints, unchanged for its clients: POST /AddPlate, /DeletePlate and
/UpdatePlate with `{"camaras": [...], "plates": [...]}` or `"old plate"`/`"new plate"` paired by position.

Authentication: HTTP Digest against our users (as `curl --digest` sends it) or a Bearer token. The
answer waits up to PLATES_LEGACY_WAIT seconds for the job: 200 with per-camera, per-plate results,
else 202 with the job's URL. Bad input is a 400 naming every offender, and nothing is sent.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import RevocableJWTAuthentication
from lprnvr.api import CanOperate

from .. import services
from ..models import Source, clean_plate
from ..selectors import resolve_cameras_for
from .authentication import DigestAuthentication
from .results import job_url, legacy_results

MAX_ITEMS = 5000


class LegacyInvalid(exceptions.ValidationError):
    pass


def _plates(value, field: str, errors: dict) -> list[str]:
    if not isinstance(value, list) or not value:
        errors[field] = [_("A non-empty list of plates is required.")]
        return []
    if len(value) > MAX_ITEMS:
        errors[field] = [_("At most %(n)d plates per request.") % {"n": MAX_ITEMS}]
        return []
    out, bad = [], []
    for item in value:
        try:
            out.append(clean_plate(item))
        except ValueError as exc:
            bad.append(f"{item!r}: {exc}")
    if bad:
        errors[field] = bad
    return out


class LegacyPlateView(APIView):
    authentication_classes = [DigestAuthentication, RevocableJWTAuthentication]
    permission_classes = [IsAuthenticated, CanOperate]
    operation = "add"

    def parse_body(self, request) -> dict:
        # The original server read the body as JSON whatever the Content-Type said.
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise LegacyInvalid({"body": [_("The body must be JSON.")]}) from exc
        if not isinstance(data, dict):
            raise LegacyInvalid({"body": [_("The body must be a JSON object.")]})
        return data

    def post(self, request):
        data = self.parse_body(request)
        errors: dict = {}
        refs = data.get("camaras")
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            errors["camaras"] = [_("A non-empty list of camera addresses is required.")]
            refs = []
        if self.operation == "rename":
            old = _plates(data.get("old plate"), "old plate", errors)
            new = _plates(data.get("new plate"), "new plate", errors)
            if "old plate" not in errors and "new plate" not in errors and len(old) != len(new):
                errors["new plate"] = [
                    _("%(new)d new plates for %(old)d old plates: they pair by position.")
                    % {"new": len(new), "old": len(old)}
                ]
            plates = []
        else:
            plates = _plates(data.get("plates"), "plates", errors)
        resolution = resolve_cameras_for(request.user, refs)
        if resolution.unknown:
            errors.setdefault("camaras", []).extend(
                _("Unknown camera: %(ref)s") % {"ref": ref} for ref in resolution.unknown
            )
        try:
            services.ensure_anpr_capable(resolution.cameras, generic_ok=True)
        except services.NotAnprCapable as exc:
            errors.setdefault("camaras", []).extend(exc.reasons)
        if errors:
            raise LegacyInvalid(errors)
        if resolution.forbidden:
            raise exceptions.PermissionDenied(
                _("You may not act on: %(refs)s") % {"refs": ", ".join(resolution.forbidden)}
            )
        with transaction.atomic():
            kwargs = {"cameras": resolution.cameras, "user": request.user, "source": Source.LEGACY}
            if self.operation == "add":
                job = services.push_plates(numbers=plates, **kwargs)
            elif self.operation == "delete":
                job = services.remove_plates(numbers=plates, **kwargs)
            else:
                renames = [services.Rename(o, n) for o, n in zip(old, new, strict=True)]
                job = services.rename_plates(renames=renames, **kwargs)
        job = services.wait_for_job(job, settings.PLATES_LEGACY_WAIT)
        body = legacy_results(job)
        if job.is_finished:
            return Response(body, status=200)
        response = Response(body, status=202)
        response["Location"] = job_url(job)
        return response


_body = inline_serializer(
    "LegacyPlatesRequest",
    {
        "camaras": serializers.ListField(child=serializers.CharField()),
        "plates": serializers.ListField(child=serializers.CharField()),
    },
)
_rename_body = inline_serializer(
    "LegacyUpdatePlateRequest",
    {
        "camaras": serializers.ListField(child=serializers.CharField()),
        "old plate": serializers.ListField(child=serializers.CharField()),
        "new plate": serializers.ListField(child=serializers.CharField()),
    },
)
_answer = inline_serializer(
    "LegacyPlatesResult",
    {
        "job": serializers.IntegerField(),
        "status": serializers.CharField(),
        "url": serializers.CharField(),
        "results": serializers.DictField(),
    },
)
_responses = {
    200: _answer,
    202: OpenApiResponse(_answer, description="Still running: poll `url`."),
    400: OpenApiResponse(description="Bad input; `fields` names each offender; nothing was sent."),
}


class AddPlateView(LegacyPlateView):
    operation = "add"

    @extend_schema(request=_body, responses=_responses, tags=["plates (legacy)"], operation_id="legacy_add_plate")
    def post(self, request):
        return super().post(request)


class DeletePlateView(LegacyPlateView):
    operation = "delete"

    @extend_schema(request=_body, responses=_responses, tags=["plates (legacy)"], operation_id="legacy_delete_plate")
    def post(self, request):
        return super().post(request)


class UpdatePlateView(LegacyPlateView):
    operation = "rename"

    @extend_schema(
        request=_rename_body, responses=_responses, tags=["plates (legacy)"], operation_id="legacy_update_plate"
    )
    def post(self, request):
        return super().post(request)
