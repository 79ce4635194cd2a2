"""What each plate operation means on one camera, over an `ISAPIClient` (no ORM here).

All of it is idempotent: every operation reads the camera first and only sends what is missing,
so a redelivered job changes nothing.

- present: exactly one record of the plate, with our list type and validity (duplicates removed);
- absent: no record of exactly that plate (substring matches untouched), confirmed by a second search;
- rename: old absent, new present once, keeping the old record's list type and validity.

Progress is reported per plate through `report(outcomes)` as soon as a batch is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .clients.isapi import (
    DEFAULT_END,
    DEFAULT_START,
    FAMILY_A,
    ISAPIClient,
    PermanentError,
    PlateRecord,
    PlateSpec,
)


@dataclass(frozen=True)
class Outcome:
    plate: str
    ok: bool
    detail: str = ""
    error: str = ""


Report = Callable[[list[Outcome]], None]


class Unconfirmed(PermanentError):
    """The camera said OK but a second search shows the change did not happen."""


def group(records: Iterable[PlateRecord]) -> dict[str, list[PlateRecord]]:
    out: dict[str, list[PlateRecord]] = {}
    for record in records:
        out.setdefault(record.plate, []).append(record)
    return out


def read_records(client: ISAPIClient, plates: list[str], search_each_max: int) -> dict[str, list[PlateRecord]]:
    """The camera's records of exactly these plates: one search each for a few, the whole list for many."""
    if len(plates) <= search_each_max:
        return {p: client.find(p) for p in plates}
    wanted = set(plates)
    return {p: recs for p, recs in group(client.list_all()).items() if p in wanted}


def matches(record: PlateRecord, spec: PlateSpec) -> bool:
    return (
        record.list_type == spec.list_type
        and record.valid_from == (spec.valid_from or DEFAULT_START)
        and record.valid_until == (spec.valid_until or DEFAULT_END)
    )


def _put_batches(client: ISAPIClient, specs: list[PlateSpec], report: Report, detail: str) -> None:
    """Add records in batches; a batch the camera refuses is retried one record at a time so the
    refusal lands on the plate that caused it."""
    size = client.batch_size
    for i in range(0, len(specs), size):
        batch = specs[i : i + size]
        try:
            client.put_records([client._record(s) for s in batch])
        except PermanentError as exc:
            if len(batch) == 1 or exc.http_status == 401:
                if exc.http_status == 401:
                    raise
                report([Outcome(batch[0].plate, False, error=str(exc))])
                continue
            for spec in batch:
                try:
                    client.put_records([client._record(spec)])
                    report([Outcome(spec.plate, True, detail)])
                except PermanentError as one:
                    if one.http_status == 401:
                        raise
                    report([Outcome(spec.plate, False, error=str(one))])
            continue
        report([Outcome(s.plate, True, detail) for s in batch])


def ensure_present(
    client: ISAPIClient,
    specs: list[PlateSpec],
    report: Report,
    *,
    search_each_max: int = 10,
    current: dict[str, list[PlateRecord]] | None = None,
) -> None:
    """Each plate present exactly once with its list type and validity."""
    plates = [s.plate for s in specs]
    if current is None:
        current = read_records(client, plates, search_each_max)  # also tells the family (namespace)
    client.detect_family()
    to_add: list[PlateSpec] = []
    to_update: list[tuple[PlateRecord, PlateSpec]] = []
    duplicates: dict[str, list[PlateRecord]] = {}
    already: list[Outcome] = []
    for spec in specs:
        records = current.get(spec.plate, [])
        if not records:
            to_add.append(spec)
            continue
        keep = records[0]
        if len(records) > 1:
            duplicates[spec.plate] = records[1:]
        if not matches(keep, spec):
            to_update.append((keep, spec))
        elif len(records) == 1:
            already.append(Outcome(spec.plate, True, "already present"))
    if already:
        report(already)
    if duplicates:
        extra = [r for recs in duplicates.values() for r in recs]
        client.delete_records(extra)
        again = read_records(client, list(duplicates), search_each_max)
        for plate in duplicates:
            if len(again.get(plate, [])) != 1:
                kept = len(again.get(plate, []))
                raise Unconfirmed(f"camera kept {kept} records of {plate} after removing duplicates")
    for record, spec in to_update:
        client.update(record, spec)
    done = [
        Outcome(s.plate, True, f"{len(duplicates[s.plate])} duplicate(s) removed")
        for s in specs
        if s.plate in duplicates
    ]
    done += [Outcome(s.plate, True, "updated") for r, s in to_update if s.plate not in duplicates]
    if done:
        report(done)
    _put_batches(client, to_add, report, "added")


