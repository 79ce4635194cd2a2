"""ISAPI event notifications (alertStream, httpHosts pushes, the vehicleDetect/plates backfill): the
bytes a camera sends, read into `Alert`s. Raw protocol I/O only: no ORM, no settings, typed errors.

What the cameras send (REPORT §5 "Events"):

- Arming: `GET /ISAPI/Event/notification/alertStream` answers a never-ending `multipart/mixed`
  (boundary in the header). Each part carries its own `Content-Type` and usually `Content-Length`;
  an ANPR alert (`EventNotificationAlert` XML, or JSON on some firmware) is followed by its JPEG
  parts (`licensePlatePicture.jpg`, `detectionPicture.jpg`...). Heartbeats are `videoloss` /
  `heartBeat` alerts with `activePostCount` 0: they prove the stream is alive and nothing more.
- Listening: the camera POSTs `multipart/form-data` with `anpr.xml` (or `ANPR.xml`) + pictures.
- Backfill: `vehicleDetect/plates` answers `Plates/Plate` entries (no pictures).

Firmware is sloppy: LF instead of CRLF, a missing or wrong Content-Length, junk between parts. The
reader resynchronises on the boundary; a part it cannot use is reported as `Rejected(reason)` and the
stream goes on.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo

MAX_PART_BYTES = 4 * 1024 * 1024  # a plate crop is ~10 KB, a scene ~300 KB; more is not a picture
MAX_HEADER_BYTES = 8 * 1024
HEARTBEAT_EVENTS = {"videoloss", "heartbeat"}


@dataclass(frozen=True)
class Alert:
    event_type: str  # "ANPR" (heartbeats never reach the store)
    camera_time: datetime | None  # aware, with the camera's UTC offset as sent
    uuid: str = ""  # the camera's UUID of the read, "" when absent
    plate: str = ""  # as read (licensePlate)
    original_plate: str = ""
    confidence: int | None = None
    direction: str = ""  # "forward" / "reverse" / "" as sent
    lane: int | None = None
    list_type: str = ""  # raw: "allowList", "blockList", "blackList", "otherList", "" ...
    vehicle: dict = field(default_factory=dict)  # type, color, brand... as sent
    channel: int | None = None
    active_post_count: int | None = None
    raw: bytes = b""  # the alert part as received (kept truncated/redacted for diagnosis)

    @property
    def is_heartbeat(self) -> bool:
        return self.event_type.lower() in HEARTBEAT_EVENTS or (
            self.active_post_count == 0 and self.event_type.upper() != "ANPR"
        )


# --- Errors ------------------------------------------------------------------------------------


class EventsError(Exception):
    """Something in the event bytes we cannot use. `reason` is a short stable word, for counters."""

    reason = "malformed"

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class MalformedStream(EventsError):
    """The response is not a multipart stream at all (no boundary)."""

    reason = "not_multipart"


class MalformedAlert(EventsError):
    """A part that should be an alert and is not (truncated or invalid XML/JSON, no eventType)."""

    reason = "malformed_alert"


# --- Multipart ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def name(self) -> str:
        """The part's name (`Content-Disposition` name, else filename), "" when it has none."""
        disposition = self.headers.get("content-disposition", "")
        match = re.search(r'\bname="?([^";]+)"?', disposition) or re.search(r'filename="?([^";]+)"?', disposition)
        return match.group(1).strip() if match else ""

    @property
    def is_picture(self) -> bool:
        return self.content_type.startswith("image/") or self.name.lower().endswith((".jpg", ".jpeg"))


@dataclass(frozen=True)
class Rejected:
    """A part skipped on purpose; `reason` for the counters."""

    reason: str
    detail: str = ""


def boundary_from(content_type: str) -> str:
    """The boundary of a `multipart/...; boundary=...` Content-Type."""
    match = re.search(r'boundary="?([^";,]+)"?', content_type or "", re.IGNORECASE)
    if not content_type.lower().lstrip().startswith("multipart/") or not match:
        raise MalformedStream(f"not a multipart answer (Content-Type {content_type[:80]!r})")
    return match.group(1).strip()


