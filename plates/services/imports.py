"""Import and export of named lists as CSV (up to 100,000 plates): a preview of what changes
(added, removed, changed) before it is applied, then one `put_on_list`. The formats are
`plates.csvformat` (plain `plate,owner,valid_from,valid_until,notes`, or the camera's own export)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from cameras.models import Camera
from lprnvr.errors import InputRefused

from ..csvformat import CsvError, ListRow, parse_list_csv
from ..models import CameraPlate, ListEntry, PlateJob, PlateList, Source
from .lists import EntrySpec, put_on_list

MAX_IMPORT = 100_000
SAMPLE = 20  # plates named per kind of change in a preview


@dataclass(frozen=True)
class ListPreview:
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int
    invalid: list[str]

    def as_dict(self) -> dict:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "invalid": len(self.invalid),
            "samples": {
                "added": self.added[:SAMPLE],
                "removed": self.removed[:SAMPLE],
                "changed": self.changed[:SAMPLE],
                "invalid": self.invalid[:SAMPLE],
            },
        }


def read_list_file(data: bytes, *, field: str = "file") -> tuple[list[ListRow], list[str]]:
    """The file's rows (400 naming `field` when it is no list, or longer than MAX_IMPORT)."""
    try:
        rows, bad = parse_list_csv(data)
    except CsvError as exc:
        raise InputRefused(str(exc), field=field, reasons=[str(exc)]) from exc
    if len(rows) > MAX_IMPORT:
        message = _("At most %(max)d plates per file (this one has %(n)d).") % {"max": MAX_IMPORT, "n": len(rows)}
        raise InputRefused(message, field=field, reasons=[message])
    return rows, bad


def preview_list_import(*, plate_list: PlateList, rows: list[ListRow], replace: bool, invalid=()) -> ListPreview:
    """What importing `rows` would do to the list: plates added, removed (with `replace`), changed
    (owner, notes or validity), and unchanged. Reads only."""
    current = {
        number: rest
        for number, *rest in ListEntry.objects.filter(plate_list=plate_list)
        .values_list("plate__number", "owner", "notes", "valid_from", "valid_until")
        .iterator(chunk_size=20_000)
    }
    added, changed, unchanged = [], [], 0
    for r in rows:
        was = current.get(r.number)
        if was is None:
            added.append(r.number)
        elif was != [r.owner, r.notes, r.valid_from, r.valid_until]:
            changed.append(r.number)
        else:
            unchanged += 1
    removed = sorted(set(current) - {r.number for r in rows}) if replace else []
    return ListPreview(sorted(added), removed, sorted(changed), unchanged, list(invalid))


@transaction.atomic
def import_into_list(
    *, plate_list: PlateList, rows: list[ListRow], replace: bool, user=None, source: str = Source.API
) -> PlateJob | None:
    """Apply a file to a list (entries keep their weekly schedules): one job for every camera it reaches."""
    entries = [EntrySpec(r.number, r.owner, r.notes, r.valid_from, r.valid_until, schedule=None) for r in rows]
    return put_on_list(plate_list=plate_list, entries=entries, replace=replace, user=user, source=source)


def list_rows(plate_list: PlateList):
    """The list's plates as export rows, in plate order, streamed from the database."""
    entries = (
        ListEntry.objects.filter(plate_list=plate_list)
        .order_by("plate__number")
        .values_list("plate__number", "owner", "notes", "valid_from", "valid_until")
    )
    for number, owner, notes, start, end in entries.iterator(chunk_size=10_000):
        yield ListRow(number, owner, notes, start, end)


def camera_rows(camera: Camera):
    """A camera's effective list (what it must hold, derived: allow and block), as export rows."""
    lines = CameraPlate.objects.filter(camera=camera, desired=True).select_related("plate").order_by("plate__number")
    for line in lines.iterator(chunk_size=10_000):
        spec = line.spec()
        yield ListRow(spec.plate, line.plate.owner, "", spec.valid_from, spec.valid_until, kind=spec.list_type)
