"""Plate lists as CSV: the cameras' own export (whatever its header's wording), our normalised form,
and the export the admin offers. Pure: bytes and rows in, records out; no database, no device."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from .clients import isapi


class CsvError(ValueError):
    """The file is not a plate list we can read (the message says why, for the person who sent it)."""


NORMALISED_HEADER = ["plate", "list_type", "valid_from", "valid_until"]


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_device_csv(data: bytes, *, default_list_type: str = isapi.ALLOW) -> list[isapi.PlateSpec]:
    """Records from a device export, whatever its header's wording (it differs by firmware).
    A file without a list column puts every plate on `default_list_type`; CsvError without a plate column."""
    text = data.decode("utf-8-sig", errors="replace")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]

    def col(*words: str) -> int | None:
        for i, h in enumerate(header):
            if any(w in h for w in words):
                return i
        return None

    plate_i = col("plate")
    if plate_i is None:
        raise CsvError(_("No plate column in the CSV header."))
    group_i = col("group", "belong", "list")
    start_i, end_i = col("start", "valid_from"), col("end", "valid_until")  # the device's, or ours
    specs: dict[str, isapi.PlateSpec] = {}
    for row in rows[1:]:
        if plate_i >= len(row):
            continue
        number = isapi.normalise_plate(row[plate_i])
        if not number:
            continue
        if group_i is not None and group_i < len(row):
            group = row[group_i].strip().lower()
            list_type = isapi.BLOCK if group in ("0", "blocklist", "blacklist", "block") else isapi.ALLOW
        else:
            list_type = default_list_type
        start = parse_date(row[start_i]) if start_i is not None and start_i < len(row) else None
        end = parse_date(row[end_i]) if end_i is not None and end_i < len(row) else None
        specs.setdefault(number, isapi.PlateSpec(number, list_type, start, end))
    return list(specs.values())


def normalised_csv(specs: list[isapi.PlateSpec]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NORMALISED_HEADER)
    for s in sorted(specs, key=lambda s: s.plate):
        writer.writerow([s.plate, s.list_type, s.valid_from or "", s.valid_until or ""])
    return out.getvalue().encode()


EXPORT_HEADER = [*NORMALISED_HEADER, "owner", "cameras"]


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, - or @ would be run as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(rows):
    """Our normalised CSV (what the import reads back) plus owner and camera names, streamed:
    `rows` yields (plate, camera names). UTF-8 with a BOM, so spreadsheets read it."""
    writer = csv.writer(Echo(), lineterminator="\n")
    yield "\ufeff" + writer.writerow(EXPORT_HEADER)
    for plate, cameras in rows:
        values = [plate.number, plate.list_type, plate.valid_from or "", plate.valid_until or "", plate.owner]
        yield writer.writerow([csv_cell(v) for v in [*values, "; ".join(cameras)]])


# --- Named lists: the plain form and the camera's own ---------------------------------------------

PLAIN_HEADER = ["plate", "owner", "valid_from", "valid_until", "notes"]
# The header the cameras export (and import back), REPORT §2.5.
DEVICE_HEADER = [
    "No.",
    "Plate No.",
    "Group(0 BlockList, 1 AllowList)",
    "Effective Start Date (Format: YYYY-MM-DD, e.g., 2017-12-07)",
    "Effective End Date (Format: YYYY-MM-DD, e.g., 2017-12-07)",
]
DEVICE_START, DEVICE_END = "2000-01-01", "2037-12-31"  # open ends, as a camera file must say them


@dataclass(frozen=True)
class ListRow:
    """One plate of a list file: number (normalised), owner, notes, validity."""

    number: str
    owner: str = ""
    notes: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    kind: str = ""  # a camera's effective list mixes allow and block; a named list's rows say none


def parse_list_csv(data: bytes) -> tuple[list[ListRow], list[str]]:
    """The rows of a list file, plain (`plate,owner,valid_from,valid_until,notes`) or as a camera
    exports it (the columns are found by their header's words); and the cells that are no plate.
    A plate twice keeps its first row. CsvError without a plate column."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]

    def col(*words: str) -> int | None:
        for i, h in enumerate(header):
            if any(w in h for w in words):
                return i
        return None

    plate_i = col("plate")
    if plate_i is None:
        raise CsvError(_("No plate column in the CSV header."))
    owner_i, notes_i = col("owner"), col("notes")
    start_i, end_i = col("start", "valid_from"), col("end", "valid_until")
    rows: dict[str, ListRow] = {}
    bad: list[str] = []

    def cell(row, i):
        return row[i].strip() if i is not None and i < len(row) else ""

    for row in reader:
        raw = cell(row, plate_i)
        if not raw:
            continue
        number = isapi.normalise_plate(raw)
        if not PLATE_CELL.match(number):
            bad.append(raw)
            continue
        start, end = parse_date(cell(row, start_i)), parse_date(cell(row, end_i))
        # A camera's "for ever" (2037-12-31, 5000-12-01) and "since ever" are open ends here.
        start = None if start and start <= isapi.DEFAULT_START else start
        end = None if end and end >= isapi.DEFAULT_END else end
        rows.setdefault(number, ListRow(number, cell(row, owner_i)[:200], cell(row, notes_i), start, end))
    return list(rows.values()), bad


PLATE_CELL = re.compile(r"^[^\W_]{2,16}$")


def list_rows_csv(rows, *, device: bool = False, kind: str = isapi.ALLOW):
    """A list as CSV, streamed: plain (what `parse_list_csv` reads back), or in the camera's own
    export format (`device`: its header, group by `kind`, open ends as the camera writes them)."""
    writer = csv.writer(Echo(), lineterminator="\r\n" if device else "\n")
    if device:
        yield "\ufeff" + writer.writerow(DEVICE_HEADER)
        for n, r in enumerate(rows, 1):
            group = "1" if (r.kind or kind) == isapi.ALLOW else "0"
            start = r.valid_from.isoformat() if r.valid_from else DEVICE_START
            end = r.valid_until.isoformat() if r.valid_until else DEVICE_END
            yield writer.writerow([n, r.number, group, start, end])
        return
    yield "\ufeff" + writer.writerow(PLAIN_HEADER)
    for r in rows:
        values = [r.number, r.owner, r.valid_from or "", r.valid_until or "", r.notes]
        yield writer.writerow([csv_cell(v) for v in values])
