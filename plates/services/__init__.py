"""Plate services: change the desired lists, create jobs, and run one camera's part of a job.

A job is created with one row per camera (and one per plate) inside a transaction that also updates
the desired lists; one Celery task per camera is enqueued on commit, so cameras are worked on in
parallel and a lost message only delays work (the periodic convergence re-reads the desired lists).
"""

from __future__ import annotations

from .convergence import cameras_to_converge, converge_all, converge_camera, requeue_stalled
from .devices import (
    anpr_for,
    auth_block,
    backoff,
    camera_credentials,
    claim_camera,
    clear_auth_failure,
    client_for_camera,
    record_auth_failure,
    release_camera,
    remember_family,
    set_default_credentials,
)
from .jobs import (
    Rename,
    _assign,
    _create_job,
    push_plates,
    remove_plates,
    rename_plates,
    run_job_inline,
    sync_cameras,
    upsert_plates,
    wait_for_job,
)
from .runner import EmptyListGuard, RetryLater, desired_for, finish_job_if_done, run_job_camera

__all__ = [
    "EmptyListGuard",
    "Rename",
    "RetryLater",
    "_assign",
    "_create_job",
    "anpr_for",
    "auth_block",
    "backoff",
    "camera_credentials",
    "cameras_to_converge",
    "claim_camera",
    "clear_auth_failure",
    "client_for_camera",
    "converge_all",
    "converge_camera",
    "desired_for",
    "finish_job_if_done",
    "push_plates",
    "record_auth_failure",
    "release_camera",
    "remember_family",
    "remove_plates",
    "rename_plates",
    "requeue_stalled",
    "run_job_camera",
    "run_job_inline",
    "set_default_credentials",
    "sync_cameras",
    "upsert_plates",
    "wait_for_job",
]
