"""The one Hikvision camera double: ISAPI over real HTTP on a loopback address, for the plates,
discovery and events tests and the benchmarks.

It follows the research report (`shared/isapi/REPORT.md`), both firmware families:

- Digest MD5 with qop="auth"; the digest `uri` must equal the request target, query included. A
  request without credentials gets the challenge (and does not count as a failure); bad credentials
  count, and after `max_failures` the source address is locked for `lock_seconds`: every answer is then
  a 401 `<userCheck>` with `lockStatus` lock and the remaining `unlockTime`.
- Family A: numeric ids from 1, namespace hikvision.com, `whiteList`/`blackList`, delete by string
  id (a number is a silent no-op OK, a non-numeric id is "Invalid JSON Content"), duplicates kept.
  Family B: id = plate, namespace isapi.org, `allowList`/`blockList` on write (`whiteList` on read),
  delete by `CompoundCond`, a record with keys missing or a non-empty `cardNo` gets HTTP 400
  badParameters, an upsert merges by plate.
- Search: substring filter on the plate, paging capped at `max_page`, `OK`/`MORE`/`NO MATCHES`.
- CSV export with BOM + CRLF and the real header; CSV import replaces the whole list.

- Identity for discovery: `deviceInfo` with model/serial/MAC/firmware, `Streaming/channels`, and the
  login page at `/` without credentials (App-webs banner).
- Snapshots: `Streaming/channels/<channel>0<stream>/picture` answers a JPEG (image/jpeg) for each of
  its `channels`; an unknown channel is the 404 notSupport a real camera sends.
- Events (REPORT §5): `alertStream` (never-ending multipart/mixed with heartbeats and ANPR alerts
  followed by their JPEG parts), pushes to configured `httpHosts` (listening mode), and the
  `vehicleDetect/plates` backfill; see `emit_read` and `StreamFaults`.

Fault injection: `latency` (seconds added to every answer), `inject(kind, times, path=...)` with kind
`timeout` (no answer until the client gives up), `5xx`, `busy` (HTTP 200, statusCode 2), `reset`;
`stop()`/`start()` take the camera off line and back on the same port.

Run standalone for the benchmark: `python -m cameras.tests.doubles.hikvision --count 32 --latency 0.02`
prints one JSON line with the ports, then serves until stdin closes.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import http.client
import io
import json
import queue
import re
import secrets
import socket
import sys
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import digest

NS = {"A": "http://www.hikvision.com/ver20/XMLSchema", "B": "http://www.isapi.org/ver20/XMLSchema"}
CSV_HEADER = (
    'No.,Plate No.,"Group(0 BlockList, 1 AllowList)",'
    '"Effective Start Date (Format: YYYY-MM-DD, e.g., 2017-12-07)",'
    '"Effective End Date (Format: YYYY-MM-DD, e.g., 2017-12-07)"'
)
B_REQUIRED_KEYS = {"id", "LicensePlate", "listType", "cardNo", "createTime", "effectiveTime"}
# What `Streaming/channels/<id>/picture` answers: a real (decodable) 32x24 JPEG, as a camera's would be.
PICTURE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgoKC8oLzc3Nzc3N0E8QUNDQ0FBQUFDQ0NISEhVVVVI"
    "SEhDQ0hIUFBVVVxfXFdXVVdfX2RkZHh4c3OMjJGsrM//xABMAAEBAAAAAAAAAAAAAAAAAAAABQEBAQAAAAAAAAAAAAAAAAAAAAYQ"
    "AQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAYACADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCCAo02AAAA"
    "AA//2Q=="
)
HTML_401 = (
    b"<!DOCTYPE html>\r\n<html><head><title>Document Error: Unauthorized</title></head>\r\n"
    b"<body><h2>Access Error: 401 -- Unauthorized</h2>\r\n<p>Authentication Error</p>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Record:
    id: str
    plate: str
    list_type: str  # whiteList / blackList, as the device reads it back
    start: str
    end: str
    extra: dict = field(default_factory=dict)


@dataclass
class Fault:
    kind: str
    times: int
    path: str | None = None


class HikvisionCamera:
    def __init__(
        self,
        family: str = "A",
        *,
        username: str = "admin",
        password: str = "cam-secret-1",  # noqa: S107 - a test double's fixed credential
        latency: float = 0.0,
        max_page: int = 50,
        max_failures: int = 7,
        lock_seconds: int = 210,
        hang_seconds: float = 5.0,
        auth_body: str = "usercheck",
        port: int = 0,
        host: str = "127.0.0.1",
        model: str = "",
        serial: str = "",
        mac: str = "44:19:b6:00:00:01",
        firmware: str = "",
        channels: int = 1,
        calls: list[str] | None = None,
        utc_offset: dt.timedelta = dt.timedelta(hours=1),
        heartbeat_seconds: float = 10.0,
        http_host_slots: int = 3,
        backfill: bool = True,
    ):
        assert family in ("A", "B")
        self.family = family
        self.username = username
        self.password = password
        self.realm = "IP Camera(83813)" if family == "A" else secrets.token_hex(16)
        self.latency = latency
        self.max_page = max_page
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self.hang_seconds = hang_seconds
        self.auth_body = auth_body
        self.records: list[Record] = []
        self.next_id = 1
        self.faults: list[Fault] = []
        self.ignore_deletes = False  # answer OK and delete nothing (as family A does for numeric ids)
        self.log: list[tuple[str, str, bytes]] = []  # (method, target, body) of authenticated requests
        self.failed_logins = 0
        self.locked_until = 0.0
        self.lock = threading.RLock()
        self._nonces: set[str] = set()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.host = host
        # Identity (discovery reads it); empty: the family's usual model and firmware.
        self.model = model or ("iDS-2CD7A46G0/P" if family == "A" else "DS-TCG406-E")
        self.firmware = firmware or ("V5.5.800" if family == "A" else "V5.5.0")
        self.serial, self.mac, self.channels = serial, mac, channels
        # Every request target, answered or refused (discovery tests count the logins it took).
        self.calls: list[str] = calls if calls is not None else []
        # -- events --
        self.tz = dt.timezone(utc_offset)
        self.heartbeat_seconds = heartbeat_seconds
        self.boundary = "boundary"
        self.streams: list[_Subscriber] = []  # open alertStream connections
        self.stream_connections = 0  # alertStream requests answered 200, ever
        self.stream_requests = 0  # alertStream requests, authenticated or not
        self.reads: list[dict] = []  # every read emitted, for the vehicleDetect/plates backfill
        self.backfill_enabled = backfill
        self.http_hosts = [_free_slot(n) for n in range(1, http_host_slots + 1)]
        self.pushes: list[tuple[str, int]] = []  # (url, HTTP status or 0) of listening-mode POSTs
        self.pictures_taken = 0  # Streaming/channels/<id>/picture answered

    # -- lifecycle --

    def start(self) -> HikvisionCamera:
        """Serve (again) on the same port: a camera coming back on line."""
        handler = type("Handler", (_Handler,), {"camera": self})
        server = _Server((self.host, self.port), handler)
        self.port = server.server_address[1]
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go off line: the port refuses connections until `start()`."""
        self._stopping.set()
        with self.lock:
            for sub in self.streams:
                sub.queue.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.drop_connections()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def online(self) -> bool:
        return self._server is not None

    def __enter__(self) -> HikvisionCamera:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- test helpers --

    def inject(self, kind: str, times: int = 1, path: str | None = None) -> None:
        assert kind in ("timeout", "5xx", "busy", "reset", "401")
        with self.lock:
            self.faults.append(Fault(kind, times, path))

    def seed(
        self, plate: str, list_type: str = "whiteList", start: str = "2024-03-26", end: str = "5000-12-01"
    ) -> Record:
        """Put a record straight into the store (duplicates allowed on family A)."""
        with self.lock:
            if self.family == "B":
                self.records = [r for r in self.records if r.plate != plate]
                rec = Record(plate, plate, list_type, start, end)
            else:
                rec = Record(str(self.next_id), plate, list_type, start, end)
                self.next_id += 1
            self.records.append(rec)
            return rec

    def plates(self) -> list[str]:
        with self.lock:
            return [r.plate for r in self.records]

    def count(self, plate: str) -> int:
        return self.plates().count(plate)

    def requests_to(self, fragment: str) -> list[tuple[str, str, bytes]]:
        return [entry for entry in self.log if fragment in entry[1]]

    def take_fault(self, target: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.path and fault.path not in target:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.kind
        return None

    # -- auth --

    def challenge(self) -> str:
        # Family B is the newer "Webs" firmware: nonce "<hex>:<ms>", domain, opaque, algorithm.
        style = "app-webs" if self.family == "A" else "webs"
        nonce = digest.new_nonce(style)
        with self.lock:
            self._nonces.add(nonce)
        return digest.challenge(self.realm, nonce=nonce, style=style)

    def check_digest(self, method: str, target: str, header: str) -> bool:
        return digest.verify(
            header,
            method=method,
            realm=self.realm,
            username=self.username,
            password=self.password,
            uri=target,
            nonces=self._nonces,
            require_qop=True,
        )

    def user_check(self, locked: bool) -> bytes:
        remaining = max(0, int(self.locked_until - time.time() + 0.999)) if locked else 0
        left = max(0, self.max_failures - self.failed_logins)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\r\n'
            f'<userCheck version="2.0" xmlns="{NS[self.family]}">\r\n'
            "<statusValue>401</statusValue>\r\n<statusString>Unauthorized</statusString>\r\n"
            f"<isIllegalLogin>{'true' if locked else 'false'}</isIllegalLogin>\r\n"
            f"<lockStatus>{'lock' if locked else 'unlock'}</lockStatus>\r\n"
            f"<unlockTime>{remaining}</unlockTime>\r\n<retryLoginTime>{left}</retryLoginTime>\r\n"
            "</userCheck>\r\n"
        ).encode()

    # -- device behaviour --

    def search(self, body: bytes) -> bytes:
        root = ET.fromstring(body)  # noqa: S314 - test double parsing its own client's XML
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root.iter()}
        wanted = values.get("LicensePlate", "")
        position = int(values.get("searchResultPosition") or 0)
        size = min(int(values.get("maxResults") or values.get("maxResult") or 20), self.max_page)
        with self.lock:
            matches = [r for r in self.records if wanted in r.plate]
        page = matches[position : position + size]
        total = len(matches)
        if total == 0:
            status = "NO MATCHES"
        elif position + len(page) < total:
            status = "MORE"
        else:
            status = "OK"
        items = "".join(
            f"<LicensePlateInfo><id>{r.id}</id><LicensePlate>{r.plate}</LicensePlate><type>{r.list_type}</type>"
            + (
                f"<effectiveStartDate>{r.start}</effectiveStartDate><effectiveTime>{r.end}</effectiveTime>"
                if self.family == "A"
                else f"<cardNo></cardNo><effectiveTime>{r.end}</effectiveTime><createTime>{r.start}</createTime>"
            )
            + "</LicensePlateInfo>"
            for r in page
        )
        counters = (
            f"<numOfMatches>{len(page)}</numOfMatches><totalMatches>{total}</totalMatches>"
            f"<searchResultPosition>{position}</searchResultPosition><maxResults>{size}</maxResults>"
        )
        head = (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<LPListAuditSearchResult version="2.0" xmlns="{NS[self.family]}">'
            f"<searchID>{values.get('searchID', '0')}</searchID><responseStatus>true</responseStatus>"
            f"<responseStatusStrg>{status}</responseStatusStrg>"
        )
        if self.family == "B":  # counters inside the list on TCG firmware
            xml = f"{head}<LicensePlateInfoList>{counters}{items}</LicensePlateInfoList></LPListAuditSearchResult>"
        else:
            xml = f"{head}{counters}<LicensePlateInfoList>{items}</LicensePlateInfoList></LPListAuditSearchResult>"
        return xml.encode()

    def put_records(self, body: bytes) -> tuple[int, dict]:
        try:
            data = json.loads(body)
            items = data["LicensePlateInfoList"]
            assert isinstance(items, list)
        except (ValueError, KeyError, AssertionError, TypeError):
            return _status(6, "Invalid JSON Content", "badJsonContent")
        if self.family == "A":
            return self._put_a(items)
        return self._put_b(items)

    def _put_a(self, items: list) -> tuple[int, dict]:
        with self.lock:
            for item in items:
                if not isinstance(item, dict) or item.get("listType") not in ("whiteList", "blackList"):
                    return _status(6, "Invalid JSON Content", "badParameters")
                plate = str(item.get("LicensePlate", ""))
                if not plate:
                    return _status(6, "Invalid JSON Content", "badParameters")
            for item in items:
                rid = str(item.get("id", ""))
                start = item.get("effectiveStartDate") or ""
                end = item.get("effectiveTime") or ""
                existing = next((r for r in self.records if r.id == rid), None) if rid else None
                if existing is not None:  # update in place; empty dates keep the old ones
                    existing.plate = item["LicensePlate"]
                    existing.list_type = item["listType"]
                    existing.start = start or existing.start
                    existing.end = end or existing.end
                    continue
                if rid:
                    return _status(6, "Invalid JSON Content", "badParameters")
                self.records.append(Record(str(self.next_id), item["LicensePlate"], item["listType"], start, end))
                self.next_id += 1
        return _status(1, "OK", "ok")

    def _put_b(self, items: list) -> tuple[int, dict]:
        with self.lock:
            for item in items:
                if not isinstance(item, dict) or not B_REQUIRED_KEYS <= set(item):
                    return 400, _status(6, "Invalid XML Content", "badParameters", MErrCode="0x38410029")[1]
                if item["listType"] not in ("allowList", "blockList") or item["cardNo"]:
                    return 400, _status(6, "Invalid XML Content", "badParameters", MErrCode="0x38410029")[1]
                if not item["LicensePlate"] or item["id"] != item["LicensePlate"]:
                    return 400, _status(6, "Invalid XML Content", "badParameters", MErrCode="0x38410029")[1]
            for item in items:
                plate = item["LicensePlate"]
                read_type = "whiteList" if item["listType"] == "allowList" else "blackList"
                start, end = item["createTime"], item["effectiveTime"]
                existing = next((r for r in self.records if r.plate == plate), None)
                if existing is not None:  # merges by plate
                    existing.list_type, existing.start, existing.end = read_type, start, end
                else:
                    self.records.append(Record(plate, plate, read_type, start, end))
        return _status(1, "OK", "ok")

    def delete(self, body: bytes) -> tuple[int, dict]:
        try:
            data = json.loads(body)
            assert isinstance(data, dict)
        except (ValueError, AssertionError):
            return _status(6, "Invalid JSON Content", "badJsonContent")
        with self.lock:
            if self.ignore_deletes:
                return _status(1, "OK", "ok")
            if data.get("deleteAllEnabled") is True:
                self.records.clear()
                return _status(1, "OK", "ok")
            if self.family == "A":
                ids = data.get("id")
                if not isinstance(ids, list):
                    return _status(6, "Invalid JSON Content", "badJsonContent")
                if any(isinstance(i, str) and not i.isdigit() for i in ids):
                    return _status(6, "Invalid JSON Content", "badJsonContent")
                # Measured on iDS-2CD7A46G0/P: numbers answer OK and delete nothing.
                wanted = {i for i in ids if isinstance(i, str)}
                self.records = [r for r in self.records if r.id not in wanted]
                return _status(1, "OK", "ok")
            cond = data.get("CompoundCond")
            if isinstance(cond, dict) and cond.get("licensePlate"):
                plates = {cond["licensePlate"]}
            elif isinstance(data.get("licensePlate"), list):
                plates = set(data["licensePlate"])
            else:
                return 400, _status(6, "Invalid XML Content", "badParameters")[1]
            self.records = [r for r in self.records if r.plate not in plates]
        return _status(1, "OK", "ok")

    def export_csv(self) -> bytes:
        lines = [CSV_HEADER]
        with self.lock:
            for n, r in enumerate(self.records, 1):
                group = 1 if r.list_type == "whiteList" else 0
                lines.append(f"{n},{r.plate},{group},{r.start[:10]},{r.end[:10]}")
        return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode()

    def import_csv(self, body: bytes) -> tuple[int, dict]:
        text = body.decode("utf-8-sig", errors="replace")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or "Plate" not in rows[0][1]:
            return _status(6, "Invalid Content", "importErrorData")
        with self.lock:
            self.records.clear()
            for row in rows[1:]:
                if len(row) < 5 or not row[1]:
                    continue
                plate = row[1]
                lt = "whiteList" if row[2] == "1" else "blackList"
                rid = plate if self.family == "B" else str(self.next_id)
                self.next_id += 1
                self.records.append(Record(rid, plate, lt, row[3], row[4]))
        return _status(1, "OK", "ok")

    def device_info(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\r\n'
            f'<DeviceInfo version="2.0" xmlns="{NS["A"]}">\r\n<deviceName>IP CAMERA</deviceName>\r\n'
            "<deviceID>5c3b0b1e-0000-0000-0000-000000000000</deviceID>\r\n"
            f"<model>{self.model}</model>\r\n<serialNumber>{self.serial}</serialNumber>\r\n"
            f"<macAddress>{self.mac.lower()}</macAddress>\r\n<firmwareVersion>{self.firmware}</firmwareVersion>\r\n"
            "<firmwareReleasedDate>build 170725</firmwareReleasedDate>\r\n<encoderVersion>V7.3</encoderVersion>\r\n"
            "<deviceType>IPCamera</deviceType>\r\n<telecontrolID>88</telecontrolID>\r\n</DeviceInfo>\r\n"
        ).encode()

    def streaming_channels(self) -> bytes:
        items = []
        for channel in range(1, self.channels + 1):
            for stream_no, (w, h) in ((1, (2560, 1920)), (2, (640, 480))):
                items.append(
                    f'<StreamingChannel version="2.0"><id>{channel}0{stream_no}</id>'
                    f"<channelName>Camera {channel:02d}</channelName><enabled>true</enabled>"
                    "<Transport><ControlProtocolList><ControlProtocol><streamingTransport>RTSP"
                    "</streamingTransport></ControlProtocol></ControlProtocolList></Transport>"
                    f"<Video><enabled>true</enabled><videoCodecType>H.264</videoCodecType>"
                    f"<videoResolutionWidth>{w}</videoResolutionWidth>"
                    f"<videoResolutionHeight>{h}</videoResolutionHeight></Video></StreamingChannel>"
                )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\r\n<StreamingChannelList version="2.0" '
            f'xmlns="{NS["A"]}">{"".join(items)}</StreamingChannelList>\r\n'
        ).encode()

    # -- events (REPORT §5) --

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz).replace(microsecond=0)

    def emit_read(
        self,
        plate: str,
        *,
        list_type: str = "allowList",
        uuid: str | None = None,
        pictures: dict[str, bytes] | None = None,
        direction: str = "forward",
        confidence: int = 98,
        lane: int = 1,
        when: dt.datetime | None = None,
        active_post_count: int = 1,
        fmt: str = "xml",
        stream: bool = True,
        push: bool = True,
    ) -> dict:
        """The camera reads a plate: an ANPR alert (+ its JPEGs) on every open alertStream, a POST to
        every configured HTTP host, and a row for the backfill. `pictures=None`: the two usual JPEGs;
        `{}`: none. Returns the read (its `uuid`, `time`...)."""
        if pictures is None:
            pictures = {
                "licensePlatePicture.jpg": fake_jpeg(plate, 2_000),
                "detectionPicture.jpg": fake_jpeg(plate, 8_000),
            }
        read = {
            "plate": plate, "list_type": list_type, "uuid": uuid if uuid is not None else str(uuidlib.uuid4()),
            "pictures": pictures, "direction": direction, "confidence": confidence, "lane": lane,
            "time": (when or self.now()).astimezone(self.tz), "active_post_count": active_post_count,
            "pic_name": secrets.token_hex(8),
        }  # fmt: skip
        with self.lock:
            self.reads.append(read)
        if stream:
            self.send_to_streams(self.stream_parts(read, fmt))
        if push:
            self.push(read)
        return read

    def anpr_xml(self, read: dict, *, namespace: bool = True) -> bytes:
        pictures = "".join(
            f"<pictureInfo><fileName>{name}</fileName><type>{name.rsplit('.', 1)[0]}</type>"
            f"<dataType>0</dataType><picRecogMode>1</picRecogMode></pictureInfo>"
            for name in read["pictures"]
        )
        xmlns = f' xmlns="{NS["A"]}"' if namespace else ""
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<EventNotificationAlert version="2.0"{xmlns}>\r\n'
            f"<ipAddress>{self.host}</ipAddress>\r\n<portNo>{self.port}</portNo>\r\n<protocol>HTTP</protocol>\r\n"
            f"<macAddress>{self.mac}</macAddress>\r\n<channelID>1</channelID>\r\n"
            f"<dateTime>{read['time'].isoformat()}</dateTime>\r\n"
            f"<activePostCount>{read['active_post_count']}</activePostCount>\r\n<eventType>ANPR</eventType>\r\n"
            "<eventState>active</eventState>\r\n<eventDescription>ANPR</eventDescription>\r\n"
            "<channelName>Camera 01</channelName>\r\n<ANPR>\r\n<country>3</country>\r\n"
            f"<licensePlate>{read['plate']}</licensePlate>\r\n<line>{read['lane']}</line>\r\n"
            f"<direction>{read['direction']}</direction>\r\n<confidenceLevel>{read['confidence']}</confidenceLevel>\r\n"
            "<plateType>unknown</plateType>\r\n<plateColor>white</plateColor>\r\n<vehicleType>vehicle</vehicleType>\r\n"
            f"<originalLicensePlate>{read['plate']}</originalLicensePlate>\r\n<listType>{read['list_type']}</listType>\r\n"
            "<vehicleInfo><index>1</index><colorDepth>2</colorDepth><color>white</color><length>0</length>"
            "<vehicleLogoRecog>1036</vehicleLogoRecog><vehileSubLogoRecog>0</vehileSubLogoRecog>"
            "<vehileModel>0</vehileModel></vehicleInfo>\r\n"
            f"<pictureInfoList>{pictures}</pictureInfoList>\r\n</ANPR>\r\n"
            f"<UUID>{read['uuid']}</UUID>\r\n<picNum>{len(read['pictures'])}</picNum>\r\n"
            "<isDataRetransmission>false</isDataRetransmission>\r\n"
            "<deviceUUID>5c3b0b1e-0000-0000-0000-000000000000</deviceUUID>\r\n</EventNotificationAlert>\r\n"
        ).encode()

    def anpr_json(self, read: dict) -> bytes:
        return json.dumps({
            "ipAddress": self.host, "portNo": self.port, "protocol": "HTTP", "macAddress": self.mac,
            "channelID": 1, "dateTime": read["time"].isoformat(), "activePostCount": read["active_post_count"],
            "eventType": "ANPR", "eventState": "active", "eventDescription": "ANPR", "UUID": read["uuid"],
            "picNum": len(read["pictures"]),
            "ANPR": {
                "licensePlate": read["plate"], "originalLicensePlate": read["plate"], "line": read["lane"],
                "direction": read["direction"], "confidenceLevel": read["confidence"],
                "listType": read["list_type"], "vehicleType": "vehicle",
                "vehicleInfo": {"color": "white", "vehicleLogoRecog": "1036"},
            },
        }).encode()  # fmt: skip

    def heartbeat_xml(self) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<EventNotificationAlert version="2.0" xmlns="{NS["A"]}">\r\n'
            f"<ipAddress>{self.host}</ipAddress>\r\n<portNo>{self.port}</portNo>\r\n<protocol>HTTP</protocol>\r\n"
            f"<macAddress>{self.mac}</macAddress>\r\n<channelID>1</channelID>\r\n"
            f"<dateTime>{self.now().isoformat()}</dateTime>\r\n<activePostCount>0</activePostCount>\r\n"
            "<eventType>videoloss</eventType>\r\n<eventState>inactive</eventState>\r\n"
            "<eventDescription>videoloss alarm</eventDescription>\r\n</EventNotificationAlert>\r\n"
        ).encode()

    def part(self, body: bytes, content_type: str, name: str = "") -> bytes:
        """One part of the alertStream, framed as the public captures show it."""
        head = f"--{self.boundary}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        if name:
            head += f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
        return head.encode() + b"\r\n" + body + b"\r\n"

    def stream_parts(self, read: dict, fmt: str = "xml") -> bytes:
        if fmt == "json":
            out = self.part(self.anpr_json(read), 'application/json; charset="UTF-8"', "anpr.json")
        else:
            out = self.part(self.anpr_xml(read), 'application/xml; charset="UTF-8"', "anpr.xml")
        for name, data in read["pictures"].items():
            out += self.part(data, "image/jpeg", name)
        return out

    def send_to_streams(self, data: bytes) -> None:
        """Raw bytes to every open alertStream (tests use it for malformed parts and junk)."""
        with self.lock:
            for sub in self.streams:
                sub.queue.put(data)

    def emit_malformed(self) -> None:
        """A truncated alert part (its XML cut short) and a part whose Content-Length lies."""
        broken = self.anpr_xml(
            {"plate": "BROKEN1", "list_type": "", "uuid": "x", "pictures": {}, "direction": "", "confidence": 0,
             "lane": 1, "time": self.now(), "active_post_count": 1}
        )[:300]  # fmt: skip
        self.send_to_streams(self.part(broken, "application/xml"))

    def cut_streams(self) -> None:
        """The next data on each open stream is cut in the middle of a part; the connection then drops."""
        with self.lock:
            for sub in self.streams:
                sub.cut = True

    def silence_streams(self) -> None:
        """Each open stream goes mute (no heartbeats, no alerts) but stays open; new ones are normal."""
        with self.lock:
            for sub in self.streams:
                sub.mute = True

    def push(self, read: dict) -> None:
        """Listening mode: POST the alert as multipart/form-data to every configured HTTP host."""
        with self.lock:
            hosts = [dict(h) for h in self.http_hosts if not _slot_is_free(h)]
        for host in hosts:
            boundary = "---------------------------" + secrets.token_hex(8)
            name = host.get("xml_name") or "anpr.xml"
            body = b""
            for part_name, data, ctype in [(name, self.anpr_xml(read), "text/xml")] + [
                (n, d, "image/jpeg") for n, d in read["pictures"].items()
            ]:
                body += (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{part_name}"; filename="{part_name}"\r\n'
                        f"Content-Type: {ctype}\r\nContent-Length: {len(data)}\r\n\r\n"
                    ).encode()
                    + data
                    + b"\r\n"
                )
            body += f"--{boundary}--\r\n".encode()
            url = f"http://{host['ipAddress']}:{host['portNo']}{host['url']}"
            status = 0
            try:
                conn = http.client.HTTPConnection(host["ipAddress"], int(host["portNo"]), timeout=10)
                conn.request("POST", host["url"], body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
                status = conn.getresponse().status
                conn.close()
            except OSError:
                pass
            with self.lock:
                self.pushes.append((url, status))

    def http_hosts_xml(self) -> bytes:
        with self.lock:
            items = "".join(_slot_xml(h) for h in self.http_hosts)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<HttpHostNotificationList version="2.0" xmlns="{NS["A"]}">\r\n'
            f"{items}</HttpHostNotificationList>\r\n"
        ).encode()

    def http_hosts_capabilities(self) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<HttpHostNotificationCap version="2.0" xmlns="{NS["A"]}">\r\n'
            f'<hostNumber>{len(self.http_hosts)}</hostNumber>\r\n<urlLen max="256"/>\r\n'
            '<protocolType opt="HTTP,HTTPS"/>\r\n<parameterFormatType opt="XML,JSON"/>\r\n'
            '<addressingFormatType opt="ipaddress,hostname"/>\r\n<httpAuthenticationMethod opt="none"/>\r\n'
            "</HttpHostNotificationCap>\r\n"
        ).encode()

    def put_http_hosts(self, body: bytes, slot_id: str | None) -> bool:
        try:
            root = ET.fromstring(body)  # noqa: S314 - test double parsing its own client's XML
        except ET.ParseError:
            return False
        items = (
            [root]
            if _local(root.tag) == "HttpHostNotification"
            else [e for e in root if _local(e.tag) == "HttpHostNotification"]
        )
        with self.lock:
            for item in items:
                values = {_local(e.tag): (e.text or "").strip() for e in item}
                wanted = slot_id or values.get("id", "")
                slot = next((h for h in self.http_hosts if h["id"] == wanted), None)
                if slot is None:
                    return False
                slot.update({k: values[k] for k in slot if k in values and k != "id"})
        return True

    def backfill_xml(self, body: bytes) -> bytes | None:
        """`vehicleDetect/plates`: the reads captured after `AfterTime/picTime` (None: bad request)."""
        match = re.search(rb"<picTime>([^<]*)</picTime>", body)
        if not match:
            return None
        after = _parse_pic_time(match.group(1).decode(), self.tz)
        if after is None:
            return None
        with self.lock:
            reads = [r for r in self.reads if r["time"] > after]
        items = "".join(
            f"<Plate><captureTime>{r['time'].strftime('%Y%m%d%H%M%S')}000</captureTime>"
            f"<plateNumber>{r['plate']}</plateNumber><picName>{r['pic_name']}</picName><country>3</country>"
            f"<laneNo>{r['lane']}</laneNo><direction>{r['direction']}</direction>"
            f"<matchingResult>{r['list_type']}</matchingResult></Plate>\r\n"
            for r in reads
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<Plates version="2.0" xmlns="{NS["A"]}">\r\n{items}</Plates>\r\n'
        ).encode()


