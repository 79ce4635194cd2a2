"""Plate services: change the desired lists, create jobs, and run one camera's part of a job.

A job is created with one row per camera (and one per plate) inside a transaction that also updates
the desired lists; one Celery task per camera is enqueued on commit, so cameras are worked on in
parallel and a lost message only delays work (the periodic convergence re-reads the desired lists).
"""

from __future__ import annotations

from .convergence import cameras_to_converge, converge_all, converge_camera, requeue_stalled
from .devices import (
    AuthBlocked,
    anpr_for,
    auth_block,
    backoff,
    camera_credentials,
    claim_camera,
    clear_auth_failure,
    client_for_camera,
    device_session,
    record_auth_failure,
    release_camera,
    remember_family,
    set_default_credentials,
)
from .jobs import (
    PLATE_FIELDS,
    Rename,
    assign_plates,
    create_job,
    delete_plates,
    push_plates,
    remove_plates,
    rename_plates,
    run_job_inline,
    sync_cameras,
    update_plate,
    upsert_plates,
    wait_for_job,
)
from .operations import EmptyListGuard, WipeGuard, check_wipe, desired_for
from .runner import RetryLater, finish_job_if_done, run_job_camera
from .scope import (
    NotAnprCapable,
    anpr_capable,
    cameras_holding,
    ensure_anpr_capable,
    ensure_confined,
    ensure_may_confirm_wipe,
    not_anpr_reason,
    reaches_everything,
)

__all__ = [
    "PLATE_FIELDS",
    "AuthBlocked",
    "EmptyListGuard",
    "NotAnprCapable",
    "Rename",
    "RetryLater",
    "WipeGuard",
    "anpr_capable",
    "anpr_for",
    "assign_plates",
    "auth_block",
    "backoff",
    "camera_credentials",
    "cameras_holding",
    "cameras_to_converge",
    "check_wipe",
    "claim_camera",
    "clear_auth_failure",
    "client_for_camera",
    "converge_all",
    "converge_camera",
    "create_job",
    "delete_plates",
    "desired_for",
    "device_session",
    "ensure_anpr_capable",
    "ensure_confined",
    "ensure_may_confirm_wipe",
    "finish_job_if_done",
    "not_anpr_reason",
    "push_plates",
    "reaches_everything",
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
    "update_plate",
    "upsert_plates",
    "wait_for_job",
]
