"""Reads about streams and recordings, for /stats and the camera status."""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import Now
from django.utils import timezone

from . import status, storage
from .models import LiveViewer, MediaChannel, MediaLease, MediaNode, ProcessState, Recording, Segment


def media_stats(user) -> dict:
    """Counts of cameras watched live, recordings running now, recordings kept, and media processes by
    state, over the cameras the user may see."""
    channels = MediaChannel.objects.visible_to(user).exclude(state=ProcessState.IDLE)
    states = dict(channels.values_list("state").annotate(n=Count("id")))
    return {
        "active_streams": LiveViewer.objects.visible_to(user).active().values("camera_id").distinct().count(),
        "active_recordings": Recording.objects.visible_to(user).active().count(),
        "recordings": Recording.objects.visible_to(user).count(),
        "media_processes": {state: states.get(state, 0) for state in ProcessState.values if state != ProcessState.IDLE},
        "media_nodes": media_nodes(user),
    }


def media_nodes(user) -> list[dict]:
    """The media nodes (administrators only): alive or not, draining, load, and the cameras each holds."""
    held: dict[str, list[int]] = {}
    leases = MediaLease.objects.exclude(node="").filter(expires_at__gt=Now()).order_by("camera_id")
    for camera_id, node in leases.values_list("camera_id", "node"):
        held.setdefault(node, []).append(camera_id)
    return [
        {
            "name": node.name,
            "alive": node.is_alive,
            "draining": node.draining,
            "channels": node.channels,
            "max_channels": node.max_channels,
            "url": node.url,
            "cameras": held.get(node.name, []),
            "seen_at": node.seen_at.isoformat() if node.seen_at else None,
        }
        for node in MediaNode.objects.visible_to(user)
    ]


def recording_status(camera) -> dict:
    """Seed 002's status of a camera, plus the state of its ffmpeg process."""
    active = Recording.objects.active().filter(camera=camera).order_by("start_time").first()
    channel = MediaChannel.objects.filter(camera=camera).first()
    continuous_running = bool(channel and channel.continuous and channel.state == ProcessState.RUNNING)
    return {
        "is_recording": active is not None or continuous_running,
        "elapsed_sec": int((timezone.now() - active.start_time).total_seconds()) if active else 0,
        "continuous": bool(channel and channel.continuous),
        "process": channel.state if channel else "idle",
        "last_error": channel.last_error if channel else "",
    }


def with_media_status(cameras):
    """Cameras annotated with what the camera list shows of their media (see `status.with_media_status`)."""
    return status.with_media_status(cameras)


def check_recordings_storage() -> None:
    """/health's "recordings" check: raises naming the fault (stable id first) when the root is unusable."""
    fault = storage.root_fault(indexed=Segment.objects.exists())
    if fault is not None:
        raise OSError(str(fault))
