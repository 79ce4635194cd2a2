"""The ANPR plate-list operations of the Hikvision ISAPI client.

The transport (keep-alive connection, HTTP Digest, timeouts), the typed errors and the
`ResponseStatus`/`userCheck` parsing live in `cameras/clients/isapi.py`, the one client every ISAPI
request goes through; `ISAPIClient` here extends it with the plate list, and this module re-exports
the shared names so plates code names one module. Raw protocol I/O only (no ORM). What it knows about
the devices comes from the research report (`shared/isapi/REPORT.md`):

- Two firmware families. A ("classic ANPR", namespace hikvision.com): numeric ids assigned by the
  camera, `whiteList`/`blackList`, delete by string id. B ("TCG", namespace isapi.org): id = plate,
  `allowList`/`blockList` on write (reads still say `whiteList`), delete by plate via `CompoundCond`.
  The family is detected once (`detect_family`) and kept on the client; callers persist it.
- Success is HTTP 200 *and* `statusCode` 1 (see `cameras.clients.isapi` for the error types).
- Bad credentials are never retried: after one 401 that carried credentials the client refuses to
  send anything more (the device locks the source address after a few failures).
- The search filter is a substring match: `find` matches exactly on our side and pages until
  `totalMatches`.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.crypto import salted_hmac

from cameras.clients import isapi as device_isapi
from cameras.clients.isapi import (
    BadCredentials,
    BadParameters,
    DeviceBusy,
    DeviceInfo,
    DeviceLocked,
    DeviceTimeout,
    DeviceUnreachable,
    ISAPIError,
    NotSupported,
    PermanentError,
    ProtocolError,
    Response,
    StreamingChannel,
    Timeouts,
    TransientError,
    _find_text,
    _int,
    _local,
    _namespace,
    _xml,
    error_from_status,
    parse_response_status,
    parse_user_check,
)

__all__ = [  # the shared names are re-exported: plates code and tests name this one module
    "ALLOW",
    "BLOCK",
    "DEFAULT_END",
    "DEFAULT_START",
    "FAMILIES",
    "FAMILY_A",
    "FAMILY_B",
    "BadCredentials",
    "BadParameters",
    "DeviceBusy",
    "DeviceInfo",
    "DeviceLocked",
    "DeviceTimeout",
    "DeviceUnreachable",
    "ISAPIClient",
    "ISAPIError",
    "NotSupported",
    "PermanentError",
    "PlateRecord",
    "PlateSpec",
    "ProtocolError",
    "Response",
    "SearchPage",
    "StreamingChannel",
    "Timeouts",
    "TransientError",
    "client_for",
    "credentials_fingerprint",
    "error_from_status",
    "normalise_plate",
    "parse_response_status",
    "parse_search_result",
    "parse_user_check",
]

FAMILY_A = "A"
FAMILY_B = "B"
FAMILIES = (FAMILY_A, FAMILY_B)
NS_A = "http://www.hikvision.com/ver20/XMLSchema"
NS_B = "http://www.isapi.org/ver20/XMLSchema"

ALLOW = "allow"
BLOCK = "block"
# What each family writes; both read back whiteList/blackList.
WRITE_LIST_TYPE = {
    FAMILY_A: {ALLOW: "whiteList", BLOCK: "blackList"},
    FAMILY_B: {ALLOW: "allowList", BLOCK: "blockList"},
}
READ_LIST_TYPE = {
    "whitelist": ALLOW,
    "allowlist": ALLOW,
    "blacklist": BLOCK,
    "blocklist": BLOCK,
}

DEFAULT_END = date(2037, 12, 31)  # some firmware refuses years past 2037 (report §7.9)
DEFAULT_START = date(2000, 1, 1)  # camera clocks are often wrong: start far in the past (report §8)


# --- Records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlateSpec:
    """A plate as we want it on a camera."""

    plate: str
    list_type: str = ALLOW
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class PlateRecord:
    """A record as a camera reports it (one plate may have several: duplicates)."""

    record_id: str
    plate: str
    list_type: str
    valid_from: date | None = None
    valid_until: date | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def spec(self) -> PlateSpec:
        return PlateSpec(self.plate, self.list_type, self.valid_from, self.valid_until)


def normalise_plate(value: str) -> str:
    """The canonical form we compare plates in: upper case, no spaces, dashes or dots."""
    return re.sub(r"[\s\-.·]", "", str(value)).upper()


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    value = value.strip()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# --- Search answers --------------------------------------------------------------------------


@dataclass
class SearchPage:
    records: list[PlateRecord]
    num_matches: int
    total_matches: int
    status: str
    namespace: str


def parse_search_result(body: bytes) -> SearchPage:
    root = _xml(body.lstrip(b"\xef\xbb\xbf"))
    if root is None or _local(root.tag) != "LPListAuditSearchResult":
        raise ProtocolError("camera sent an unexpected search answer")
    records = []
    for el in root.iter():
        if _local(el.tag) != "LicensePlateInfo":
            continue
        values = {_local(c.tag): (c.text or "").strip() for c in el}
        plate = normalise_plate(values.get("LicensePlate", ""))
        kind = READ_LIST_TYPE.get(values.get("type", values.get("listType", "")).lower(), ALLOW)
        records.append(
            PlateRecord(
                record_id=values.get("id", ""),
                plate=plate,
                list_type=kind,
                valid_from=_parse_date(values.get("effectiveStartDate") or values.get("createTime")),
                valid_until=_parse_date(values.get("effectiveTime")),
                extra=values,
            )
        )
    # The counters sit inside LicensePlateInfoList on some firmware, beside it on others.
    num = _int(_find_text(root, "numOfMatches"))
    total = _int(_find_text(root, "totalMatches"))
    return SearchPage(
        records=records,
        num_matches=len(records) if num is None else num,
        total_matches=len(records) if total is None else total,
        status=(_find_text(root, "responseStatusStrg") or "").upper(),
        namespace=_namespace(root.tag),
    )


# --- The client ------------------------------------------------------------------------------


class ISAPIClient(device_isapi.ISAPIClient):
    """One camera (one ANPR channel): the shared ISAPI client plus the plate list.

    For one thread at a time; one keep-alive connection.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int = 80,
        channel: int = 1,
        username: str = "",
        password: str = "",
        family: str | None = None,
        timeouts: Timeouts | None = None,
        scheme: str = "http",
        page_size: int = 100,
        batch_size: int = 50,
    ):
        super().__init__(host, port=port, username=username, password=password, timeouts=timeouts, scheme=scheme)
        self.channel = channel
        self.family = family if family in FAMILIES else None
        self.page_size = page_size
        self.batch_size = batch_size

    def __repr__(self) -> str:  # never the credentials
        return f"<ISAPIClient {self.host}:{self.port} ch{self.channel} family={self.family}>"

    def _path(self, suffix: str) -> str:
        return f"/ISAPI/Traffic/channels/{self.channel}/{suffix}"

    # -- family --

    def detect_family(self) -> str:
        """Which firmware family this camera runs; asked once, then remembered on the client.

        The search answer's namespace tells (isapi.org = B, hikvision.com = A); when it is missing,
        record ids do: B's id is the plate, A's a number.
        """
        if self.family:
            return self.family
        page = self._search_page(None, 0, 5)
        family = None
        if page.namespace == NS_B:
            family = FAMILY_B
        elif page.namespace == NS_A:
            family = FAMILY_A
        elif page.records:
            rec = page.records[0]
            family = FAMILY_A if rec.record_id.isdigit() and rec.record_id != rec.plate else FAMILY_B
        self.family = family or FAMILY_A
        return self.family

    # -- search --

    def _search_page(self, plate: str | None, position: int, size: int) -> SearchPage:
        plate_xml = f"<LicensePlate>{_xml_escape(plate)}</LicensePlate>" if plate else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            "<LPListAuditSearchDescription>"
            f"<searchID>{uuid.uuid4()}</searchID>"
            f"<maxResults>{size}</maxResults>"
            f"<searchResultPosition>{position}</searchResultPosition>"
            f"{plate_xml}</LPListAuditSearchDescription>"
        )
        response = self.request("POST", self._path("searchLPListAudit"), xml_body=body)
        status = parse_response_status(response.content)
        if status is not None:
            raise error_from_status(status, response.status_code)
        return parse_search_result(response.content)

    def search(self, plate: str | None = None) -> list[PlateRecord]:
        """Every record whose plate contains `plate` (the device's substring filter), or all records.

        Pages until `totalMatches`; the device decides the page size it really returns.
        """
        records: list[PlateRecord] = []
        position = 0
        for _ in range(100_000):  # bounded: a confused device must not loop us forever
            page = self._search_page(plate, position, self.page_size)
            if page.namespace and not self.family:
                self.family = FAMILY_B if page.namespace == NS_B else FAMILY_A
            records.extend(page.records)
            position += len(page.records)
            if not page.records:
                break
            if page.status == "MORE":
                continue
            if position >= page.total_matches:
                break
        return records

    def find(self, plate: str) -> list[PlateRecord]:
        """Every record of exactly this plate (duplicates included), never substring matches."""
        wanted = normalise_plate(plate)
        return [r for r in self.search(wanted) if r.plate == wanted]

    def list_all(self) -> list[PlateRecord]:
        return self.search(None)

    # -- writes --

    def _record(self, spec: PlateSpec, record_id: str = "") -> dict:
        family = self.family or FAMILY_A
        start = spec.valid_from or DEFAULT_START
        end = spec.valid_until or DEFAULT_END
        if family == FAMILY_A:
            return {
                "LicensePlate": spec.plate,
                "listType": WRITE_LIST_TYPE[FAMILY_A][spec.list_type],
                "createTime": _now_text(),
                "effectiveStartDate": start.isoformat(),
                "effectiveTime": end.isoformat(),
                "id": record_id,
            }
        # Family B refuses records with keys omitted: send the web UI's whole field set (report §2.1b).
        return {
            "id": spec.plate,
            "LicensePlate": spec.plate,
            "listType": WRITE_LIST_TYPE[FAMILY_B][spec.list_type],
            "cardNo": "",
            "cardID": "",
            "plateType": "",
            "plateColor": "",
            "plateDescription": "",
            "remoteControllerCode": "",
            "plateNoSub": "",
            "CRIndex": "",
            "area": "",
            "name": "",
            "certificateType": "",
            "certificateNumber": "",
            "operationType": "modify" if record_id else "add",
            "virtualParkingNum": "",
            "groupName": "",
            "createTime": f"{start.isoformat()}T00:00:00",
            "effectiveTime": f"{end.isoformat()}T23:59:59",
            "operation": "new",
        }

    def put_records(self, records: list[dict]) -> None:
        """One PUT carrying several records (add when id is empty, update in place otherwise)."""
        response = self.request(
            "PUT", self._path("licensePlateAuditData/record?format=json"), json_body={"LicensePlateInfoList": records}
        )
        self._expect_ok(response)

    def add(self, specs: list[PlateSpec]) -> None:
        """Add records as they are (the device accepts duplicates: callers search first)."""
        self.detect_family()
        for i in range(0, len(specs), self.batch_size):
            self.put_records([self._record(s) for s in specs[i : i + self.batch_size]])

    def update(self, record: PlateRecord, spec: PlateSpec) -> None:
        """Rewrite one existing record (family A: in place by id)."""
        self.detect_family()
        self.put_records([self._record(spec, record.record_id)])

    def delete_records(self, records: list[PlateRecord]) -> None:
        """Delete these records. Family A by string ids (a number is a silent no-op on the device),
        family B by plate. The device may say OK and delete nothing: callers search again."""
        family = self.detect_family()
        path = self._path("DelLicensePlateAuditData?format=json")
        if family == FAMILY_A:
            ids = [str(r.record_id) for r in records]
            for i in range(0, len(ids), self.batch_size):
                body = {"id": ids[i : i + self.batch_size], "deleteAllEnabled": False}
                self._expect_ok(self.request("PUT", path, json_body=body))
            return
        for plate in dict.fromkeys(r.plate for r in records):
            body = {"deleteAllEnabled": False, "CompoundCond": {"plateColor": "", "licensePlate": plate}}
            self._expect_ok(self.request("PUT", path, json_body=body))

    # -- capacity --

    def list_capacity(self) -> int | None:
        """How many plates the camera's list can hold (`plateListNum` in the traffic capabilities),
        or None where the firmware does not say (notSupport, no such element)."""
        try:
            response = self.request("GET", "/ISAPI/Traffic/capabilities")
        except NotSupported:
            return None
        except PermanentError as exc:
            if exc.http_status in (403, 404):
                return None
            raise
        root = _xml(response.content)
        if root is None:
            return None
        value = _int(_find_text(root, "plateListNum"))
        return value if value and value > 0 else None

    # -- backup --

    def export_csv(self) -> bytes:
        """The device's own list export, byte for byte (UTF-8 with BOM, CRLF)."""
        response = self.request("GET", self._path("licensePlateAuditData?fileType=csv"), read_timeout=60)
        status = parse_response_status(response.content)
        if status is not None and _int(status.get("statusCode")) != 1:
            raise error_from_status(status, response.status_code)
        return response.content

    def import_csv(self, data: bytes) -> None:
        """Replace the device's whole list with a CSV (keep the header the device exported)."""
        response = self.request(
            "PUT",
            self._path("licensePlateAuditData?fileType=csv"),
            data=data,
            content_type="text/csv",
            read_timeout=120,
        )
        self._expect_ok(response)