class MultipartReader:
    """An incremental multipart reader: `feed(bytes)` returns the parts completed so far.

    It trusts `Content-Length` only when the boundary follows it; otherwise (missing, lying) it scans
    for the next boundary. Bytes outside parts (preamble, junk, blank lines) are skipped. A part over
    `max_part` bytes is dropped (`Rejected("oversize")`) without being held in memory.
    """

    def __init__(self, boundary: str, *, max_part: int = MAX_PART_BYTES):
        self.delimiter = b"--" + boundary.encode()
        self.max_part = max_part
        self._buf = bytearray()
        self._state = "seek"  # seek -> headers -> body -> seek ...; "discard" drops an oversize part
        self._headers: dict[str, str] = {}
        self._length: int | None = None
        self._scanned = 0
        self.bytes_in = 0

    def feed(self, data: bytes) -> list[Part | Rejected]:
        self.bytes_in += len(data)
        self._buf += data
        out: list[Part | Rejected] = []
        while True:
            item = self._step()
            if item is None:
                return out
            if item is not True:
                out.append(item)

    def close(self) -> list[Part | Rejected]:
        """The stream ended: a part cut short is reported (`truncated`), never returned as whole."""
        out: list[Part | Rejected] = []
        if self._state in ("headers", "body") and (self._buf.strip() or self._headers):
            out.append(Rejected("truncated", f"{len(self._buf)} bytes of an unfinished part"))
        self._buf.clear()
        self._state = "seek"
        return out

    # Each step consumes what it can and returns a Part/Rejected, True (progress, nothing to
    # report) or None (needs more bytes).
    def _step(self):
        buf = self._buf
        if self._state == "seek":
            at = buf.find(self.delimiter)
            if at < 0:
                # Keep a tail that may be the start of a delimiter; the rest is junk.
                keep = len(self.delimiter) + 2
                if len(buf) > keep:
                    del buf[: len(buf) - keep]
                return None
            eol = buf.find(b"\n", at)
            if eol < 0:
                return None
            closing = buf[at + len(self.delimiter) : at + len(self.delimiter) + 2] == b"--"
            del buf[: eol + 1]
            if not closing:
                self._state = "headers"
            return True
        if self._state == "headers":
            end, sep = _header_end(buf)
            if end < 0:
                if len(buf) > MAX_HEADER_BYTES:
                    self._state = "seek"
                    del buf[: len(buf) - len(self.delimiter)]
                    return Rejected("malformed_headers", "part headers too long")
                return None
            self._headers = _parse_headers(bytes(buf[:end]))
            del buf[: end + sep]
            self._length = _int(self._headers.get("content-length"))
            if self._length is not None and self._length > self.max_part:
                self._state = "discard"
                return Rejected("oversize", f"part of {self._length} bytes")
            self._state, self._scanned = "body", 0
            return True
        if self._state == "body":
            return self._body()
        if self._state == "discard":
            at = buf.find(b"\n" + self.delimiter)
            if at < 0:
                keep = len(self.delimiter) + 1
                if len(buf) > keep:
                    del buf[: len(buf) - keep]
                return None
            del buf[: at + 1]
            self._state = "seek"
            return True
        raise AssertionError(self._state)

    def _body(self):
        buf = self._buf
        n = self._length
        # Where the next boundary starts (scanning only the bytes not scanned yet).
        start = max(0, self._scanned - len(self.delimiter) - 1)
        at = _find_delimiter(buf, self.delimiter, start)
        self._scanned = len(buf)
        if n is not None:
            if 0 <= at < n:  # the boundary came before Content-Length said: the length lies
                return self._emit(at, strip=True)
            if len(buf) >= n:  # whole: emit now, without waiting for the next part's boundary
                return self._emit(n)
        elif at >= 0:
            return self._emit(at, strip=True)
        if len(buf) > self.max_part:
            self._state = "discard"
            return Rejected("oversize", f"part over {self.max_part} bytes")
        return None

    def _emit(self, end: int, *, strip: bool = False) -> Part:
        body = bytes(self._buf[:end])
        if strip:  # the line break before the boundary belongs to the boundary
            body = body[:-2] if body.endswith(b"\r\n") else body[:-1] if body.endswith(b"\n") else body
        del self._buf[:end]
        self._state, self._scanned = "seek", 0
        return Part(self._headers, body)


