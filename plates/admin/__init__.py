"""Admin: plates with search and bulk actions (push to / remove from cameras, import CSV, delete
through removal jobs), jobs with their per-camera results inline, drift per camera, and backups listed,
downloadable and restorable; plate reads
read-only, with thumbnails. Administrators only (see `lprnvr.admin.RestrictedAdminMixin`)."""

from .backups import PlateBackupAdmin
from .devices import AnprCameraAdmin
from .events import AnprEventSourceAdmin
from .forms import CamerasForm, ImportForm
from .jobs import PlateJobAdmin, PlateJobCameraAdmin
from .lists import GateAdmin, PlateListAdmin, SiteAdmin, VisitorPassAdmin
from .plates import CameraPlateInline, PlateAdmin, job_links
from .reads import PlateReadAdmin

__all__ = [
    "AnprCameraAdmin",
    "AnprEventSourceAdmin",
    "CameraPlateInline",
    "CamerasForm",
    "GateAdmin",
    "ImportForm",
    "PlateAdmin",
    "PlateBackupAdmin",
    "PlateJobAdmin",
    "PlateJobCameraAdmin",
    "PlateListAdmin",
    "PlateReadAdmin",
    "SiteAdmin",
    "VisitorPassAdmin",
    "job_links",
]