_now_cache: tuple[int, str] = (0, "")


def _now_text() -> str:
    """Local time as family A's `createTime` wants it (formatted once a second, not once a record)."""
    global _now_cache
    second = int(time.time())
    if _now_cache[0] != second:
        _now_cache = (second, datetime.fromtimestamp(second).strftime("%Y-%m-%dT%H:%M:%S"))
    return _now_cache[1]


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def credentials_fingerprint(username: str, password: str) -> str:
    """A stable, non-reversible tag for a credential pair (to notice that credentials changed).

    Keyed with SECRET_KEY (HMAC): a stored tag cannot be checked against guessed passwords offline.
    """
    tag = salted_hmac("plates.credentials_fingerprint", f"{username}\0{password}", algorithm="sha256")
    return tag.hexdigest()[:32]


_clients: dict[tuple, ISAPIClient] = {}
_clients_lock = threading.Lock()


def client_for(
    host: str, *, port: int, channel: int, username: str, password: str, family: str | None, **kw
) -> ISAPIClient:
    """The session-holding client for one camera in this thread (keep-alive between calls).

    Keyed by address and a credential fingerprint, so changed credentials get a fresh client and a
    client that saw a 401 is never reused for other credentials.
    """
    key = (threading.get_ident(), host, port, channel, credentials_fingerprint(username, password))
    with _clients_lock:
        if len(_clients) > 2048:  # threads come and go (benchmarks, tests): drop the old sessions
            for old in _clients.values():
                old.close()
            _clients.clear()
        client = _clients.get(key)
        if client is None or client.auth_failure is not None:
            if client is not None:
                client.close()
            client = ISAPIClient(
                host, port=port, channel=channel, username=username, password=password, family=family, **kw
            )
            _clients[key] = client
        elif family and not client.family:
            client.family = family
        return client
