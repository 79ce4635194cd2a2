"""The minute beat of schedules and visitor passes: what the firmware cannot express (weekly hours,
a pass of a few hours), the server does, by re-deriving the cameras those reach and converging the
ones whose lines changed. The cameras' validity fields carry the dates; the beat flips the hours.

A camera that was off line at a boundary is brought in line by the periodic convergence when it
returns (its desired lines were changed all the same). The beat is late by at most its period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import ListEntry, PlateJob, PlateList, Source, VisitorPass
from .derivation import apply_to_cameras, cameras_on_gates, cameras_reached_by


def scheduled_cameras(now: datetime) -> list[int]:
    """Cameras whose lines can change with the clock: reached by a list (or entry) with a weekly
    schedule, or on a gate of a pass that has not been taken off yet."""
    lists = set(PlateList.objects.exclude(schedule=[]).values_list("pk", flat=True))
    lists |= set(ListEntry.objects.exclude(schedule=[]).values_list("plate_list_id", flat=True).distinct())
    cameras = set(cameras_reached_by(sorted(lists)))
    gates = VisitorPass.objects.filter(ended_at__isnull=True, starts_at__lte=now + timedelta(minutes=1))
    cameras |= set(cameras_on_gates(gates.values_list("gates", flat=True).distinct()))
    return sorted(cameras)


@transaction.atomic
def tick(*, now: datetime | None = None) -> PlateJob | None:
    """One beat: re-derive every camera the clock can change as of `now` (the test's clock, or
    the time) and converge those whose lines changed, in one job; passes that ended are marked."""
    now = now or timezone.now()
    job = apply_to_cameras(camera_ids=scheduled_cameras(now), source=Source.SCHEDULE, now=now)
    VisitorPass.objects.filter(Q(ends_at__lte=now), ended_at__isnull=True).update(ended_at=now)
    return job
