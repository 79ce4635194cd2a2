"""The one place where ffmpeg and ffprobe command lines are built and run.

Raw process I/O only: argument lists (never a shell), timeouts, typed errors, no ORM. The RTSP URL
carries the camera's credentials: it goes into the argument list of the child and nowhere else.
Everything this module logs, raises or returns as text passes through `redact()`.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lprnvr.redaction import redact

# Audio codecs MP4 (and fMP4 HLS) can carry as they come; anything else (G.711, G.726, ADPCM, PCM,
# the usual camera audio) is transcoded to AAC or dropped, by policy. Video is never re-encoded.
MP4_AUDIO_CODECS = {"aac", "mp3", "ac3", "eac3"}
MP4_VIDEO_CODECS = {"h264", "hevc"}
# Argument the supervisor recognises its own children by in /proc (see `find_leftovers`).
MARKER_PREFIX = "lprnvr-media:"
SEGMENT_PATTERN = "%Y%m%dT%H%M%SZ.mp4"  # strftime, UTC (the child runs with TZ=UTC)
SEGMENT_LIST = "segments.csv"
PLAYLIST = "index.m3u8"


class FFmpegError(Exception):
    """ffmpeg/ffprobe failed; the message is already redacted."""


class ProbeError(FFmpegError):
    pass


class UnsupportedStream(FFmpegError):
    """The stream has no video that MP4 can hold without re-encoding."""


def redact_argv(argv: list[str]) -> str:
    return " ".join(redact(a) for a in argv)


@dataclass
class StreamInfo:
    video_codec: str
    width: int = 0
    height: int = 0
    has_b_frames: bool = False
    audio_codec: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StreamInfo:
        return cls(
            **{k: data[k] for k in ("video_codec", "width", "height", "has_b_frames", "audio_codec") if k in data}
        )


def _rtsp_input_args(url: str, socket_timeout: float) -> list[str]:
    args = (
        ["-rtsp_transport", "tcp", "-timeout", str(int(socket_timeout * 1_000_000))] if url.startswith("rtsp") else []
    )
    return [*args, "-i", url]


def probe_argv(url: str, *, binary: str = "ffprobe", socket_timeout: float = 5) -> list[str]:
    return [binary, "-v", "error", "-analyzeduration", "2000000", "-probesize", "2000000",
            *_rtsp_input_args(url, socket_timeout), "-show_streams", "-of", "json"]  # fmt: skip


def probe(url: str, *, binary: str = "ffprobe", timeout: float = 20, socket_timeout: float = 5) -> StreamInfo:
    """Codec, size, B-frames and audio of a stream (or a file). Raises ProbeError/UnsupportedStream."""
    try:
        done = subprocess.run(
            probe_argv(url, binary=binary, socket_timeout=socket_timeout),
            capture_output=True,
            timeout=timeout,
            text=True,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(f"ffprobe timed out after {timeout:g} s") from exc
    if done.returncode != 0:
        raise ProbeError(redact(last_error_line(done.stderr) or f"ffprobe exited with {done.returncode}"))
    streams = json.loads(done.stdout or "{}").get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise UnsupportedStream("no video stream")
    info = StreamInfo(
        video_codec=video.get("codec_name", ""),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        has_b_frames=bool(int(video.get("has_b_frames") or 0)),
        audio_codec=(audio or {}).get("codec_name", ""),
    )
    if info.video_codec not in MP4_VIDEO_CODECS:
        raise UnsupportedStream(f"video codec {info.video_codec!r} cannot be copied into MP4")
    return info


def _stream_maps(info: StreamInfo, unsupported_audio: str) -> list[str]:
    """Maps and codecs for one output: video always copied; audio copied, transcoded or dropped."""
    args = ["-map", "0:v:0", "-c:v", "copy"]
    if info.video_codec == "hevc":
        args += ["-tag:v", "hvc1"]  # the tag Apple players and browsers need for HEVC in MP4
    if info.audio_codec in MP4_AUDIO_CODECS:
        args += ["-map", "0:a:0", "-c:a", "copy"]
    elif info.audio_codec and unsupported_audio == "aac":
        args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", "32k", "-ac", "1"]
    return args


def channel_argv(
    url: str,
    *,
    info: StreamInfo,
    marker: str,
    segment_dir: Path,
    hls_dir: Path,
    segment_seconds: int = 10,
    hls_seconds: int = 1,
    hls_list_size: int = 6,
    socket_timeout: float = 5,
    unsupported_audio: str = "aac",
    binary: str = "ffmpeg",
) -> list[str]:
    """One RTSP connection, copied to MP4 recording segments and to live fMP4 HLS at once.

    - wall-clock timestamps: cameras send broken or jumping RTP clocks; segments are named and cut
      by the wall clock, so the index lines up with real time whatever the camera does;
    - `-segment_list ... csv`: ffmpeg appends a line per *completed* segment, which is how the
      supervisor learns a segment is final without probing it;
    - fMP4 HLS, not MPEG-TS: TS breaks on streams with B-frames (no dts on the first packets);
    - `-hls_start_number_source epoch`: media sequence numbers keep growing across restarts, so
      players do not go back in time after a reconnect.
    """
    maps = _stream_maps(info, unsupported_audio)
    return [
        binary, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-fflags", "+genpts+discardcorrupt", "-use_wallclock_as_timestamps", "1",
        *_rtsp_input_args(url, socket_timeout),
        *maps,
        "-metadata", f"comment={MARKER_PREFIX}{marker}",
        "-f", "segment", "-segment_time", str(segment_seconds), "-segment_atclocktime", "1",
        "-segment_format", "mp4", "-reset_timestamps", "1", "-strftime", "1",
        "-segment_list", str(segment_dir / SEGMENT_LIST), "-segment_list_type", "csv",
        "-segment_list_flags", "live",
        str(segment_dir / SEGMENT_PATTERN),
        *maps,
        "-f", "hls", "-hls_time", str(hls_seconds), "-hls_list_size", str(hls_list_size),
        "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
        "-hls_flags", "delete_segments+independent_segments+omit_endlist+temp_file+program_date_time",
        "-hls_start_number_source", "epoch", "-hls_delete_threshold", "2",
        "-hls_segment_filename", str(hls_dir / "s%d.m4s"),
        str(hls_dir / PLAYLIST),
    ]  # fmt: skip


def snapshot_argv(url: str, *, binary: str = "ffmpeg", socket_timeout: float = 5) -> list[str]:
    """One JPEG of a stream's first decodable frame, written to stdout."""
    return [binary, "-nostdin", "-hide_banner", "-loglevel", "error", *_rtsp_input_args(url, socket_timeout),
            "-frames:v", "1", "-an", "-f", "image2", "-c:v", "mjpeg", "-q:v", "4", "pipe:1"]  # fmt: skip