def _header_end(buf: bytearray) -> tuple[int, int]:
    """Where the part headers end and the separator's length (CRLF CRLF or LF LF); (-1, 0) if not yet."""
    if buf.startswith(b"\r\n"):  # a part with no headers at all
        return 0, 2
    if buf.startswith(b"\n"):
        return 0, 1
    crlf, lf = buf.find(b"\r\n\r\n"), buf.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    if lf >= 0:
        return lf, 2
    return -1, 0


def _find_delimiter(buf: bytearray, delimiter: bytes, start: int = 0) -> int:
    """Where the next boundary line starts (the body before it ends with a line break that `_emit`
    strips), or -1."""
    if start == 0 and buf.startswith(delimiter):
        return 0
    at = buf.find(b"\n" + delimiter, start)
    if at < 0:
        return -1
    return at + 1


def _parse_headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def iter_parts(chunks: Iterable[bytes], boundary: str, *, max_part: int = MAX_PART_BYTES) -> Iterator[Part | Rejected]:
    """Every part (or rejection) of a multipart byte stream, as the bytes arrive."""
    reader = MultipartReader(boundary, max_part=max_part)
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.close()


# --- Alerts ------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def parse_time(text: str, default_tz: tzinfo | None = None) -> datetime | None:
    """A camera time: ISO 8601 with `Z` or `+hh:mm`, compact `yyyyMMddTHHmmss+hhmm`, or the 17 digits
    `yyyyMMddHHmmssSSS`; a time without zone gets `default_tz` (None: it stays unknown)."""
    text = (text or "").strip()
    if not text:
        return None
    value = None
    if re.fullmatch(r"\d{14}(\d{3})?", text):
        value = datetime.strptime(text[:14], "%Y%m%d%H%M%S") + timedelta(milliseconds=int(text[14:] or 0))
    else:
        for fmt in ("%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S"):
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if value is None:
            try:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
    if value.tzinfo is None:
        return value.replace(tzinfo=default_tz) if default_tz is not None else None
    return value


def format_pic_time(when: datetime) -> str:
    """The backfill cursor as public clients send it: `20250415T000000+0100` (camera's offset)."""
    return when.strftime("%Y%m%dT%H%M%S%z")


_VEHICLE_KEYS = {"vehicleType": "type", "color": "color", "vehicleLogoRecog": "brand", "vehileModel": "model"}


