"""A fake Hikvision ANPR camera over real HTTP on 127.0.0.1, for tests and the benchmark.

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

Fault injection: `latency` (seconds added to every answer), `inject(kind, times, path=...)` with kind
`timeout` (no answer until the client gives up), `5xx`, `busy` (HTTP 200, statusCode 2), `reset`;
`stop()`/`start()` take the camera off line and back on the same port.

Run standalone for the benchmark: `python -m plates.tests.camera_double --count 32 --latency 0.02`
prints one JSON line with the ports, then serves until stdin closes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NS = {"A": "http://www.hikvision.com/ver20/XMLSchema", "B": "http://www.isapi.org/ver20/XMLSchema"}
CSV_HEADER = (
    'No.,Plate No.,"Group(0 BlockList, 1 AllowList)",'
    '"Effective Start Date (Format: YYYY-MM-DD, e.g., 2017-12-07)",'
    '"Effective End Date (Format: YYYY-MM-DD, e.g., 2017-12-07)"'
)
B_REQUIRED_KEYS = {"id", "LicensePlate", "listType", "cardNo", "createTime", "effectiveTime"}
HTML_401 = (
    b"<!DOCTYPE html>\r\n<html><head><title>Document Error: Unauthorized</title></head>\r\n"
    b"<body><h2>Access Error: 401 -- Unauthorized</h2>\r\n<p>Authentication Error</p>\r\n</body>\r\n</html>\r\n"
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - HTTP Digest is MD5 by definition


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


class CameraDouble:
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
        self.host = "127.0.0.1"

    # -- lifecycle --

    def start(self) -> CameraDouble:
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

    def __enter__(self) -> CameraDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- test helpers --

    def inject(self, kind: str, times: int = 1, path: str | None = None) -> None:
        assert kind in ("timeout", "5xx", "busy", "reset")
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
        nonce = secrets.token_hex(16)
        if self.family == "B":  # newer "Webs" firmware: nonce "<hex>:<ms>", domain, opaque, algorithm
            nonce = f"{nonce}:{int(time.time() * 1000)}"
        with self.lock:
            self._nonces.add(nonce)
        if self.family == "A":
            return f'Digest qop="auth", realm="{self.realm}", nonce="{nonce}", stale="FALSE"'
        return (
            f'Digest realm="{self.realm}", domain="::", qop="auth", nonce="{nonce}", '
            'opaque="", algorithm="MD5", stale="FALSE"'
        )

    def check_digest(self, method: str, target: str, header: str) -> bool:
        params = _parse_digest(header)
        if params.get("username") != self.username or params.get("realm") != self.realm:
            return False
        if params.get("nonce") not in self._nonces or params.get("uri") != target:
            return False
        if params.get("qop") != "auth":
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{target}")
        expected = _md5(f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
        return secrets.compare_digest(expected, params.get("response", ""))

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
        model = "iDS-2CD7A46G0/P" if self.family == "A" else "DS-TCG406-E"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\r\n'
            f'<DeviceInfo version="2.0" xmlns="{NS["A"]}">\r\n<deviceName>IP CAMERA</deviceName>\r\n'
            f"<model>{model}</model>\r\n<firmwareVersion>{'V5.5.0' if self.family == 'B' else 'V5.5.800'}"
            "</firmwareVersion>\r\n<deviceType>IPCamera</deviceType>\r\n</DeviceInfo>\r\n"
        ).encode()


def _status(code: int, string: str, sub: str, **extra) -> tuple[int, dict]:
    return 200, {"statusCode": code, "statusString": string, "subStatusCode": sub, **extra}


def _parse_digest(header: str) -> dict:
    import re

    if not header.lower().startswith("digest "):
        return {}
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[7:])}


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

    def _handle(self, method: str) -> None:
        cam = self.camera
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if cam.latency:
            time.sleep(cam.latency)
        auth = self.headers.get("Authorization", "")
        now = time.time()
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


def main() -> None:  # pragma: no cover - used by bench/plates_push.py
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--family", default="A")
    parser.add_argument("--max-page", type=int, default=100)
    args = parser.parse_args()
    cams = [CameraDouble(args.family, latency=args.latency, max_page=args.max_page).start() for _ in range(args.count)]
    print(json.dumps({"ports": [c.port for c in cams]}), flush=True)
    sys.stdin.read()
    for c in cams:
        c.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
