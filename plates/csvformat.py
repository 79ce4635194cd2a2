"""Plate lists as CSV: the cameras' own export (whatever its header's wording), our normalised form,
and the export the admin offers. Pure: bytes and rows in, records out; no database, no device."""

from __future__ import annotations

import csv
import io
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