def _vehicle(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if value not in ("", None) and not isinstance(value, (dict, list)):
            out[_VEHICLE_KEYS.get(key, key)] = str(value)
    return out


def parse_alert(body: bytes, content_type: str = "") -> Alert:
    """An `EventNotificationAlert` part, XML (namespaced or not) or JSON; MalformedAlert otherwise."""
    text = body.lstrip()
    if "json" in content_type or text.startswith(b"{"):
        return _parse_json_alert(body)
    end = body.rfind(b"EventNotificationAlert>")
    if end > 0:  # bytes after the root (junk before the next boundary, with no Content-Length)
        body = body[: end + len(b"EventNotificationAlert>")]
    try:
        root = ET.fromstring(body)  # noqa: S314 - the camera's own alert; no DTDs or entities are used
    except ET.ParseError as exc:
        raise MalformedAlert(f"alert XML does not parse ({exc})", reason="malformed_xml") from None
    if _local(root.tag) != "EventNotificationAlert":
        raise MalformedAlert(f"not an EventNotificationAlert (<{_local(root.tag)}>)", reason="not_an_alert")
    top = {_local(e.tag): (e.text or "").strip() for e in root}
    anpr_el = next((e for e in root if _local(e.tag) == "ANPR"), None)
    anpr = {_local(e.tag): (e.text or "").strip() for e in anpr_el} if anpr_el is not None else {}
    vehicle = {"vehicleType": anpr.get("vehicleType", "")}
    for el in root.iter():
        if _local(el.tag) == "vehicleInfo":
            vehicle.update({_local(e.tag): (e.text or "").strip() for e in el})
            break
    vehicle.pop("index", None)
    return _alert(top, anpr, _vehicle(vehicle), body)


def _parse_json_alert(body: bytes) -> Alert:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedAlert(f"alert JSON does not parse ({exc})", reason="malformed_json") from None
    if isinstance(data, dict) and isinstance(data.get("EventNotificationAlert"), dict):
        data = data["EventNotificationAlert"]
    if not isinstance(data, dict):
        raise MalformedAlert("alert JSON is not an object", reason="malformed_json")
    anpr = data.get("ANPR") if isinstance(data.get("ANPR"), dict) else {}
    vehicle = {"vehicleType": anpr.get("vehicleType", "")}
    if isinstance(anpr.get("vehicleInfo"), dict):
        vehicle.update(anpr["vehicleInfo"])
    vehicle.pop("index", None)
    return _alert(data, anpr, _vehicle(vehicle), body)


def _alert(top: dict, anpr: dict, vehicle: dict, raw: bytes) -> Alert:
    event_type = str(top.get("eventType") or "").strip()
    if not event_type:
        raise MalformedAlert("alert without eventType", reason="no_event_type")
    camera_time = parse_time(str(top.get("dateTime") or ""))
    is_anpr = event_type.upper() == "ANPR"
    if is_anpr and not str(anpr.get("licensePlate") or "").strip():
        raise MalformedAlert("ANPR alert without licensePlate", reason="no_plate")
    channel = _int(top.get("channelID") or top.get("dynChannelID"))
    return Alert(
        event_type="ANPR" if is_anpr else event_type,
        camera_time=camera_time,
        uuid=str(top.get("UUID") or top.get("uuid") or "").strip(),
        plate=str(anpr.get("licensePlate") or "").strip(),
        original_plate=str(anpr.get("originalLicensePlate") or "").strip(),
        confidence=_int(anpr.get("confidenceLevel")),
        direction=str(anpr.get("direction") or "").strip().lower(),
        lane=_int(anpr.get("laneNo") or anpr.get("line")),
        list_type=str(anpr.get("listType") or anpr.get("vehicleListName") or "").strip(),
        vehicle=vehicle if is_anpr else {},
        channel=channel,
        active_post_count=_int(top.get("activePostCount")),
        raw=raw[:16384],
    )


def _pictures_expected(alert: Alert) -> int | None:
    match = re.search(rb"<picNum>\s*(\d+)\s*</picNum>|\"picNum\"\s*:\s*(\d+)", alert.raw)
    if not match:
        return None
    return int(match.group(1) or match.group(2))


@dataclass
class Read:
    """An ANPR alert with the pictures that came with it."""

    alert: Alert
    pictures: dict[str, bytes] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)  # parts skipped around it (a push form's)


@dataclass(frozen=True)
class Heartbeat:
    """A heartbeat (or any non-ANPR alert): the stream is alive."""

    alert: Alert


