"""Playback of recorded video from any instant: a signed VOD HLS playlist over the segment index.

Segments are plain MP4 files (moov at the end, not fragmented), which HLS cannot reference as they
are. Each one is copied into MPEG-TS on request (`ffmpeg -c copy`, no re-encoding: about 0.1 s for a
10 s segment, see docs/playback.md), with timestamps that run on across the playlist, so hls.js,
ffplay and VLC play the playlist as given. Holes in the recording are EXT-X-DISCONTINUITY.

Starting within 1 s of the instant asked for: the first segment is cut at the keyframe at or before
it (players that ignore EXT-X-START begin there, at most one GOP early) and EXT-X-START points at
the instant itself (hls.js and Apple players start exactly there).

URLs carry a signed token (the camera, the user, the user's token generation, the instant), checked
on every file like the live HLS token, so any player plays them without headers until they expire
(PLAYBACK_URL_TTL) or the user loses the camera.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing

from . import storage, timeline
from .clients import ffmpeg
from .models import Segment

TOKEN_SALT = "recordings.playback"  # noqa: S105 (a signing salt, not a secret)
PLAYLIST = "index.m3u8"
SEGMENT_FILE = re.compile(r"^(\d{1,18})_(\d{1,9})_(\d{1,10})\.ts$")  # <segment id>_<cut ms>_<position ms>.ts


class NothingRecorded(Exception):
    """No indexed video from that instant on (within PLAYBACK_HOURS)."""


@dataclass(frozen=True)
class Claims:
    camera_id: int
    user_id: int
    generation: int
    start: datetime


def signed_token(*, camera_id: int, user, start: datetime) -> str:
    """A playback token: never logged (lprnvr.redaction masks signed values)."""
    data = {"c": camera_id, "u": user.id, "g": user.token_generation, "s": round(start.timestamp() * 1000)}
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def read_token(token: str) -> Claims | None:
    """The claims of a valid, unexpired playback token, else None."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.PLAYBACK_URL_TTL)
        start = datetime.fromtimestamp(int(data["s"]) / 1000, tz=UTC)
        return Claims(int(data["c"]), int(data["u"]), int(data["g"]), start)
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        return None


def playback_url(*, camera, user, start: datetime) -> str:
    return f"/api/nvr/vod/{signed_token(camera_id=camera.id, user=user, start=start)}/{PLAYLIST}"


def segments_from(camera_id: int, start: datetime) -> list[Segment]:
    """The indexed segments of a camera that end after `start`, up to PLAYBACK_HOURS later."""
    until = start + timedelta(hours=settings.PLAYBACK_HOURS)
    return list(
        Segment.objects.filter(
            camera_id=camera_id, start__gte=start - timeline.lookback(), start__lt=until, end__gt=start
        ).order_by("start")
    )


def first_frame_offset(segment: Segment, offset: float) -> float:
    """Time in the segment file of the keyframe at or before `offset` (0 when the file has none listed)."""
    if offset <= 0:
        return 0.0
    try:
        keyframes = ffmpeg.keyframe_times(
            storage.root() / segment.path, binary=settings.FFPROBE_BINARY, timeout=settings.MEDIA_PROBE_TIMEOUT
        )
    except ffmpeg.FFmpegError:
        return 0.0
    before = [k for k in keyframes if k <= offset + 0.001]
    return max(before) if before else 0.0


@dataclass(frozen=True)
class Playlist:
    text: str
    first_frame: datetime  # wall-clock time of the first frame a player decodes
    plays_from: datetime  # where EXT-X-START points (the instant asked, or the next recorded one)
    duration: float


def build_playlist(*, camera_id: int, start: datetime) -> Playlist:
    """The VOD playlist of a camera from `start` on. Raises NothingRecorded."""
    segments = segments_from(camera_id, start)
    if not segments:
        raise NothingRecorded
    first = segments[0]
    cut = first_frame_offset(first, (start - first.start).total_seconds())
    first_frame = first.start + timedelta(seconds=cut)
    plays_from = max(start, first_frame)
    tolerance = timedelta(seconds=settings.TIMELINE_GAP_TOLERANCE)
    entries, position, previous_end = [], 0.0, None
    for index, segment in enumerate(segments):
        cut_here = cut if index == 0 else 0.0
        duration = max(0.001, segment.duration - cut_here)
        if previous_end is not None and segment.start - previous_end > tolerance:
            entries.append("#EXT-X-DISCONTINUITY")
        wall = segment.start + timedelta(seconds=cut_here)
        entries.append(f"#EXT-X-PROGRAM-DATE-TIME:{wall.astimezone(UTC).isoformat(timespec='milliseconds')}")
        entries.append(f"#EXTINF:{duration:.3f},")
        entries.append(f"{segment.id}_{round(cut_here * 1000)}_{round(position * 1000)}.ts")
        position += duration
        previous_end = segment.end
    target = max(1, math.ceil(max(s.duration for s in segments)))
    offset = (plays_from - first_frame).total_seconds()
    head = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-INDEPENDENT-SEGMENTS"]  # fmt: skip
    if offset > 0:
        head.append(f"#EXT-X-START:TIME-OFFSET={offset:.3f},PRECISE=YES")
    text = "\n".join([*head, *entries, "#EXT-X-ENDLIST", ""])
    return Playlist(text=text, first_frame=first_frame, plays_from=plays_from, duration=position)


def segment_ts(*, camera_id: int, name: str) -> bytes | None:
    """One playlist entry as MPEG-TS (a copy of the MP4 segment), or None when the name is not one of
    this camera's indexed segments (names are parsed, never joined into paths)."""
    match = SEGMENT_FILE.match(name)
    if match is None:
        return None
    segment_id, cut_ms, position_ms = (int(g) for g in match.groups())
    segment = Segment.objects.filter(id=segment_id, camera_id=camera_id).first()
    if segment is None or cut_ms > segment.duration * 1000:
        return None
    path: Path = storage.root() / segment.path
    if not path.is_file():
        return None
    argv = ffmpeg.ts_remux_argv(path, start_offset=cut_ms / 1000, position=position_ms / 1000,
                                binary=settings.FFMPEG_BINARY)  # fmt: skip
    return ffmpeg.run_remux(argv, timeout=settings.MEDIA_PROBE_TIMEOUT)
