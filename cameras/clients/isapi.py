"""The one Hikvision ISAPI client: every request to a Hikvision camera or recorder goes through here.

Raw protocol I/O only (no ORM). This module holds the transport and the device-level reads; the plates
app builds the ANPR plate-list operations on top of it (`plates/clients/isapi.py`), discovery uses
`probe` (device info and streaming channels). What it knows about the devices comes from the research
report (`shared/isapi/REPORT.md`):

- One keep-alive connection per client (a urllib3 pool of one), HTTP Digest computed here, explicit
  connect/read timeouts, no proxy from the environment.
- Success is HTTP 200 (and, for writes, `statusCode` 1). Every `ResponseStatus` (XML or JSON, wrapped
  or not) becomes a typed error: `TransientError` (timeouts, refused connections, 5xx, busy) may be
  retried; `PermanentError` (401, 400 badParameters...) must not be. The errors are also the discovery
  clients' `DeviceError` types (`cameras/clients/errors.py`), so callers of either name catch them.
- Bad credentials are never retried: after one 401 that carried credentials the client refuses to
  send anything more (the device locks the source address after a few failures).
- Parsing is namespace-agnostic (hikvision.com/ver20 on older units, isapi.org on newer ones).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.request import parse_http_list, parse_keqv_list
from xml.sax.saxutils import escape

import urllib3
import urllib3.connectionpool
from urllib3 import exceptions as u3

from . import errors

logger = logging.getLogger(__name__)

ALERT_STREAM = "/ISAPI/Event/notification/alertStream"
HTTP_HOSTS = "/ISAPI/Event/notification/httpHosts"
TRANSIENT_SUB_STATUS = {"deviceBusy", "serviceUnavailable", "upgrading", "noMemory"}


# --- Errors ----------------------------------------------------------------------------------


class ISAPIError(errors.DeviceError):
    """A camera said no, or could not be reached. `str()` is safe to show: it never has credentials.

    The subclasses below also derive from the matching discovery error (`errors.DeviceTimeout`...),
    whose `reason` they take; no class here sets `reason`, so that one is found first.
    """

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


class DeviceUnreachable(TransientError, errors.DeviceUnreachable):
    pass


class DeviceTimeout(TransientError, errors.DeviceTimeout):
    pass


class DeviceBusy(TransientError):
    pass


class PermanentError(ISAPIError):
    """Retrying will not help: the request or the credentials must change."""


class BadParameters(PermanentError):
    pass


class NotSupported(PermanentError):
    pass


class BadCredentials(PermanentError, errors.DeviceAuthError):
    """The camera refused our credentials (HTTP 401 after digest). Never retry in a loop."""

    def __init__(self, message: str, *, locked: bool = False, unlock_time: int | None = None, **kw):
        super().__init__(message, **kw)
        self.locked = locked
        self.unlock_time = unlock_time

    def as_dict(self) -> dict:
        return {**super().as_dict(), "locked": self.locked, "unlock_time": self.unlock_time}


class DeviceLocked(BadCredentials):
    """The camera locked our address after failed logins; `unlock_time` seconds remain (when known)."""


class ProtocolError(PermanentError, errors.DeviceProtocolError):
    """An answer we cannot understand."""


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


# --- Device-level records --------------------------------------------------------------------


@dataclass
class StreamingChannel:
    """One stream as `/ISAPI/Streaming/channels` lists it: id = channel * 100 + stream number."""

    id: int
    channel: int
    stream_no: int  # 1 main, 2 sub, 3 third
    name: str = ""
    enabled: bool = True
    codec: str = ""
    width: int = 0
    height: int = 0


@dataclass
class DeviceInfo:
    """What `/ISAPI/System/deviceInfo` says (and, once asked, the device's streams)."""

    name: str = ""
    model: str = ""
    serial: str = ""
    mac: str = ""
    firmware: str = ""
    device_type: str = ""
    streams: list[StreamingChannel] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict, repr=False)  # every element, as sent

    def channels(self) -> list[int]:
        return sorted({s.channel for s in self.streams if s.enabled})


def _children(element: ET.Element) -> dict[str, str]:
    return {_local(child.tag): (child.text or "").strip() for child in element}


def _document(body: bytes, root_name: str) -> ET.Element:
    root = _xml(body.lstrip(b"\xef\xbb\xbf"))
    if root is None:
        raise ProtocolError("camera answered something that is not XML")
    if _local(root.tag) != root_name:
        raise ProtocolError(f"camera answered <{_local(root.tag)}>, expected <{root_name}>")
    return root


def parse_device_info(body: bytes) -> DeviceInfo:
    fields = _children(_document(body, "DeviceInfo"))
    return DeviceInfo(
        name=fields.get("deviceName", ""),
        model=fields.get("model", ""),
        serial=fields.get("serialNumber", ""),
        mac=fields.get("macAddress", "").upper(),
        firmware=" ".join(x for x in (fields.get("firmwareVersion", ""), fields.get("firmwareReleasedDate", "")) if x),
        device_type=fields.get("deviceType", ""),
        fields=fields,
    )


