"""Reads about streams and recordings, for /stats and the camera status."""

from __future__ import annotations


def media_stats() -> dict:
    """Counts of live streams and recordings. The media engine fills these in."""
    return {"active_streams": 0, "active_recordings": 0, "recordings": 0}
