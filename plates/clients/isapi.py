"""The one Hikvision ISAPI client for ANPR plate lists: every request to a camera goes through here.

Raw protocol I/O only (no ORM). What it knows about the devices comes from the research report
(`shared/isapi/REPORT.md`):

- Two firmware families. A ("classic ANPR", namespace hikvision.com): numeric ids assigned by the
  camera, `whiteList`/`blackList`, delete by string id. B ("TCG", namespace isapi.org): id = plate,
  `allowList`/`blockList` on write (reads still say `whiteList`), delete by plate via `CompoundCond`.
  The family is detected once (`detect_family`) and kept on the client; callers persist it.
- Success is HTTP 200 *and* `statusCode` 1. Every `ResponseStatus` (XML or JSON, wrapped or not)
  becomes a typed error: `TransientError` (timeouts, refused connections, 5xx, busy) may be retried;
  `PermanentError` (401, 400 badParameters...) must not be.
- Bad credentials are never retried: after one 401 that carried credentials the client refuses to
  send anything more (the device locks the source address after a few failures).
- The search filter is a substring match: `find` matches exactly on our side and pages until
  `totalMatches`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.request import parse_http_list, parse_keqv_list

import urllib3
import urllib3.connectionpool
from urllib3 import exceptions as u3

logger = logging.getLogger(__name__)

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

TRANSIENT_SUB_STATUS = {"deviceBusy", "serviceUnavailable", "upgrading", "noMemory"}
DEFAULT_END = date(2037, 12, 31)  # some firmware refuses years past 2037 (report §7.9)
DEFAULT_START = date(2000, 1, 1)  # camera clocks are often wrong: start far in the past (report §8)


# --- Errors ----------------------------------------------------------------------------------


class ISAPIError(Exception):
    """A camera said no, or could not be reached. `str()` is safe to show: it never has credentials."""

    transient = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status_code: int | None = None,
        status_string: str = "",
        sub_status_code: str = "",
        error_code: int | None = None,
        error_msg: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.status_code = status_code
        self.status_string = status_string
        self.sub_status_code = sub_status_code
        self.error_code = error_code
        self.error_msg = error_msg

    def as_dict(self) -> dict:
        return {
            "error": self.message,
            "kind": type(self).__name__,
            "transient": self.transient,
            "http_status": self.http_status,
            "status_code": self.status_code,
            "sub_status_code": self.sub_status_code or None,
        }


class TransientError(ISAPIError):
    """Worth retrying later: timeout, connection refused, 5xx, device busy."""

    transient = True


class DeviceUnreachable(TransientError):
    pass


class DeviceTimeout(TransientError):
    pass


class DeviceBusy(TransientError):
    pass


class PermanentError(ISAPIError):
    """Retrying will not help: the request or the credentials must change."""


class BadParameters(PermanentError):
    pass


class NotSupported(PermanentError):
    pass


class BadCredentials(PermanentError):
    """The camera refused our credentials (HTTP 401 after digest). Never retry in a loop."""

    def __init__(self, message: str, *, locked: bool = False, unlock_time: int | None = None, **kw):
        super().__init__(message, **kw)
        self.locked = locked
        self.unlock_time = unlock_time

    def as_dict(self) -> dict:
        return {**super().as_dict(), "locked": self.locked, "unlock_time": self.unlock_time}


class DeviceLocked(BadCredentials):
    """The camera locked our address after failed logins; `unlock_time` seconds remain (when known)."""


class ProtocolError(PermanentError):
    """An answer we cannot understand."""


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


# --- Parsing ---------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _xml(body: bytes) -> ET.Element | None:
    try:
        return ET.fromstring(body)  # noqa: S314 - see import note
    except ET.ParseError:
        return None


def _find_text(root: ET.Element, name: str) -> str | None:
    for el in root.iter():
        if _local(el.tag) == name:
            return (el.text or "").strip()
    return None


def parse_response_status(body: bytes) -> dict | None:
    """A `ResponseStatus` from XML or JSON (top level or wrapped in `ResponseStatus`), else None."""
    text = body.lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        return None
    if text[:1] in (b"{", b"["):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("ResponseStatus"), dict):
            data = data["ResponseStatus"]
        if isinstance(data, dict) and "statusCode" in data:
            return data
        return None
    root = _xml(text)
    if root is None or _local(root.tag) != "ResponseStatus":
        return None
    out: dict[str, Any] = {}
    for child in root:
        out[_local(child.tag)] = (child.text or "").strip()
    return out


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip(), 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None


def error_from_status(status: dict, http_status: int) -> ISAPIError:
    code = _int(status.get("statusCode"))
    string = str(status.get("statusString") or "")
    sub = str(status.get("subStatusCode") or "")
    kw = {
        "http_status": http_status,
        "status_code": code,
        "status_string": string,
        "sub_status_code": sub,
        "error_code": _int(status.get("errorCode")),
        "error_msg": str(status.get("errorMsg") or status.get("MErrCode") or ""),
    }
    detail = f"{string or 'error'} ({sub})" if sub else (string or "error")
    message = f"camera answered statusCode {code}: {detail}"
    if kw["error_msg"]:
        message += f" [{kw['error_msg']}]"
    if code == 2 or sub in TRANSIENT_SUB_STATUS or http_status >= 500:
        return DeviceBusy(message, **kw)
    if sub in ("badAuthorization", "incorrectUserNameOrPassword"):
        return BadCredentials(message, **kw)
    if sub in ("notSupport", "methodNotAllowed") or (http_status == 403 and code == 4):
        return NotSupported(message, **kw)
    if code in (5, 6) or http_status == 400:
        return BadParameters(message, **kw)
    return PermanentError(message, **kw)


def parse_user_check(body: bytes) -> dict:
    """Lock details from a 401 body: `<userCheck>` XML (newer firmware) or a JSON/XML ResponseStatus."""
    out: dict[str, Any] = {}
    text = body.strip()
    if text[:1] == b"{":
        try:
            data = json.loads(text)
        except ValueError:
            return out
        if isinstance(data, dict):
            data = data.get("ResponseStatus", data.get("userCheck", data))
            for key in ("lockStatus", "unlockTime", "retryLoginTime", "retryTimes", "resLockTime"):
                if key in data:
                    out[key] = data[key]
        return out
    root = _xml(text) if text[:1] == b"<" else None
    if root is None or _local(root.tag) == "html":
        return out
    for key in ("lockStatus", "unlockTime", "retryLoginTime", "retryTimes", "resLockTime", "isIllegalLogin"):
        value = _find_text(root, key)
        if value is not None:
            out[key] = value
    return out


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


# --- Transport -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A camera's answer: status, body (read whole) and headers."""

    status_code: int
    content: bytes
    headers: Any = field(repr=False)