def snapshot(url: str, *, binary: str = "ffmpeg", timeout: float = 15, socket_timeout: float = 5) -> bytes:
    """A JPEG taken from a stream now. Raises FFmpegError (redacted) when none could be taken."""
    try:
        done = subprocess.run(
            snapshot_argv(url, binary=binary, socket_timeout=socket_timeout),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"no picture within {timeout:g} s") from exc
    except OSError as exc:
        raise FFmpegError(f"ffmpeg could not run: {exc.strerror or exc}") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\xff\xd8"):
        stderr = done.stderr.decode(errors="replace")
        raise FFmpegError(last_error_line(stderr) or f"ffmpeg exited with {done.returncode}")
    return done.stdout


def export_argv(
    concat_list: Path, output: Path, *, start_offset: float = 0, duration: float | None = None, binary: str = "ffmpeg"
) -> list[str]:
    """Join recording segments (concat demuxer list) into one MP4, moov first (fast start), no re-encoding."""
    # -ss before -i: with stream copy, seek to the keyframe at or before the start (never a broken first GOP).
    # The offset comes rounded to the millisecond (it travels in the segment's URL) and input seeking
    # lands on the keyframe at or before it: 5 ms later, a keyframe at 1.000078 s is not missed for
    # the one a GOP earlier (frames are 20 ms or more apart, keyframes a GOP apart).
    seek = ["-ss", f"{start_offset + 0.005:.3f}"] if start_offset > 0 else []
    limit = ["-t", f"{duration:.3f}"] if duration is not None else []
    return [
        binary, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *seek, "-f", "concat", "-safe", "0", "-i", str(concat_list), *limit,
        "-map", "0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(output),
    ]  # fmt: skip


def run_export(argv: list[str], *, timeout: float = 600) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"export timed out after {timeout:g} s") from exc
    if done.returncode != 0:
        raise FFmpegError(redact(last_error_line(done.stderr) or f"ffmpeg exited with {done.returncode}"))


# MPEG-TS timestamps of a playback playlist start here, not at 0: a first segment whose B-frames put
# its first dts before its first pts would otherwise be shifted alone, and collide with the next one.
TS_BASE_SECONDS = 10.0


def keyframe_times(path: Path, *, binary: str = "ffprobe", timeout: float = 20) -> list[float]:
    """Presentation times of the video keyframes of a media file, in seconds from its first frame.

    Reads packet headers only (no decoding): a few milliseconds for a 10 s segment.
    Raises ProbeError when ffprobe fails or times out.
    """
    argv = [binary, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
            "-of", "csv=p=0", str(path)]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(f"ffprobe timed out after {timeout:g} s") from exc
    if done.returncode != 0:
        raise ProbeError(redact(last_error_line(done.stderr) or f"ffprobe exited with {done.returncode}"))
    times, keys = [], []
    for line in done.stdout.splitlines():
        pts, _sep, flags = line.partition(",")
        try:
            value = float(pts)
        except ValueError:
            continue
        times.append(value)
        if "K" in flags:
            keys.append(value)
    # Relative to the first frame, as `-ss` counts (ffmpeg adds the file's start time to it).
    first = min(times, default=0.0)
    return sorted(k - first for k in keys)