def parse_streaming_channels(body: bytes) -> list[StreamingChannel]:
    streams = []
    for element in _document(body, "StreamingChannelList"):
        if _local(element.tag) != "StreamingChannel":
            continue
        fields = _children(element)
        video = next((child for child in element if _local(child.tag) == "Video"), None)
        video_fields = _children(video) if video is not None else {}
        try:
            stream_id = int(fields.get("id", ""))
        except ValueError:
            continue
        streams.append(
            StreamingChannel(
                id=stream_id,
                channel=stream_id // 100,
                stream_no=stream_id % 100,
                name=fields.get("channelName", ""),
                enabled=fields.get("enabled", "true").lower() != "false",
                codec=video_fields.get("videoCodecType", ""),
                width=_int(video_fields.get("videoResolutionWidth")) or 0,  # a garbled size is unknown, not fatal
                height=_int(video_fields.get("videoResolutionHeight")) or 0,
            )
        )
    return streams


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


class Stream:
    """An open streaming answer: `content_type`, `chunks()` (bytes as they arrive), `close()`."""

    def __init__(self, raw, address: str):
        self._raw = raw
        self.address = address
        self.headers = raw.headers
        self.content_type = raw.headers.get("Content-Type", "")

    def chunks(self, size: int = 65536):
        """The body as it arrives. DeviceTimeout after `read_timeout` of silence, DeviceUnreachable
        when the connection breaks; the end of the stream (the camera closed it) simply ends."""
        while True:
            try:
                data = self._raw.read1(size)
            except u3.ReadTimeoutError:
                raise DeviceTimeout(f"camera {self.address}: the stream went silent") from None
            except (TimeoutError, OSError) as exc:
                if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                    raise DeviceTimeout(f"camera {self.address}: the stream went silent") from None
                raise DeviceUnreachable(f"camera {self.address}: the stream broke") from None
            except u3.HTTPError:
                raise DeviceUnreachable(f"camera {self.address}: the stream broke") from None
            if not data:
                return
            yield data

    def abort(self) -> None:
        """From another thread: break the connection so that a blocked `chunks()` returns now."""
        sock = getattr(getattr(self._raw, "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        """Drop the connection (a stream is never read to its end, so it cannot be reused)."""
        try:
            self._raw.close()
        except (u3.HTTPError, OSError):
            pass
        conn = getattr(self._raw, "connection", None)
        if conn is not None:
            conn.close()
        self._raw.release_conn()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 10.0


class ISAPIClient:
    """One Hikvision device over ISAPI: the transport and the device-level reads.

    For one thread at a time; one keep-alive connection. `plates.clients.isapi.ISAPIClient` extends it
    with the ANPR plate list.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int = 80,
        username: str = "",
        password: str = "",
        timeouts: Timeouts | None = None,
        scheme: str = "http",
    ):
        self.host = host
        self.port = port
        self.base = f"{scheme}://{host}:{port}"
        self.timeouts = timeouts or Timeouts()
        # Cameras serve HTTPS with self-signed certificates: there is no chain to check.
        tls = {"cert_reqs": "CERT_NONE", "assert_hostname": False} if scheme == "https" else {}
        # One keep-alive connection to the camera (urllib3 pool of one: a connection the camera closed
        # is noticed and replaced before reuse). Cameras are talked to directly: no proxy, no .netrc.
        self._pool = urllib3.connectionpool.connection_from_url(
            self.base, maxsize=1, block=False, retries=False, headers={"User-Agent": "lprnvr-isapi/1"}, **tls
        )
        self._digest = _Digest(username, password)
        self._auth_failure: BadCredentials | None = None

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.host}:{self.port}>"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def auth_failure(self) -> BadCredentials | None:
        """The refusal that stopped this client (it sends nothing more), or None."""
        return self._auth_failure

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> ISAPIClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport --

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
        self._raise_for(response)
        return response

    def _raise_for(self, response: Response) -> None:
        """The typed error for an answer that is not a 200 (a 401 also stops this client)."""
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

    def open_stream(self, path: str, *, read_timeout: float) -> Stream:
        """A streaming GET (the never-ending `alertStream`): the answer's headers now, its body as it
        comes (`Stream.chunks()`), with the same Digest and the same one-refusal rule as `request`.

        `read_timeout` is the longest silence tolerated between two reads of the body: past it,
        `chunks()` raises DeviceTimeout. The stream holds this client's one connection until closed.
        """
        if self._auth_failure is not None:
            raise self._auth_failure
        headers = {"Accept": "*/*"}
        timeout = urllib3.Timeout(connect=self.timeouts.connect, read=read_timeout)
        authorization = self._digest.header("GET", path)
        if authorization:
            headers["Authorization"] = authorization
        raw = self._open("GET", path, headers, timeout)
        if raw.status == 401 and self._digest.challenged(raw.headers):
            self._drain(raw)
            authorization = self._digest.header("GET", path)
            if authorization:
                headers["Authorization"] = authorization
                raw = self._open("GET", path, headers, timeout)
        if raw.status != 200:
            self._raise_for(Response(raw.status, self._drain(raw), raw.headers))
        return Stream(raw, self.address)

    def _open(self, method: str, path: str, headers: dict, timeout):
        try:
            return self._pool.urlopen(
                method, path, headers=headers, timeout=timeout, retries=False, redirect=False,
                assert_same_host=False, preload_content=False, decode_content=False,
            )  # fmt: skip
        except u3.NewConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
            raise DeviceUnreachable(f"camera {self.address} unreachable: {reason}") from None
        except (u3.ConnectTimeoutError, u3.ReadTimeoutError, TimeoutError) as exc:
            raise DeviceTimeout(f"camera {self.address} did not answer in time ({type(exc).__name__})") from None
        except (u3.HTTPError, OSError):
            raise DeviceUnreachable(f"camera {self.address} unreachable: connection failed") from None

    def _drain(self, raw, limit: int = 65536) -> bytes:
        """The (small) body of a refusal, then the connection back to the pool."""
        try:
            body = raw.read(limit)
        except (u3.HTTPError, OSError):
            body = b""
        raw.release_conn()
        return body

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

    # -- device-level reads --

    def device_info(self) -> DeviceInfo:
        """`/ISAPI/System/deviceInfo`: model, serial, MAC, firmware."""
        response = self.request("GET", "/ISAPI/System/deviceInfo")
        return parse_device_info(response.content)

    def picture(self, channel: int = 1, stream_no: int = 1) -> bytes:
        """`/ISAPI/Streaming/channels/<channel>0<stream>/picture`: a JPEG of what the camera sees now."""
        response = self.request("GET", f"/ISAPI/Streaming/channels/{channel * 100 + stream_no}/picture")
        if not response.content.startswith(b"\xff\xd8"):
            raise ProtocolError(f"camera {self.address} answered a picture that is not a JPEG")
        return response.content

    def streaming_channels(self) -> list[StreamingChannel]:
        """`/ISAPI/Streaming/channels`: every stream of every channel (ids 101, 102, 201...)."""
        response = self.request("GET", "/ISAPI/Streaming/channels")
        return parse_streaming_channels(response.content)

    # -- events (REPORT §5): the stream itself is `open_stream(ALERT_STREAM, ...)` --

    def http_hosts(self) -> list[dict[str, str]]:
        """`httpHosts`: the listening slots, each as its fields (`id`, `ipAddress`, `portNo`, `url`...)."""
        root = _document(self.request("GET", HTTP_HOSTS).content, "HttpHostNotificationList")
        return [_children(slot) for slot in root if _local(slot.tag) == "HttpHostNotification"]

    def set_http_host(self, slot_id: str, *, url: str, protocol: str, address: str, port: int) -> None:
        """Point one listening slot at `address:port` + `url` (XML alerts, pictures as binary parts)."""
        xml = (
            f'<HttpHostNotification version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">'
            f"<id>{escape(slot_id)}</id><url>{escape(url)}</url><protocolType>{escape(protocol)}</protocolType>"
            "<parameterFormatType>XML</parameterFormatType><addressingFormatType>ipaddress</addressingFormatType>"
            f"<ipAddress>{escape(address)}</ipAddress><portNo>{int(port)}</portNo>"
            "<httpAuthenticationMethod>none</httpAuthenticationMethod></HttpHostNotification>"
        )
        self._expect_ok(self.request("PUT", f"{HTTP_HOSTS}/{slot_id}", xml_body=xml))

    def vehicle_detect_plates(self, request_xml: str, *, channel: int = 1) -> bytes:
        """`vehicleDetect/plates` (the reads kept on the camera, for a backfill): the raw answer."""
        path = f"/ISAPI/Traffic/channels/{channel}/vehicleDetect/plates"
        return self.request("POST", path, xml_body=request_xml).content


def probe(host: str, port: int, username: str, password: str, *, timeout: float = 5) -> DeviceInfo:
    """Discovery's identification: device info, then the streaming channels, on one connection.

    A refused login raises `BadCredentials` (an `errors.DeviceAuthError`) after one attempt and the
    channel list is never asked. A device that answers deviceInfo but refuses the channel list
    (older firmware, a user without the right) is still identified, with no streams.
    """
    scheme = "https" if port == 443 else "http"
    with ISAPIClient(
        host, port=port, username=username, password=password, timeouts=Timeouts(timeout, timeout), scheme=scheme
    ) as client:
        device = client.device_info()
        try:
            device.streams = client.streaming_channels()
        except BadCredentials:
            raise
        except PermanentError as exc:
            logger.info("camera %s: no streaming channel list (%s)", client.address, exc)
    return device
