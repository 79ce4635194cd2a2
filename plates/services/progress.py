"""A job camera's per-plate rows (`PlateJobItem`), updated a batch at a time as the camera answers."""

from __future__ import annotations

import time

from django.db import connection
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import reconcile
from ..models import PlateJobCamera, PlateJobItem, Status
from .devices import CameraLease


class JobItems:
    """Per-plate rows of one job camera, updated a batch at a time."""

    def __init__(self, job_camera: PlateJobCamera, lease: CameraLease | None = None):
        self.job_camera = job_camera
        self.lease = lease
        self._pending: list[reconcile.Outcome] = []
        self._flushed = time.monotonic()

    def open(self):
        return (
            PlateJobItem.objects.filter(job_camera=self.job_camera)
            .order_by("id")
            .exclude(status__in=[Status.SUCCEEDED, Status.FAILED])
        )

    def start_attempt(self) -> None:
        now = timezone.now()
        self.open().update(status=Status.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce("started_at", now))

    def report(self, outcomes: list[reconcile.Outcome]) -> None:
        """Record outcomes; written in one UPDATE per kind of result at most every FLUSH_SECONDS or
        FLUSH_ITEMS (progress stays live without a statement per batch). Renews the camera's lease
        as the work goes on, and stops the attempt (LeaseLost) if another job has the camera now."""
        self._pending.extend(outcomes)
        if self.lease is not None:
            self.lease.keep()
        if len(self._pending) >= self.FLUSH_ITEMS or time.monotonic() - self._flushed >= self.FLUSH_SECONDS:
            self.flush()

    FLUSH_ITEMS = 500
    FLUSH_SECONDS = 0.5

    def flush(self) -> None:
        outcomes, self._pending = self._pending, []
        self._flushed = time.monotonic()
        if not outcomes:
            return
        now = timezone.now()
        by_result: dict[tuple, list[str]] = {}
        for o in outcomes:
            by_result.setdefault((o.ok, o.detail, o.error), []).append(o.plate)
        for (ok, detail, error), plates in by_result.items():
            self.open().filter(plate_in(plates)).update(
                status=Status.SUCCEEDED if ok else Status.FAILED,
                detail=detail[:200],
                last_error=error,
                finished_at=now,
            )

    def interrupt(self, status: str, error: str) -> None:
        self.flush()
        fields = {"status": status, "last_error": error}
        if status == Status.FAILED:
            fields["finished_at"] = timezone.now()
        self.open().update(**fields)


def plate_in(plates: list[str]) -> Q:
    """`plate IN (...)` for a batch of plates; on PostgreSQL one array parameter instead of one
    parameter per plate (the ORM prepares each of those: most of a batch update's CPU)."""
    if connection.vendor == "postgresql":
        table = PlateJobItem._meta.db_table
        sql = f'"{table}"."plate" = ANY(%s::varchar[])'  # our table name; the plates are a parameter
        return Q(RawSQL(sql, (list(plates),), output_field=BooleanField()))  # noqa: S611
    return Q(plate__in=plates)
