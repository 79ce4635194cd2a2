"""Plates, the list each camera should hold, the jobs that make cameras hold it, and backups.

Desired state lives here: `CameraPlate` rows say which plates each camera must hold (and, with
`desired=False`, which it must not). Jobs (`PlateJob` > `PlateJobCamera` > `PlateJobItem`) record
every attempt to make a camera match, with who asked, when, and what each camera answered: the audit
trail. A camera that misses a job (off line) is brought in line by the periodic convergence.

One module per concept: `lists` (plates, desired lists), `jobs`, `devices` (ANPR cameras, backups),
`digest` (legacy HTTP Digest), `reads` (the cameras' plate reads), `events` (where reads come from).
Everything is importable from here.
"""

from .access import ListAssignment, ListEntry, PlateList, VisitorPass
from .devices import AnprCamera, DefaultCameraCredentials, PlateBackup
from .digest import DigestCredential, DigestNonce
from .events import AnprEventSource, EventMode, EventState, RefusedPush
from .jobs import (
    FINAL,
    Operation,
    PlateJob,
    PlateJobCamera,
    PlateJobItem,
    PlateJobItemQuerySet,
    PlateJobQuerySet,
    Source,
    Status,
)
from .lists import PLATE_RE, CameraPlate, ListType, Plate, PlateQuerySet, clean_plate
from .reads import FUZZY_FOLD, CameraVerdict, OurVerdict, PlateRead, ReadSource, is_flagged, plate_key

__all__ = [
    "FINAL",
    "FUZZY_FOLD",
    "PLATE_RE",
    "AnprCamera",
    "AnprEventSource",
    "CameraPlate",
    "CameraVerdict",
    "DefaultCameraCredentials",
    "DigestCredential",
    "DigestNonce",
    "EventMode",
    "EventState",
    "ListAssignment",
    "ListEntry",
    "ListType",
    "Operation",
    "OurVerdict",
    "Plate",
    "PlateBackup",
    "PlateJob",
    "PlateJobCamera",
    "PlateJobItem",
    "PlateJobItemQuerySet",
    "PlateJobQuerySet",
    "PlateList",
    "PlateQuerySet",
    "PlateRead",
    "ReadSource",
    "RefusedPush",
    "Source",
    "Status",
    "VisitorPass",
    "clean_plate",
    "is_flagged",
    "plate_key",
]
