"""Where recorded video lives, and whether that place can be trusted right now.

The recordings root is usually a disk of its own. When it is not mounted, its mount point is an
empty folder on the system disk: recording there fills the wrong disk, and reconciling the index
against it would forget every segment. So the root is checked before anything writes to it or
drops an index row, and a root that fails a check stops recording (see `root_fault`) instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

# Written in the root the first time it is prepared: a mount point without it is not our disk.
MARKER = ".lprnvr-recordings"
QUARANTINE = "quarantine"


def root() -> Path:
    return Path(settings.RECORDINGS_DIR)


def segment_dir(camera_id: int) -> Path:
    return root() / f"cam{camera_id}"


def quarantine_dir() -> Path:
    """Segment files ffprobe called broken: kept a while for a person to look at, never indexed."""
    return root() / QUARANTINE


def hls_dir(camera_id: int) -> Path:
    return Path(settings.HLS_OUTPUT_DIR) / f"cam{camera_id}"


def exports_dir() -> Path:
    return Path(settings.MEDIA_RUN_DIR) / "exports"


def instance_id() -> str:
    """Identifies this installation's children among processes (tests and benchmarks run side by side)."""
    return hashlib.sha1(str(root().resolve()).encode()).hexdigest()[:10]  # noqa: S324


def existing_ancestor(folder: Path) -> Path:
    """The folder itself, or its nearest parent that exists: where a folder not made yet will be."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def disk_usage(folder: Path | None = None):
    """`shutil.disk_usage` of the disk a folder is (or will be) on, the recordings root by default
    (never creates it): total, used and free bytes."""
    return shutil.disk_usage(existing_ancestor(folder or root()))


def disk_free(folder: Path | None = None) -> int:
    """Free bytes on the disk of a folder, the recordings root by default (never creates it)."""
    return disk_usage(folder).free


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under a folder (exports, quarantine): they count against the quota too."""
    total = 0
    if folder.is_dir():
        for path in folder.rglob("*"):
            try:
                total += path.stat().st_size if path.is_file() else 0
            except FileNotFoundError:
                continue
    return total


# --- root health ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StorageFault:
    """Why the recordings root cannot be used; `id` is stable (monitoring and docs refer to it)."""

    id: str
    message: str

    def __str__(self) -> str:
        return f"{self.id}: {self.message}"


ROOT_MISSING = "recordings.E001"
NOT_A_MOUNT = "recordings.E002"
MARKER_MISSING = "recordings.E003"
NOT_WRITABLE = "recordings.E004"
FILES_MISSING = "recordings.E005"


def fault_file() -> Path:
    return Path(settings.MEDIA_RUN_DIR) / "recordings-fault.json"


def root_fault(*, indexed: bool) -> StorageFault | None:
    """The first reason the recordings root is unusable, or None.

    `indexed`: whether the index holds segments. A root that is missing, or has no marker, is a
    fresh install when nothing is indexed (the supervisor creates it) and a lost disk otherwise.
    A fault the supervisor found by reconciling (most indexed files gone) is reported here too.
    """
    folder = root()
    if settings.RECORDINGS_REQUIRE_MOUNT and not os.path.ismount(folder):
        if not folder.is_dir():
            return StorageFault(ROOT_MISSING, _("The recordings folder %(path)s does not exist.") % {"path": folder})
        return StorageFault(
            NOT_A_MOUNT,
            _("%(path)s is not a mount point (RECORDINGS_REQUIRE_MOUNT): is the recordings disk mounted?")
            % {"path": folder},
        )
    if not folder.is_dir():
        if not indexed:
            return None
        return StorageFault(
            ROOT_MISSING,
            _("The recordings folder %(path)s does not exist, but segments are indexed: is the disk mounted?")
            % {"path": folder},
        )
    if indexed and not (folder / MARKER).is_file():
        return StorageFault(
            MARKER_MISSING,
            _("%(path)s has no %(marker)s marker, but segments are indexed: is the recordings disk mounted?")
            % {"path": folder, "marker": MARKER},
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return StorageFault(NOT_WRITABLE, _("The recordings folder %(path)s is not writable.") % {"path": folder})
    return reported_fault()


def prepare_root() -> None:
    """Create the root and its marker (call only when `root_fault` found nothing wrong)."""
    folder = root()
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if not marker.exists():
        marker.write_text("lprnvr recordings root: do not delete (its absence means the disk is not mounted)\n")


def report_fault(fault: StorageFault | None) -> None:
    """Remember (or clear) a fault only the supervisor can see, for /health in the web process."""
    path = fault_file()
    if fault is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"id": fault.id, "message": fault.message}))
    tmp.replace(path)


def reported_fault() -> StorageFault | None:
    try:
        data = json.loads(fault_file().read_text())
        return StorageFault(str(data["id"]), str(data["message"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
