"""/health and /stats."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from cameras.models import Camera, DiscoveryJob
from lprnvr.monitoring.heartbeats import service_states, state_counts
from plates.models import FINAL, PlateJob
from recordings.selectors import check_recordings_storage, media_stats

from .broker import check_broker, queued_messages


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_disk() -> None:
    for folder in (settings.RECORDINGS_DIR, settings.VAR_DIR):
        if not folder.is_dir():
            continue  # never created here: a missing recordings root is the "recordings" check's failure
        free = shutil.disk_usage(folder).free
        if free < settings.DISK_FREE_FLOOR_BYTES:
            raise OSError(f"{free} bytes free under {folder}, below the floor of {settings.DISK_FREE_FLOOR_BYTES}")


def _check_ffmpeg() -> None:
    for binary in (settings.FFMPEG_BINARY, settings.FFPROBE_BINARY):
        if not shutil.which(binary):
            raise FileNotFoundError(f"{binary} not found")


CHECKS = {
    "database": _check_database,
    "broker": check_broker,
    "disk": _check_disk,
    "recordings": check_recordings_storage,
    "ffmpeg": _check_ffmpeg,
}


HEALTH_SCHEMA = inline_serializer(
    "Health",
    {"status": serializers.CharField(), "checks": serializers.DictField(), "failing": serializers.ListField()},
)
STATS_SCHEMA = inline_serializer(
    "Stats",
    {
        name: serializers.IntegerField()
        for name in ("cameras", "active_cameras", "users", "active_streams", "active_recordings", "recordings")
    }
    | {
        "queued_jobs": serializers.IntegerField(help_text="Plate and discovery jobs not finished yet."),
        "jobs": serializers.DictField(child=serializers.IntegerField()),
        "broker_messages": serializers.IntegerField(help_text="Task messages waiting in the broker."),
        "media_processes": serializers.DictField(child=serializers.IntegerField()),
        "media_nodes": serializers.ListField(
            child=serializers.DictField(),
            help_text="Administrators: each media node (name, alive, draining, channels, max_channels, url, "
            "cameras: the camera ids it records). Empty for other roles.",
        ),
        "services": serializers.DictField(
            child=serializers.IntegerField(), help_text="(service, host) pairs by heartbeat state: ok, stale, missing."
        ),
    },
)


class HealthView(APIView):
    """200 when every part works, 503 otherwise; no authentication needed. Anybody gets the status;
    an administrator also gets each check's detail (paths and byte counts are not for everyone) and
    each service's heartbeat state. A stale or missing service never makes this answer 503: /health
    says whether this web server can work (the container healthcheck restarts it when it cannot),
    and a dead media supervisor is no reason to restart the web server. Services are watched through
    /metrics (`lprnvr_service_up`), the dashboard and the alerts (`lprnvr.monitoring.heartbeats.stale_services`)."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(required=False, help_text="Administrators only."),
                    "services": serializers.ListField(
                        child=serializers.DictField(),
                        required=False,
                        help_text="Administrators only: each service on each host, state ok/stale/missing.",
                    ),
                },
            ),
            503: inline_serializer(
                "HealthFailing",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(required=False, help_text="Administrators only."),
                    "failing": serializers.ListField(required=False, help_text="Administrators only."),
                    "services": serializers.ListField(
                        child=serializers.DictField(), required=False, help_text="Administrators only."
                    ),
                },
            ),
        },
        tags=["monitoring"],
    )
    def get(self, request):
        checks: dict[str, dict] = {}
        for name, check in CHECKS.items():
            try:
                check()
                checks[name] = {"ok": True}
            except Exception as exc:  # each part reports its own failure
                checks[name] = {"ok": False, "error": str(exc) or exc.__class__.__name__}
        failing = [name for name, result in checks.items() if not result["ok"]]
        body: dict = {"status": "ok" if not failing else "failing"}
        if request.user and request.user.is_authenticated and request.user.is_admin:
            body["checks"] = checks
            body["services"] = [state.as_dict() for state in service_states()]
            if failing:
                body["failing"] = failing
        return Response(body, status=200 if not failing else 503)


def job_stats(user) -> dict:
    """Jobs a user can see that have not finished yet (their rows, whatever the broker holds)."""
    jobs = {
        "plates": PlateJob.objects.visible_to(user).exclude(status__in=FINAL).count(),
        "discovery": DiscoveryJob.objects.visible_to(user)
        .filter(status__in=[DiscoveryJob.Status.PENDING, DiscoveryJob.Status.RUNNING])
        .count(),
    }
    return {"queued_jobs": sum(jobs.values()), "jobs": jobs}


class StatsView(APIView):
    @extend_schema(
        responses={200: inline_serializer("Stats", {"cameras": serializers.IntegerField()})}, tags=["monitoring"]
    )
    def get(self, request):
        # Every count goes through the rows' own visibility rule: a viewer counts their cameras only.
        user = request.user
        cameras = Camera.objects.visible_to(user)
        return Response(
            {
                "cameras": cameras.count(),
                "active_cameras": cameras.filter(is_active=True).count(),
                "users": User.objects.visible_to(user).count(),
                **media_stats(user),
                **job_stats(user),
                "broker_messages": queued_messages(),
                "services": state_counts(),
            }
        )
