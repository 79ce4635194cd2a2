"""Visitor passes: "this plate, these gates, from now for 4 hours (or until a time)". On every lane
of the gates while the pass lasts; taken off all of them when it ends (the minute beat, or ending it
by hand), through the same derivation and convergence as the lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Gate
from lprnvr.errors import InputRefused

from ..models import PlateJob, Source, VisitorPass, clean_plate
from .derivation import apply_to_cameras, cameras_on_gates
from .jobs import upsert_plates
from .lists import ensure_may_change

MAX_PASS = timedelta(days=31)  # longer is a list entry with a validity window


@transaction.atomic
def create_pass(
    *,
    number: str,
    gates: list[Gate],
    starts_at: datetime | None = None,
    hours: float | None = None,
    ends_at: datetime | None = None,
    visitor: str = "",
    notes: str = "",
    user=None,
    source: str = Source.API,
    now: datetime | None = None,
) -> tuple[VisitorPass, PlateJob | None]:
    """A pass from `starts_at` (default now) for `hours` or until `ends_at`; a pass that has begun
    is pushed to the gates' lanes at once (one job), a later one by the beat when it begins."""
    now = now or timezone.now()
    if not gates:
        raise InputRefused(_("Name the gates."), field="gates", reasons=[_("A pass needs at least one gate.")])
    ensure_may_change(user=user, gates=gates)
    starts_at = starts_at or now
    if (hours is None) == (ends_at is None):
        raise InputRefused(_("Give hours or an end."), field="hours", reasons=[_("Give either hours or until.")])
    ends_at = ends_at or starts_at + timedelta(hours=hours)
    if ends_at <= starts_at or ends_at <= now:
        raise InputRefused(_("The pass ends before it starts."), field="ends_at", reasons=[_("The end must be later.")])
    if ends_at - starts_at > MAX_PASS:
        raise InputRefused(
            _("A pass lasts at most 31 days."), field="ends_at", reasons=[_("A pass lasts at most 31 days.")]
        )
    (plate,) = upsert_plates([clean_plate(number)], user=user)
    visitor_pass = VisitorPass.objects.create(
        plate=plate,
        visitor=visitor,
        notes=notes,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=user if getattr(user, "pk", None) else None,
    )
    visitor_pass.gates.set(gates)
    job = None
    if starts_at <= now:
        job = apply_to_cameras(camera_ids=cameras_on_gates([g.pk for g in gates]), user=user, source=source, now=now)
    return visitor_pass, job


@transaction.atomic
def end_pass(
    *, visitor_pass: VisitorPass, user=None, source: str = Source.API, now: datetime | None = None
) -> PlateJob | None:
    """End a pass now: taken off every lane of its gates (a pass not begun yet is just cancelled)."""
    now = now or timezone.now()
    gates = list(visitor_pass.gates.all())
    ensure_may_change(user=user, gates=gates)
    if visitor_pass.ends_at <= now:
        return None
    if visitor_pass.starts_at >= now:
        visitor_pass.starts_at = now - timedelta(seconds=1)
    visitor_pass.ends_at = visitor_pass.ended_at = now
    visitor_pass.save(update_fields=["starts_at", "ends_at", "ended_at"])
    return apply_to_cameras(camera_ids=cameras_on_gates([g.pk for g in gates]), user=user, source=source, now=now)