def ts_remux_argv(path: Path, *, start_offset: float = 0, position: float = 0, binary: str = "ffmpeg") -> list[str]:
    """One recorded MP4 segment copied (never re-encoded) into MPEG-TS on stdout, for a playback playlist.

    `start_offset`: cut at this keyframe time of the file (the first segment of a playlist);
    `position`: where the segment sits in the playlist, so timestamps run on across segments.
    """
    # The offset comes rounded to the millisecond (it travels in the segment's URL) and input seeking
    # lands on the keyframe at or before it: 5 ms later, a keyframe at 1.000078 s is not missed for
    # the one a GOP earlier (frames are 20 ms or more apart, keyframes a GOP apart).
    seek = ["-ss", f"{start_offset + 0.005:.3f}"] if start_offset > 0 else []
    return [
        binary, "-nostdin", "-hide_banner", "-loglevel", "error",
        *seek, "-i", str(path), "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        "-output_ts_offset", f"{TS_BASE_SECONDS + position:.3f}", "-muxdelay", "0", "-muxpreload", "0",
        "-f", "mpegts", "pipe:1",
    ]  # fmt: skip


def run_remux(argv: list[str], *, timeout: float = 30) -> bytes:
    """Run a remux to stdout; its bytes. Raises FFmpegError (redacted) on failure or timeout."""
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"remux timed out after {timeout:g} s") from exc
    if done.returncode != 0 or not done.stdout:
        stderr = done.stderr.decode(errors="replace")
        raise FFmpegError(redact(last_error_line(stderr) or f"ffmpeg exited with {done.returncode}"))
    return done.stdout


class ProbeUnavailable(FFmpegError):
    """ffprobe gave no verdict (timed out, missing, crashed): the file may be fine; never delete on this."""


def file_duration(path: Path, *, binary: str = "ffprobe", timeout: float = 20) -> float | None:
    """Duration of a media file in seconds, or None when ffprobe says it is not a complete, readable file.

    Raises ProbeUnavailable when ffprobe could not answer: a slow disk or a missing binary is not a
    verdict on the file.
    """
    try:
        done = subprocess.run(
            [binary, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeUnavailable(f"ffprobe timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise ProbeUnavailable(f"ffprobe could not run: {exc.strerror or exc}") from exc
    if done.returncode < 0 or done.returncode > 1:
        # Killed by a signal, or an exit code that is not ffprobe's "invalid input" (1).
        raise ProbeUnavailable(f"ffprobe exited with {done.returncode}")
    if done.returncode == 1:
        return None
    try:
        duration = float(done.stdout.strip())
    except ValueError:
        return None
    return duration if duration > 0 else None


GENERIC_ENDINGS = ("Error opening input files", "Conversion failed", "Exiting normally", "Error parsing options")


def last_error_line(text: str) -> str:
    """The most telling line of ffmpeg's stderr: the last one that is not a generic closing line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = [line for line in lines if not line.startswith(GENERIC_ENDINGS)] or lines
    return redact(telling[-1])[:500] if telling else ""


_libc = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Fallback when setpriv is missing: own process group, SIGTERM when the parent dies."""
    os.setpgid(0, 0)
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(argv: list[str], *, log_path: Path) -> subprocess.Popen:
    """Start a long-running ffmpeg, stderr to `log_path`, tied to this process's life.

    The child gets its own process group and PR_SET_PDEATHSIG = SIGTERM, set by util-linux's `setpriv`
    (kept across exec), so it stops when the supervisor dies, even by SIGKILL; SIGTERM rather than
    SIGKILL so that ffmpeg closes the segment it is writing. PDEATHSIG follows the *thread* that forked:
    call this from the supervisor's main thread. (setpriv avoids a Python preexec_fn, which is unsafe
    while other threads, such as the probe pool, run.)
    """
    global _libc
    log_path.parent.mkdir(parents=True, exist_ok=True)
    setpriv = shutil.which("setpriv")
    options: dict = {"process_group": 0}
    if setpriv:
        argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
    else:
        if _libc is None:
            try:
                _libc = ctypes.CDLL("libc.so.6", use_errno=True)
            except OSError:
                _libc = None
        options = {"preexec_fn": _die_with_parent}
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "TZ": "UTC"},
            close_fds=True,
            **options,
        )


def find_leftovers(marker_prefix: str = MARKER_PREFIX) -> list[tuple[int, str]]:
    """(pid, marker) of ffmpeg processes a previous supervisor left running, found by their marker argument."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in argv:
            if arg.startswith(b"comment=" + marker_prefix.encode()):
                found.append((int(entry.name), arg.decode(errors="replace").split(":", 1)[1]))
                break
    return found


def read_log_tail(path: Path, limit: int = 4096) -> str:
    """The last error line of a child's log, redacted."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return last_error_line(text)
