"""A minimal RTSP server for benchmarks: loops a pre-encoded H.264 clip to any number of clients, live pace.

For machines without GStreamer (bench/media_channels.py --source clip). ffmpeg cannot serve RTSP to a
player (its RTSP muxer only publishes), so this serves it: one process, one clock, every client gets the
same RTP packets (RTP over the RTSP TCP connection, `-rtsp_transport tcp`, as the media engine uses), each
starting at the next keyframe. Only 127.0.0.1. The clip is an Annex B H.264 elementary stream with an
access unit delimiter before every frame and SPS/PPS before every keyframe (libx264 `aud=1:repeat-headers=1`);
`make_clip()` writes one.

    python bench/rtsp_clip_server.py --clip clip.h264 --port 18654   # prints "ready" once listening
    ffprobe -rtsp_transport tcp rtsp://127.0.0.1:18654/stream1       # any path serves the clip
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

MTU = 1400
CLOCK = 90000


def make_clip(ffmpeg: str, out: Path, *, size: str, fps: int, kbps: int, seconds: int) -> Path:
    """Encode a test pattern: H.264, no B-frames, a keyframe every second, constant-ish bitrate."""
    subprocess.run(
        [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-bf", "0",
         "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0",
         "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
         "-x264-params", "aud=1:repeat-headers=1", "-f", "h264", str(out)],
        check=True, timeout=300,
    )  # fmt: skip
    return out


def split_nals(data: bytes) -> list[bytes]:
    """NAL units of an Annex B stream, start codes removed."""
    nals, i = [], data.find(b"\x00\x00\x01")
    while i != -1:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j == -1 else j
        nal = data[start:end]
        if j != -1 and nal.endswith(b"\x00"):  # a 4-byte start code's leading zero
            nal = nal.rstrip(b"\x00")
        if nal:
            nals.append(nal)
        i = j
    return nals


def access_units(nals: list[bytes]) -> list[list[bytes]]:
    """Group NAL units into frames at each access unit delimiter (type 9, not sent)."""
    frames: list[list[bytes]] = []
    for nal in nals:
        if nal[0] & 0x1F == 9:
            frames.append([])
        elif frames:
            frames[-1].append(nal)
    return [f for f in frames if f]


def payloads(frame: list[bytes]) -> list[bytes]:
    """RTP payloads of one frame (RFC 6184: single NAL unit packets and FU-A fragments)."""
    out = []
    for nal in frame:
        if len(nal) <= MTU:
            out.append(nal)
            continue
        indicator = (nal[0] & 0xE0) | 28
        body = nal[1:]
        for k in range(0, len(body), MTU):
            header = nal[0] & 0x1F
            if k == 0:
                header |= 0x80
            if k + MTU >= len(body):
                header |= 0x40
            out.append(bytes([indicator, header]) + body[k : k + MTU])
    return out


class Clip:
    def __init__(self, path: Path, fps: int):
        frames = access_units(split_nals(path.read_bytes()))
        if not frames:
            raise SystemExit(f"{path}: no access units (needs AUD NAL units: libx264 aud=1)")
        self.fps = fps
        self.payloads = [payloads(f) for f in frames]
        self.key = [any(n[0] & 0x1F == 5 for n in f) for f in frames]
        self.before = []  # packets sent before frame k of one loop
        total = 0
        for p in self.payloads:
            self.before.append(total)
            total += len(p)
        self.per_loop = total
        sps = next(n for f in frames for n in f if n[0] & 0x1F == 7)
        pps = next(n for f in frames for n in f if n[0] & 0x1F == 8)
        self.fmtp = (
            f"packetization-mode=1;profile-level-id={sps[1:4].hex()};"
            f"sprop-parameter-sets={base64.b64encode(sps).decode()},{base64.b64encode(pps).decode()}"
        )
        self.ssrc = random.getrandbits(32)

    def packets(self, n: int) -> bytes:
        """Frame number n since the server started, as interleaved RTP packets on channel 0."""
        k = n % len(self.payloads)
        seq = n // len(self.payloads) * self.per_loop + self.before[k]
        ts = n * CLOCK // self.fps
        chunks = self.payloads[k]
        out = bytearray()
        for i, payload in enumerate(chunks):
            marker = 0x80 if i == len(chunks) - 1 else 0
            rtp = struct.pack("!BBHII", 0x80, 96 | marker, (seq + i) & 0xFFFF, ts & 0xFFFFFFFF, self.ssrc)
            out += struct.pack("!cBH", b"$", 0, len(rtp) + len(payload)) + rtp + payload
        return bytes(out)


class Server:
    def __init__(self, clip: Clip, port: int):
        self.clip, self.port = clip, port
        self.waiting: set[asyncio.StreamWriter] = set()  # PLAYing, waiting for a keyframe
        self.playing: set[asyncio.StreamWriter] = set()
        self.dropped = 0

    async def pump(self) -> None:
        start, n = time.monotonic(), 0
        while True:
            n += 1
            await asyncio.sleep(max(0.0, start + n / self.clip.fps - time.monotonic()))
            if self.clip.key[n % len(self.clip.payloads)]:
                self.playing |= self.waiting
                self.waiting.clear()
            if not self.playing:
                continue
            data = self.clip.packets(n)
            for writer in list(self.playing):
                if writer.is_closing():
                    self.playing.discard(writer)
                elif writer.transport.get_write_buffer_size() > 8 * 1024 * 1024:  # a client that stopped reading
                    self.dropped += 1
                    self.playing.discard(writer)
                    writer.close()
                else:
                    writer.write(data)

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = f"{random.getrandbits(48):012x}"
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":  # interleaved RTCP from the client: skip
                    length = struct.unpack("!xH", await reader.readexactly(3))[0]
                    await reader.readexactly(length)
                    continue
                head = first + await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, url = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                if int(headers.get("content-length", 0)):
                    await reader.readexactly(int(headers["content-length"]))
                reply = {"CSeq": headers.get("cseq", "0")}
                body, status = b"", "200 OK"
                if method == "OPTIONS":
                    reply["Public"] = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"
                elif method == "DESCRIBE":
                    body = (
                        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=bench clip\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        "a=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                        f"a=fmtp:96 {self.clip.fmtp}\r\na=control:track1\r\n"
                    ).encode()
                    reply |= {"Content-Base": url.rstrip("/") + "/", "Content-Type": "application/sdp"}
                elif method == "SETUP":
                    if "TCP" not in headers.get("transport", "").upper():
                        status = "461 Unsupported Transport"
                    else:
                        reply |= {
                            "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1",
                            "Session": f"{session};timeout=60",
                        }
                elif method == "PLAY":
                    reply |= {"Session": session, "Range": "npt=0.000-"}
                elif method in ("GET_PARAMETER", "SET_PARAMETER"):
                    reply["Session"] = session
                elif method == "TEARDOWN":
                    reply["Session"] = session
                else:
                    status = "405 Method Not Allowed"
                if body:
                    reply["Content-Length"] = str(len(body))
                text = f"RTSP/1.0 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in reply.items()) + "\r\n"
                writer.write(text.encode() + body)
                if method == "PLAY":
                    self.waiting.add(writer)
                if method == "TEARDOWN":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            self.waiting.discard(writer)
            self.playing.discard(writer)
            writer.close()

    async def run(self) -> None:
        server = await asyncio.start_server(self.client, "127.0.0.1", self.port, backlog=1024)
        print("ready", flush=True)
        async with server:
            await asyncio.gather(server.serve_forever(), self.pump())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--port", type=int, default=18654)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()
    try:
        asyncio.run(Server(Clip(args.clip, args.fps), args.port).run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
