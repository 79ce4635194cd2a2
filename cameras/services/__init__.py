"""Camera services. Discovery: start a scan job, run it, store what it found, adopt it as cameras.

Views, the admin action, the `discover` command and the Celery tasks are thin callers of these.
Credentials never appear in logs, job rows, errors or API output (URLs are shown through `redact_url`).
"""

from .devices import AdoptionError, adopt, store_report
from .discovery import finish, requeue_stale_jobs, run_discovery_job, start_discovery, wait_for_job
from .inputs import InvalidCredentials, InvalidRange, parse_credentials, scan_key, validate_network_range
from .removal import DELETED, RETIRED, CameraHasFootage, footage_summary, has_history, remove_camera, retire_camera

__all__ = [
    "DELETED",
    "RETIRED",
    "AdoptionError",
    "CameraHasFootage",
    "InvalidCredentials",
    "InvalidRange",
    "adopt",
    "finish",
    "footage_summary",
    "has_history",
    "parse_credentials",
    "remove_camera",
    "requeue_stale_jobs",
    "retire_camera",
    "run_discovery_job",
    "scan_key",
    "start_discovery",
    "store_report",
    "validate_network_range",
    "wait_for_job",
]
