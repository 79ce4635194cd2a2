"""Named lists: create them, put plates on and off them, assign them to gates and cameras.

Every change re-derives the desired lists of the cameras it reaches (before and after) and converges
those whose lines changed, in one job (`derivation.apply_to_cameras`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from cameras.models import Camera, Gate
from lprnvr.visibility import OutOfScope, is_admin

from ..models import ListAssignment, ListEntry, ListType, PlateJob, PlateList, Source, clean_plate
from .derivation import apply_to_cameras, cameras_reached_by
from .jobs import upsert_plates


@dataclass(frozen=True)
class EntrySpec:
    """A plate as a list holds it: number (normalised here), owner, notes, optional validity."""

    number: str
    owner: str = ""
    notes: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    # Weekly windows (`plates.schedules.clean_schedule`d); None: keep the entry's (an import's rows).
    schedule: list | None = field(default_factory=list)


def ensure_may_change(*, user, plate_list: PlateList | None = None, gates=(), cameras=()) -> None:
    """OutOfScope unless the user may change the list and act on these gates and cameras."""
    if user is None or is_admin(user):
        return
    if plate_list is not None and plate_list.pk and not PlateList.objects.manageable_by(user).filter(pk=plate_list.pk):
        raise OutOfScope(_("This list reaches cameras you may not manage."))
    gate_ids = {g.pk for g in gates}
    if gate_ids - set(Gate.objects.manageable_by(user).filter(pk__in=gate_ids).values_list("pk", flat=True)):
        raise OutOfScope(_("You may not act on some of these gates."))
    camera_ids = {c.pk for c in cameras}
    allowed = set(Camera.objects.manageable_by(user).filter(pk__in=camera_ids).values_list("pk", flat=True))
    if camera_ids - allowed:
        names = [c.address for c in cameras if c.pk not in allowed]
        raise OutOfScope(_("You may not act on these cameras."), cameras=names)


@transaction.atomic
def create_list(
    *, name: str, kind: str = ListType.ALLOW, notes: str = "", schedule: list | None = None, user=None
) -> PlateList:
    """A new list (assigned nowhere yet: no camera changes until it is)."""
    return PlateList.objects.create(
        name=name,
        kind=kind,
        notes=notes,
        schedule=list(schedule or []),
        created_by=user if getattr(user, "pk", None) else None,
    )


@transaction.atomic
def put_on_list(
    *, plate_list: PlateList, entries: list[EntrySpec], replace: bool = False, user=None, source: str = Source.API
) -> PlateJob | None:
    """Put plates on a list (an entry already there takes the new owner, notes and window); with
    `replace` the list becomes exactly these plates. One job converges every camera it reaches."""
    ensure_may_change(user=user, plate_list=plate_list)
    by_number = {clean_plate(e.number): e for e in entries}
    plates = upsert_plates(list(by_number), user=user)
    ListEntry.objects.bulk_create(
        [
            ListEntry(
                plate_list=plate_list,
                plate=p,
                owner=by_number[p.number].owner,
                notes=by_number[p.number].notes,
                valid_from=by_number[p.number].valid_from,
                valid_until=by_number[p.number].valid_until,
                schedule=list(by_number[p.number].schedule or []),
            )
            for p in plates
        ],
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["plate_list", "plate"],
        update_fields=["owner", "notes", "valid_from", "valid_until"]
        + (["schedule"] if any(e.schedule is not None for e in entries) else []),
    )
    if replace:
        ListEntry.objects.filter(plate_list=plate_list).exclude(plate__in=[p.pk for p in plates]).delete()
    plate_list.save(update_fields=["updated_at"])
    return apply_to_cameras(camera_ids=cameras_reached_by([plate_list.pk]), user=user, source=source)


@transaction.atomic
def take_off_list(*, plate_list: PlateList, numbers: list[str], user=None, source: str = Source.API) -> PlateJob | None:
    """Take plates off a list; cameras no other list (or entry of their own) keeps them on lose them."""
    ensure_may_change(user=user, plate_list=plate_list)
    ListEntry.objects.filter(plate_list=plate_list, plate__number__in=[clean_plate(n) for n in numbers]).delete()
    plate_list.save(update_fields=["updated_at"])
    return apply_to_cameras(camera_ids=cameras_reached_by([plate_list.pk]), user=user, source=source)


@transaction.atomic
def assign_list(
    *, plate_list: PlateList, gates: list[Gate] = (), cameras: list[Camera] = (), user=None, source: str = Source.API
) -> PlateJob | None:
    """Put a list on gates (every lane) and single cameras."""
    ensure_may_change(user=user, gates=gates, cameras=cameras)
    ListAssignment.objects.bulk_create(
        [ListAssignment(plate_list=plate_list, gate=g) for g in gates]
        + [ListAssignment(plate_list=plate_list, camera=c) for c in cameras],
        ignore_conflicts=True,
    )
    return apply_to_cameras(camera_ids=cameras_reached_by([plate_list.pk]), user=user, source=source)


@transaction.atomic
def unassign_list(
    *, plate_list: PlateList, gates: list[Gate] = (), cameras: list[Camera] = (), user=None, source: str = Source.API
) -> PlateJob | None:
    """Take a list off gates and cameras: their lanes lose what only this list gave them."""
    ensure_may_change(user=user, plate_list=plate_list, gates=gates, cameras=cameras)
    before = cameras_reached_by([plate_list.pk])
    ListAssignment.objects.filter(plate_list=plate_list, gate__in=list(gates)).delete()
    ListAssignment.objects.filter(plate_list=plate_list, camera__in=list(cameras)).delete()
    return apply_to_cameras(camera_ids=before, user=user, source=source)


@transaction.atomic
def change_list(*, plate_list: PlateList, changes: dict, user=None, source: str = Source.API) -> PlateJob | None:
    """Rename a list, change its notes, kind (allow/block) or weekly schedule: every camera it
    reaches converges."""
    ensure_may_change(user=user, plate_list=plate_list)
    for name in ("name", "kind", "notes", "schedule"):
        if name in changes:
            setattr(plate_list, name, changes[name])
    plate_list.save()
    return apply_to_cameras(camera_ids=cameras_reached_by([plate_list.pk]), user=user, source=source)


@transaction.atomic
def set_gate_lanes(*, gate: Gate, lanes: dict[int, str], user=None, source: str = Source.API) -> PlateJob | None:
    """Make these cameras (id -> direction) the gate's lanes; cameras that leave it leave its lists."""
    before = list(Camera.objects.filter(gate=gate).values_list("pk", flat=True))
    Camera.objects.filter(gate=gate).exclude(pk__in=list(lanes)).update(gate=None)
    for camera_id, direction in lanes.items():
        Camera.objects.filter(pk=camera_id).update(gate=gate, direction=direction)
    return apply_to_cameras(camera_ids=[*before, *lanes], user=user, source=source)


@transaction.atomic
def delete_list(*, plate_list: PlateList, user=None, source: str = Source.API) -> PlateJob | None:
    """Delete a list: every camera it reached loses what only it gave them."""
    ensure_may_change(user=user, plate_list=plate_list)
    before = cameras_reached_by([plate_list.pk])
    plate_list.delete()
    return apply_to_cameras(camera_ids=before, user=user, source=source)