_HASHES = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-512": hashlib.sha512,
}


class _Digest:
    """HTTP Digest (RFC 2617/7616) for one connection's requests, as `requests.auth.HTTPDigestAuth`
    computes it: the `uri` is the full request target (query included), qop `auth`, nc per nonce."""

    def __init__(self, username: str, password: str):
        self._username = username
        self._password = password
        self._challenge: dict[str, str] = {}
        self._nonce = ""
        self._count = 0

    def challenged(self, headers) -> bool:
        """Take the Digest challenge of a 401; False when it carries none."""
        for value in headers.getlist("WWW-Authenticate") if hasattr(headers, "getlist") else []:
            scheme, _, rest = value.strip().partition(" ")
            if scheme.lower() == "digest":
                self._challenge = {k.lower(): v for k, v in parse_keqv_list(parse_http_list(rest)).items()}
                return "nonce" in self._challenge
        return False

    def header(self, method: str, target: str) -> str | None:
        c = self._challenge
        if "nonce" not in c:
            return None
        algorithm = c.get("algorithm", "MD5")
        hash_ = _HASHES.get(algorithm.upper())
        qop = c.get("qop")
        if hash_ is None or (qop and "auth" not in [q.strip() for q in qop.split(",")]):
            return None

        def h(text: str) -> str:
            return hash_(text.encode()).hexdigest()

        nonce, realm = c["nonce"], c.get("realm", "")
        self._count = self._count + 1 if nonce == self._nonce else 1
        self._nonce = nonce
        nc = f"{self._count:08x}"
        cnonce = secrets.token_hex(8)
        ha1 = h(f"{self._username}:{realm}:{self._password}")
        if algorithm.upper() == "MD5-SESS":
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{target}")
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}") if qop else h(f"{ha1}:{nonce}:{ha2}")
        out = f'username="{self._username}", realm="{realm}", nonce="{nonce}", uri="{target}", response="{response}"'
        if c.get("opaque"):
            out += f', opaque="{c["opaque"]}"'
        if c.get("algorithm"):
            out += f', algorithm="{algorithm}"'
        if qop:
            out += f', qop="auth", nc={nc}, cnonce="{cnonce}"'
        return "Digest " + out


# --- The client ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 10.0