def fake_jpeg(seed: str, size: int) -> bytes:
    """Bytes that start and end like a JPEG (SOI ... EOI), `size` long; different per seed."""
    filler = (seed.encode() * (size // max(1, len(seed)) + 1))[: max(0, size - 4)]
    return b"\xff\xd8" + filler + b"\xff\xd9"


@dataclass
class _Subscriber:
    """One open alertStream connection: what to send it, and its faults."""

    queue: queue.Queue = field(default_factory=queue.Queue)
    cut: bool = False
    mute: bool = False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _free_slot(n: int) -> dict:
    return {
        "id": str(n), "url": "/", "protocolType": "HTTP", "parameterFormatType": "XML",
        "addressingFormatType": "ipaddress", "ipAddress": "0.0.0.0", "portNo": "80",  # noqa: S104 - an unset slot
        "httpAuthenticationMethod": "none",
    }  # fmt: skip


def _slot_is_free(slot: dict) -> bool:
    return slot.get("ipAddress", "") in ("", "0.0.0.0")  # noqa: S104


def _slot_xml(slot: dict) -> str:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in slot.items() if k != "xml_name")
    return f"<HttpHostNotification>{inner}</HttpHostNotification>\r\n"


def _parse_pic_time(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    text = text.strip()
    for fmt in ("%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S"):
        try:
            value = dt.datetime.strptime(text, fmt)
            return value if value.tzinfo else value.replace(tzinfo=tz)
        except ValueError:
            continue
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _status(code: int, string: str, sub: str, **extra) -> tuple[int, dict]:
    return 200, {"statusCode": code, "statusString": string, "subStatusCode": sub, **extra}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """A camera going off line takes its kept-alive connections with it."""
        with self.connections_lock:
            connections, self.connections = list(self.connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):  # a client hanging up is normal here
        pass


class _Handler(BaseHTTPRequestHandler):
    camera: CameraDouble
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes: without TCP_NODELAY, Nagle + delayed ACK would add
    # 40 ms to every answer, which no camera does.
    disable_nagle_algorithm = True
    server_version = "App-webs/"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data).encode(), 'application/json; charset="UTF-8"')

    def _xml_status(self, status: int, code: int, string: str, sub: str) -> None:
        cam = self.camera
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\r\n<ResponseStatus version="2.0" xmlns="{NS[cam.family]}">\r\n'
            f"<requestURL>{self.path}</requestURL>\r\n<statusCode>{code}</statusCode>\r\n"
            f"<statusString>{string}</statusString>\r\n<subStatusCode>{sub}</subStatusCode>\r\n</ResponseStatus>\r\n"
        ).encode()
        self._send(status, body, "application/xml")

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _alert_stream(self) -> None:
        """Arming mode: a never-ending multipart/mixed answer (no Content-Length, no chunking, until
        the connection closes), a `videoloss` heartbeat with activePostCount 0 every
        `heartbeat_seconds`, alerts as they are emitted."""
        cam = self.camera
        sub = _Subscriber()
        self.close_connection = True
        # Subscribed before the client sees the headers: a fault set right after it opened applies.
        with cam.lock:
            cam.streams.append(sub)
            cam.stream_connections += 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/mixed; boundary={cam.boundary}")
            self.send_header("Connection", "close")
            self.end_headers()
            while not cam._stopping.is_set():
                try:
                    data = sub.queue.get(timeout=cam.heartbeat_seconds)
                except queue.Empty:
                    data = b"" if sub.mute else cam.part(cam.heartbeat_xml(), 'application/xml; charset="UTF-8"')
                if data is None:
                    return
                if sub.mute or not data:
                    continue
                if sub.cut:
                    self.wfile.write(data[: max(1, min(len(data) // 2, 400))])
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)
        except OSError:
            return
        finally:
            with cam.lock:
                if sub in cam.streams:
                    cam.streams.remove(sub)

    def _handle(self, method: str) -> None:
        cam = self.camera
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if cam.latency:
            time.sleep(cam.latency)
        auth = self.headers.get("Authorization", "")
        now = time.time()
        cam.calls.append(self.path)
        if self.path == "/" and method == "GET":  # the web UI's login page needs no credentials
            return self._send(200, b"<html><script>location='/doc/page/login.asp'</script></html>", "text/html")
        if self.path.startswith("/ISAPI/Event/notification/alertStream"):
            with cam.lock:
                cam.stream_requests += 1
        with cam.lock:
            locked = cam.locked_until > now
            if not auth and not locked:
                return self._send(401, HTML_401, "text/html", {"WWW-Authenticate": cam.challenge()})
            ok = bool(auth) and cam.check_digest(method, self.path, auth)
            if not ok and auth and not locked:
                cam.failed_logins += 1
                if cam.failed_logins >= cam.max_failures:
                    cam.locked_until = now + cam.lock_seconds
                    locked = True
            if locked or not ok:
                body401 = cam.user_check(locked) if cam.auth_body == "usercheck" else HTML_401
                ctype = "application/xml" if cam.auth_body == "usercheck" else "text/html"
                return self._send(401, body401, ctype, {"WWW-Authenticate": cam.challenge()})
            cam.failed_logins = 0
            cam.log.append((method, self.path, body))
        fault = cam.take_fault(self.path)
        if fault == "401":  # refused although the digest was right (a password changed meanwhile)
            return self._send(401, cam.user_check(False), "application/xml", {"WWW-Authenticate": cam.challenge()})
        if fault == "timeout":
            cam._stopping.wait(cam.hang_seconds)
            self.close_connection = True
            return None
        if fault == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        if fault == "5xx":
            return self._send(503, b"<html>Service Unavailable</html>", "text/html")
        if fault == "busy":
            if "searchLPListAudit" in self.path:
                return self._xml_status(200, 2, "Device Busy", "deviceBusy")
            return self._json(200, {"statusCode": 2, "statusString": "Device Busy", "subStatusCode": "deviceBusy"})
        return self._route(method, body)

    def _route(self, method: str, body: bytes) -> None:
        cam = self.camera
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        prefix = "/ISAPI/Traffic/channels/1/"
        if method == "GET" and path == "/ISAPI/System/deviceInfo":
            return self._send(200, cam.device_info(), "application/xml")
        if method == "GET" and path == "/ISAPI/Streaming/channels":
            return self._send(200, cam.streaming_channels(), "application/xml")
        picture = re.fullmatch(r"/ISAPI/Streaming/channels/(\d+)/picture", path)
        if method == "GET" and picture and 1 <= int(picture[1]) // 100 <= cam.channels:
            cam.pictures_taken += 1
            return self._send(200, PICTURE_JPEG, "image/jpeg")
        if method == "GET" and path == "/ISAPI/Event/notification/alertStream":
            return self._alert_stream()
        if method == "GET" and path == "/ISAPI/Event/notification/httpHosts":
            return self._send(200, cam.http_hosts_xml(), "application/xml")
        if method == "GET" and path == "/ISAPI/Event/notification/httpHosts/capabilities":
            return self._send(200, cam.http_hosts_capabilities(), "application/xml")
        if method == "PUT" and path.startswith("/ISAPI/Event/notification/httpHosts"):
            slot = path.removeprefix("/ISAPI/Event/notification/httpHosts").strip("/") or None
            if cam.put_http_hosts(body, slot):
                return self._xml_status(200, 1, "OK", "ok")
            return self._xml_status(400, 6, "Invalid XML Content", "badXmlContent")
        if method == "POST" and path == prefix + "vehicleDetect/plates" and cam.backfill_enabled:
            answer = cam.backfill_xml(body)
            if answer is None:
                return self._xml_status(400, 6, "Invalid XML Content", "badXmlContent")
            return self._send(200, answer, "application/xml")
        if method == "POST" and path == prefix + "searchLPListAudit":
            try:
                return self._send(200, cam.search(body), "application/xml")
            except (ET.ParseError, ValueError):
                return self._xml_status(200, 5, "Invalid XML Format", "badXmlFormat")
        if method == "PUT" and path == prefix + "licensePlateAuditData/record" and query.get("format") == ["json"]:
            return self._json(*cam.put_records(body))
        if method == "PUT" and path == prefix + "DelLicensePlateAuditData" and query.get("format") == ["json"]:
            return self._json(*cam.delete(body))
        if path == prefix + "licensePlateAuditData" and query.get("fileType") == ["csv"]:
            if method == "GET":
                return self._send(200, cam.export_csv(), "application/octet-stream")
            if method == "PUT":
                return self._json(*cam.import_csv(body))
        if path.startswith("/ISAPI/ITC/Entrance/VCL"):
            return self._json(
                403,
                {
                    "requestURL": path,
                    "statusCode": 4,
                    "statusString": "Invalid Operation",
                    "subStatusCode": "notSupport",
                    "errorCode": 1073741825,
                    "errorMsg": "notSupport",
                },
            )
        return self._xml_status(404, 4, "Invalid Operation", "notSupport")


CameraDouble = HikvisionCamera  # the plates tests' name for it


def main() -> None:  # pragma: no cover - used by bench/plates_push.py
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--family", default="A")
    parser.add_argument("--max-page", type=int, default=100)
    args = parser.parse_args()
    cams = [
        HikvisionCamera(args.family, latency=args.latency, max_page=args.max_page).start() for _ in range(args.count)
    ]
    print(json.dumps({"ports": [c.port for c in cams]}), flush=True)
    sys.stdin.read()
    for c in cams:
        c.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