class AlertAssembler:
    """Parts in, events out: `Read` (an ANPR alert with the JPEG parts that follow it), `Heartbeat`,
    `Rejected`. A read is complete when its `picNum` pictures arrived, when the next alert part starts,
    or on `flush()` (the stream ended or went quiet)."""

    def __init__(self, *, max_picture: int = MAX_PART_BYTES):
        self.max_picture = max_picture
        self._pending: Read | None = None
        self._expected: int | None = None

    def feed(self, item: Part | Rejected) -> list[Read | Heartbeat | Rejected]:
        out: list = []
        if isinstance(item, Rejected):
            return [item]
        if item.is_picture:
            if self._pending is None:
                return [Rejected("orphan_picture", item.name or item.content_type)]
            if len(item.body) > self.max_picture:
                out.append(Rejected("oversize", f"picture {item.name} of {len(item.body)} bytes"))
            else:
                name = item.name or f"picture{len(self._pending.pictures) + 1}.jpg"
                self._pending.pictures[name] = item.body
            if self._expected is not None and len(self._pending.pictures) >= self._expected:
                out.extend(self.flush())
            return out
        out.extend(self.flush())
        try:
            alert = parse_alert(item.body, item.content_type)
        except MalformedAlert as exc:
            out.append(Rejected(exc.reason, str(exc)))
            return out
        if alert.event_type != "ANPR":
            out.append(Heartbeat(alert))
            return out
        self._pending = Read(alert)
        self._expected = _pictures_expected(alert)
        if self._expected == 0:
            out.extend(self.flush())
        return out

    def flush(self) -> list[Read]:
        pending, self._pending, self._expected = self._pending, None, None
        return [pending] if pending is not None else []


def read_form(body: bytes, content_type: str, *, max_part: int = MAX_PART_BYTES) -> Read:
    """Listening mode: one camera POST (`multipart/form-data`, `anpr.xml`/`ANPR.xml` + pictures).

    MalformedAlert when it holds no ANPR alert; oversize pictures are dropped (see `rejected`).
    """
    boundary = boundary_from(content_type)
    assembler = AlertAssembler(max_picture=max_part)
    events: list = []
    for item in iter_parts([body], boundary, max_part=max_part):
        events.extend(assembler.feed(item))
    events.extend(assembler.flush())
    reads = [e for e in events if isinstance(e, Read)]
    if not reads:
        rejected = [e for e in events if isinstance(e, Rejected)]
        if rejected:
            raise MalformedAlert(rejected[0].detail or rejected[0].reason, reason=rejected[0].reason)
        if any(isinstance(e, Heartbeat) for e in events):
            raise MalformedAlert("not an ANPR alert", reason="not_anpr")
        raise MalformedAlert("no alert part in the form", reason="no_alert")
    read = reads[0]
    read.rejected = [e for e in events if isinstance(e, Rejected)]
    return read


# --- Backfill ----------------------------------------------------------------------------------


def backfill_request(after: datetime) -> str:
    return f'<AfterTime version="2.0"><picTime>{format_pic_time(after)}</picTime></AfterTime>'


def parse_backfill(body: bytes, *, tz: tzinfo | None = None) -> list[Alert]:
    """`vehicleDetect/plates`: one ANPR `Alert` per `Plates/Plate` (no UUID, no pictures), oldest
    first. `captureTime` without a zone is in `tz` (the camera's offset, from its last alert)."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - the camera's own answer
    except ET.ParseError as exc:
        raise MalformedAlert(f"backfill answer does not parse ({exc})", reason="malformed_xml") from None
    if _local(root.tag) != "Plates":
        raise MalformedAlert(f"not a Plates answer (<{_local(root.tag)}>)", reason="not_plates")
    tz = tz or UTC
    alerts = []
    for plate in root:
        if _local(plate.tag) != "Plate":
            continue
        values = {_local(e.tag): (e.text or "").strip() for e in plate}
        number = values.get("plateNumber", "")
        when = parse_time(values.get("captureTime", ""), tz)
        if not number or when is None:
            continue
        alerts.append(
            Alert(
                event_type="ANPR",
                camera_time=when,
                plate=number,
                direction=values.get("direction", "").lower(),
                lane=_int(values.get("laneNo")),
                list_type=values.get("matchingResult", ""),
                raw=ET.tostring(plate)[:4096],
            )
        )
    alerts.sort(key=lambda a: a.camera_time)
    return alerts


def offset_of(when: datetime | None) -> timezone | None:
    """The fixed UTC offset a camera time carries (to read zone-less backfill times with)."""
    if when is None or when.utcoffset() is None:
        return None
    return timezone(when.utcoffset())