class ISAPIClient:
    """One camera (one ANPR channel). For one thread at a time; one keep-alive connection."""

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
        self.host = host
        self.port = port
        self.channel = channel
        self.base = f"{scheme}://{host}:{port}"
        self.family = family if family in FAMILIES else None
        self.timeouts = timeouts or Timeouts()
        self.page_size = page_size
        self.batch_size = batch_size
        # One keep-alive connection to the camera (urllib3 pool of one: a connection the camera closed
        # is noticed and replaced before reuse). Cameras are talked to directly: no proxy, no .netrc.
        self._pool = urllib3.connectionpool.connection_from_url(
            self.base, maxsize=1, block=False, retries=False, headers={"User-Agent": "lprnvr-isapi/1"}
        )
        self._digest = _Digest(username, password)
        self._auth_failure: BadCredentials | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the credentials
        return f"<ISAPIClient {self.host}:{self.port} ch{self.channel} family={self.family}>"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> ISAPIClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport --

    def _path(self, suffix: str) -> str:
        return f"/ISAPI/Traffic/channels/{self.channel}/{suffix}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        xml_body: str | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        read_timeout: float | None = None,
    ) -> Response:
        """Send one request; raise a typed error unless the camera answered 2xx (the caller checks
        the body's statusCode for write calls, see `_expect_ok`).

        HTTP Digest as `requests.auth.HTTPDigestAuth` does it: the first request of a connection gets
        the challenge, later ones answer the remembered nonce (nc counting up); a 401 carrying a
        digest challenge is answered once with it, never more (a wrong password costs one failed login).
        """
        if self._auth_failure is not None:
            # One 401 with credentials is enough: never fan a wrong password out (lockout).
            raise self._auth_failure
        headers = {"Accept": "*/*"}
        body: bytes | None = data
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif xml_body is not None:
            body = xml_body.encode()
            headers["Content-Type"] = "application/xml"
        if content_type:
            headers["Content-Type"] = content_type
        timeout = urllib3.Timeout(connect=self.timeouts.connect, read=read_timeout or self.timeouts.read)
        authorization = self._digest.header(method, path)
        if authorization:
            headers["Authorization"] = authorization
        response = self._send(method, path, body, headers, timeout)
        if response.status_code == 401 and self._digest.challenged(response.headers):
            authorization = self._digest.header(method, path)
            if authorization:  # else a challenge we cannot answer (algorithm, qop): the 401 stands
                headers["Authorization"] = authorization
                response = self._send(method, path, body, headers, timeout)
        if response.status_code == 401:
            self._auth_failure = self._auth_error(response)
            raise self._auth_failure
        if response.status_code >= 500:
            status = parse_response_status(response.content)
            if status:
                raise error_from_status(status, response.status_code)
            message = f"camera {self.address} answered HTTP {response.status_code}"
            raise TransientError(message, http_status=response.status_code)
        if response.status_code != 200:
            status = parse_response_status(response.content)
            if status:
                raise error_from_status(status, response.status_code)
            message = f"camera {self.address} answered HTTP {response.status_code}"
            raise PermanentError(message, http_status=response.status_code)
        return response

    def _send(self, method: str, path: str, body: bytes | None, headers: dict, timeout) -> Response:
        try:
            raw = self._pool.urlopen(
                method, path, body=body, headers=headers, timeout=timeout, retries=False, redirect=False,
                assert_same_host=False, preload_content=True, decode_content=True,
            )  # fmt: skip
        except u3.NewConnectionError as exc:  # (a subclass of ConnectTimeoutError: test it first)
            reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
            raise DeviceUnreachable(f"camera {self.address} unreachable: {reason}") from None
        except (u3.ConnectTimeoutError, u3.ReadTimeoutError, TimeoutError) as exc:
            raise DeviceTimeout(f"camera {self.address} did not answer in time ({type(exc).__name__})") from None
        except (u3.ProtocolError, OSError) as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
            raise DeviceUnreachable(f"camera {self.address} unreachable: {reason}") from None
        except u3.HTTPError as exc:
            raise DeviceUnreachable(f"camera {self.address}: {type(exc).__name__}") from None
        return Response(raw.status, raw.data or b"", raw.headers)

    def _auth_error(self, response: Response) -> BadCredentials:
        info = parse_user_check(response.content)
        locked = str(info.get("lockStatus", "")).lower() == "lock"
        unlock = _int(info.get("unlockTime") or info.get("resLockTime"))
        if locked:
            message = f"camera {self.address} locked our address after failed logins"
            if unlock:
                message += f"; it unlocks in {unlock} s"
            return DeviceLocked(message, http_status=401, locked=True, unlock_time=unlock)
        message = f"camera {self.address} refused the credentials (HTTP 401)"
        retries = _int(info.get("retryLoginTime") or info.get("retryTimes"))
        if retries is not None:
            message += f"; {retries} attempts left before it locks"
        return BadCredentials(message, http_status=401, unlock_time=None)

    def _expect_ok(self, response: Response) -> dict:
        status = parse_response_status(response.content)
        if status is None:
            raise ProtocolError(f"camera {self.address} answered 200 without a status")
        if _int(status.get("statusCode")) != 1:
            raise error_from_status(status, response.status_code)
        return status

    # -- device info and family --

    def device_info(self) -> dict:
        response = self.request("GET", "/ISAPI/System/deviceInfo")
        root = _xml(response.content)
        if root is None:
            raise ProtocolError(f"camera {self.address} sent unreadable deviceInfo")
        return {_local(c.tag): (c.text or "").strip() for c in root}

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
    """A stable, non-reversible tag for a credential pair (to notice that credentials changed)."""
    return hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()[:16]


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
        if client is None or client._auth_failure is not None:
            if client is not None:
                client.close()
            client = ISAPIClient(
                host, port=port, channel=channel, username=username, password=password, family=family, **kw
            )
            _clients[key] = client
        elif family and not client.family:
            client.family = family
        return client
