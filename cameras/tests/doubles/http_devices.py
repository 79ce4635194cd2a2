"""HTTP doubles: an ONVIF device, a Dahua recorder (CGI), an XMEye DVR banner (the Hikvision camera is
`hikvision.py`).

Bodies and headers follow captures of real units (`/work/shared/isapi/samples`, Hikvision App-webs
401 page, Dahua `key=value` CGI answers, XMEye's `uc-httpd` server banner).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import socket
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import digest


@dataclass
class Device:
    """What a double knows about itself; tests read `calls` to see what the client did."""

    address: str
    username: str = "admin"
    password: str = "Cam-pass:1@x"
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    mac: str = ""
    firmware: str = ""
    channels: int = 1
    rtsp_port: int = 554
    clock_offset: dt.timedelta = dt.timedelta(0)
    calls: list[str] = field(default_factory=list)
    # The host its ONVIF answers name for its services and streams (a NAT'd or misconfigured unit
    # names another one); empty: its own address.
    advertised_host: str = ""

    @property
    def named_host(self) -> str:
        return self.advertised_host or self.address


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # nmap's connect scan opens and resets connections: that is not an error here


class _Handler(BaseHTTPRequestHandler):
    device: Device
    server_banner = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    def version_string(self):
        return self.server_banner or super().version_string()

    def send(self, status: int, body: bytes, content_type: str = "application/xml", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def digest_ok(self, realm: str) -> bool:
        return digest.verify(
            self.headers.get("Authorization", ""),
            method=self.command,
            realm=realm,
            username=self.device.username,
            password=self.device.password,
        )


# --------------------------------------------------------------------------------------------- ONVIF
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NAMESPACES = (
    f'xmlns:s="{SOAP_ENV}" xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:ter="http://www.onvif.org/ver10/error"'
)


def soap(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {NAMESPACES}><s:Body>{body}</s:Body></s:Envelope>'.encode()
    )


def soap_fault(subcode: str, text: str) -> bytes:
    return soap(
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode>"
        f'</s:Code><s:Reason><s:Text xml:lang="en">{text}</s:Text></s:Reason></s:Fault>'
    ).replace(b"ter:NotAuthorized", subcode.encode())


class OnvifHandler(_Handler):
    """Device and media services at /onvif/device_service and /onvif/media_service.

    Only GetSystemDateAndTime answers without a WS-UsernameToken; the digest is checked against the
    device's own clock (offset by `clock_offset`) with a 5-minute window, like real firmware.
    """

    server_banner = "gSOAP/2.8"
    profiles_per_channel = (("mainStream", 1920, 1080, 1), ("subStream", 640, 360, 2))

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.device.clock_offset

    def authorized(self, root: ET.Element) -> bool:
        token = root.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        username = token.findtext(f"{{{WSSE}}}Username", "")
        password = token.findtext(f"{{{WSSE}}}Password", "")
        nonce = token.findtext(f"{{{WSSE}}}Nonce", "")
        created = token.findtext(f"{{{WSU}}}Created", "")
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            raw_nonce = base64.b64decode(nonce)
        except ValueError:
            return False
        if abs((when - self.now()).total_seconds()) > 300:
            return False
        expected = base64.b64encode(
            hashlib.sha1(raw_nonce + created.encode() + self.device.password.encode()).digest()  # noqa: S324
        ).decode()
        return username == self.device.username and secrets.compare_digest(expected, password)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        try:
            root = ET.fromstring(body)  # noqa: S314 (test double)
            operation = next(iter(root.find(f"{{{SOAP_ENV}}}Body"))).tag.rsplit("}", 1)[-1]
        except (ET.ParseError, StopIteration, TypeError):
            return self.send(400, soap_fault("ter:WellFormed", "Bad XML"), "application/soap+xml")
        self.device.calls.append(operation)
        if operation != "GetSystemDateAndTime" and not self.authorized(root):
            # Real Hikvision: HTTP 400 with ter:NotAuthorized.
            return self.send(400, soap_fault("ter:NotAuthorized", "Sender not Authorized"), "application/soap+xml")
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            return self.send(
                400, soap_fault("ter:ActionNotSupported", "Optional Action Not Implemented"), "application/soap+xml"
            )
        return self.send(200, soap(handler(root)), "application/soap+xml; charset=utf-8")

    def base(self) -> str:
        return f"http://{self.device.named_host}:{self.server.server_address[1]}"

    def op_GetSystemDateAndTime(self, root) -> str:
        now = self.now()
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>"
            "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
            f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
            f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def op_GetCapabilities(self, root) -> str:
        base = self.base()
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{base}/onvif/device_service</tt:XAddr></tt:Device>"
            f"<tt:Events><tt:XAddr>{base}/onvif/Events</tt:XAddr><tt:WSSubscriptionPolicySupport>true"
            "</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
            "</tt:Events>"
            f"<tt:Media><tt:XAddr>{base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>true</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
            "</tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    def op_GetDeviceInformation(self, root) -> str:
        d = self.device
        return (
            f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{d.manufacturer}</tds:Manufacturer>"
            f"<tds:Model>{d.model}</tds:Model><tds:FirmwareVersion>{d.firmware}</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{d.serial}</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    def op_GetNetworkInterfaces(self, root) -> str:
        return (
            '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled>'
            f"<tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>{self.device.mac.lower()}</tt:HwAddress>"
            "<tt:MTU>1500</tt:MTU></tt:Info></tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
        )

    def profiles(self):
        for channel in range(1, self.device.channels + 1):
            for name, width, height, stream_no in self.profiles_per_channel:
                yield channel, f"Profile_{channel}0{stream_no}", name, width, height, stream_no

    def op_GetProfiles(self, root) -> str:
        out = []
        for channel, token, name, width, height, _ in self.profiles():
            out.append(
                f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
                f'<tt:VideoSourceConfiguration token="VideoSourceToken{channel}"><tt:Name>VideoSourceConfig</tt:Name>'
                f"<tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_{channel}</tt:SourceToken>"
                f'<tt:Bounds x="0" y="0" width="{width}" height="{height}"/></tt:VideoSourceConfiguration>'
                f'<tt:VideoEncoderConfiguration token="VideoEncoderToken_{token}"><tt:Name>{name}</tt:Name>'
                "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
                f"<tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height></tt:Resolution>"
                "<tt:Quality>3</tt:Quality><tt:SessionTimeout>PT5S</tt:SessionTimeout>"
                "</tt:VideoEncoderConfiguration></trt:Profiles>"
            )
        return f"<trt:GetProfilesResponse>{''.join(out)}</trt:GetProfilesResponse>"

    def op_GetStreamUri(self, root) -> str:
        token = root.findtext(".//{http://www.onvif.org/ver10/media/wsdl}ProfileToken", "")
        for channel, known, *_rest, stream_no in self.profiles():
            if known == token:
                path = f"/onvif{stream_no}" if self.device.channels == 1 else f"/onvif/ch{channel}/{stream_no}"
                uri = f"rtsp://{self.device.named_host}:{self.device.rtsp_port}{path}"
                return (
                    f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{uri}</tt:Uri>"
                    "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                    "</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
                )
        raise ValueError(token)


# The Hikvision camera is `hikvision.HikvisionCamera` (one double for plates, discovery and events).


# ---------------------------------------------------------------------------------------------- Dahua
class DahuaHandler(_Handler):
    server_banner = ""

    @property
    def realm(self) -> str:
        return f"Login to {self.device.serial}"

    def do_GET(self):
        self.device.calls.append(self.path)
        if self.path == "/":
            return self.send(401, b"", "text/plain", {"WWW-Authenticate": digest.challenge(self.realm)})
        if not self.digest_ok(self.realm):
            return self.send(
                401,
                b"Error\r\nInvalid Authority!\r\n",
                "text/plain",
                {"WWW-Authenticate": digest.challenge(self.realm)},
            )
        d = self.device
        answers = {
            "/cgi-bin/magicBox.cgi?action=getSystemInfo": (
                f"deviceType={d.model}\r\nprocessor=ST7108\r\nserialNumber={d.serial}\r\nupdateSerial={d.model}\r\n"
            ),
            "/cgi-bin/magicBox.cgi?action=getSoftwareVersion": f"version={d.firmware}\r\n",
            "/cgi-bin/devVideoInput.cgi?action=getCollect": f"result={d.channels}\r\n",
            "/cgi-bin/configManager.cgi?action=getConfig&name=Network": (
                f"table.Network.DefaultInterface=eth0\r\ntable.Network.eth0.IPAddress={d.address}\r\n"
                f"table.Network.eth0.PhysicalAddress={d.mac.lower()}\r\n"
            ),
        }
        if self.path in answers:
            return self.send(200, answers[self.path].encode(), "text/plain;charset=utf-8")
        return self.send(400, b"Error\r\nBad Request!\r\n", "text/plain")


# ---------------------------------------------------------------------------------------------- XMEye
class XMEyeHandler(_Handler):
    server_banner = "uc-httpd 1.0.0"

    def do_GET(self):
        self.device.calls.append(self.path)
        self.send(200, b"<html><head><title>NETSurveillance WEB</title></head></html>", "text/html")


# ------------------------------------------------------------------------------------------- plumbing
class Running:
    """Servers started by `start_http` / `start_tcp`; `stop()` closes them all."""

    def __init__(self):
        self.servers: list = []

    def stop(self) -> None:
        for server in self.servers:
            if isinstance(server, socket.socket):
                server.close()
            else:
                server.shutdown()
                server.server_close()
        self.servers.clear()


def start_http(running: Running, handler: type[_Handler], device: Device, port: int = 80) -> None:
    cls = type(handler.__name__, (handler,), {"device": device})
    server = _Server((device.address, port), cls)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"double-{device.address}:{port}").start()
    running.servers.append(server)


def start_tcp(running: Running, address: str, port: int) -> None:
    """A listener for a private binary protocol port (Dahua 37777, XMEye 34567): accepts and closes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(16)

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=serve, daemon=True, name=f"tcp-{address}:{port}").start()
    running.servers.append(sock)