def ensure_absent(
    client: ISAPIClient,
    plates: list[str],
    report: Report,
    *,
    search_each_max: int = 10,
    current: dict[str, list[PlateRecord]] | None = None,
) -> None:
    """No record of exactly these plates, confirmed by searching again (the device may say OK and
    delete nothing)."""
    if current is None:
        current = read_records(client, plates, search_each_max)
    client.detect_family()
    absent = [Outcome(p, True, "was not on the camera") for p in plates if not current.get(p)]
    if absent:
        report(absent)
    pending = {p: current[p] for p in plates if current.get(p)}
    for _round in range(2):
        if not pending:
            return
        client.delete_records([r for recs in pending.values() for r in recs])
        again = read_records(client, list(pending), search_each_max)
        gone = [p for p in pending if not again.get(p)]
        report([Outcome(p, True, "deleted") for p in gone])
        pending = {p: again[p] for p in pending if again.get(p)}
    report([Outcome(p, False, error="the camera answered OK but the record is still there") for p in pending])


def rename(client: ISAPIClient, old: str, new: str, fallback: PlateSpec, report: Report) -> None:
    """Old gone, new present once; the old record's list type and validity carry over."""
    old_records = client.find(old)
    new_records = client.find(new)
    family = client.detect_family()
    if not old_records:
        if not new_records:
            spec = PlateSpec(new, fallback.list_type, fallback.valid_from, fallback.valid_until)
            client.put_records([client._record(spec)])
            report([Outcome(old, True, "old plate not on the camera; new plate added")])
            return
        if len(new_records) > 1:
            client.delete_records(new_records[1:])
        report([Outcome(old, True, "already renamed")])
        return
    first = old_records[0]
    spec = PlateSpec(
        new,
        first.list_type,
        first.valid_from or fallback.valid_from,
        first.valid_until or fallback.valid_until,
    )
    stale = list(new_records[1:])
    if family == FAMILY_A and not new_records:
        client.update(first, spec)  # in place: the record keeps its id
        stale += old_records[1:]
    else:
        if not new_records:
            client.put_records([client._record(spec)])
        stale += old_records
    if stale:
        client.delete_records(stale)
    left_old, left_new = client.find(old), client.find(new)
    if left_old or len(left_new) != 1:
        raise Unconfirmed(
            f"after renaming {old} to {new} the camera has {len(left_old)} record(s) of {old} "
            f"and {len(left_new)} of {new}"
        )
    report([Outcome(old, True, f"renamed to {new}")])


def drift(
    desired: dict[str, PlateSpec], removals: set[str], state: dict[str, list[PlateRecord]]
) -> dict[str, list[str]]:
    """How a camera's list differs from what we want: plates missing, unexpected (on the camera and
    not in its list here), to remove (marked for removal and still there), duplicated, or with
    another list type/validity."""
    present = set(state)
    return {
        "missing": sorted(set(desired) - present),
        "unexpected": sorted(present - set(desired) - removals),
        "to_remove": sorted(present & removals),
        "duplicates": sorted(p for p in present if len(state[p]) > 1 and p in desired),
        "mismatched": sorted(p for p in present & set(desired) if not matches(state[p][0], desired[p])),
    }
