"""Identify one host found by the scan: who made it, what it is, which RTSP URLs to try.

Pure orchestration of the clients (no ORM): the discovery service stores what comes back. At most one
refused login per host: the first DeviceAuthError stops every other authenticated call (Hikvision and
Dahua lock the source address after a few failures).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from .clients import dahua, fingerprint, isapi, onvif
from .clients.errors import DeviceAuthError, DeviceError
from .clients.nmap import HostPorts
from .clients.wsdiscovery import ProbeMatch
from .models import expand_rtsp_template

logger = logging.getLogger(__name__)

HTTP_PORTS = (80, 8899, 443)  # not 8000: Hikvision's SDK port speaks a binary protocol
RTSP_PORTS = (554, 8554)
KNOWN_MANUFACTURERS = {"hikvision": "hikvision", "dahua": "dahua", "xiongmai": "xmeye", "xmeye": "xmeye"}


@dataclass
class Candidate:
    channel: int
    substream: bool
    url: str  # carries credentials
    source: str  # "onvif" or "template"


@dataclass
class DeviceReport:
    ip: str
    open_ports: list[int]
    brand: str = "generic"
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    mac: str = ""
    device_type: str = ""
    name: str = ""
    channels: int = 0  # 0: unknown
    http_port: int | None = None
    rtsp_port: int | None = None
    onvif_port: int | None = None
    identified_by: list[str] = field(default_factory=list)
    login: str = ""  # "ok", "refused", "required" (asked, none given) or "" (not tried)
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def note_error(self, stage: str, exc: DeviceError) -> None:
        self.errors.append({"host": self.ip, "stage": stage, "reason": exc.reason, "message": str(exc)[:300]})


def with_credentials(url: str, username: str, password: str) -> str:
    """Put credentials into an RTSP URL's authority (ONVIF GetStreamUri answers without them)."""
    if not (username or password):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def template_candidates(
    report: DeviceReport, channels: list[int], *, username: str, password: str, templates: dict | None = None
) -> list[Candidate]:
    if report.rtsp_port is None:
        return []
    return [
        Candidate(
            channel=channel,
            substream=substream,
            url=expand_rtsp_template(
                report.brand,
                host=report.ip,
                port=report.rtsp_port,
                channel=channel,
                username=username,
                password=password,
                substream=substream,
                templates=templates,
            ),
            source="template",
        )
        for channel in channels
        for substream in (False, True)
    ]


def identify_host(
    host: HostPorts,
    *,
    username: str,
    password: str,
    timeout: float = 5,
    wsd: ProbeMatch | None = None,
    wsdl_dir: str | None = None,
    templates: dict | None = None,
) -> DeviceReport:
    """Fingerprint, then the brand's own API, then ONVIF; build the candidate stream list."""
    ports = sorted(set(host.open_ports))
    report = DeviceReport(ip=host.ip, open_ports=ports, mac=host.mac)
    report.http_port = next((p for p in HTTP_PORTS if p in ports), None)
    report.rtsp_port = next((p for p in RTSP_PORTS if p in ports), None)
    has_credentials = bool(username or password)

    brand = fingerprint.identify_brand(host.ip, ports, timeout=min(timeout, 3))
    if brand:
        report.brand = brand
        report.identified_by.append("fingerprint")

    refused = False
    if has_credentials and report.http_port and brand in ("hikvision", "dahua"):
        try:
            if brand == "hikvision":
                hik = isapi.probe(host.ip, report.http_port, username, password, timeout=timeout)
                report.model, report.serial, report.firmware = hik.model, hik.serial, hik.firmware
                report.mac = hik.mac or report.mac
                report.device_type, report.name, report.manufacturer = hik.device_type, hik.name, "Hikvision"
                report.channels = len(hik.channels())
                report.identified_by.append("isapi")
            else:
                dh = dahua.probe(host.ip, report.http_port, username, password, timeout=timeout)
                report.model, report.serial, report.firmware = dh.model, dh.serial, dh.firmware
                report.mac = dh.mac or report.mac
                report.channels, report.manufacturer = dh.channels, "Dahua"
                report.identified_by.append("dahua-cgi")
            report.login = "ok"
        except DeviceAuthError as exc:
            refused = True
            report.note_error("identify", exc)
        except DeviceError as exc:
            report.note_error("identify", exc)

    # ONVIF when the brand's own API did not identify the device (or there is none).
    onvif_device = None
    onvif_ports = []
    if wsd is not None:
        onvif_ports += [port for address, port in wsd.hosts() if address == host.ip]
        report.identified_by.append("ws-discovery")
        if report.brand == "generic":
            report.brand = "onvif"  # it announced itself as an ONVIF video transmitter
        report.name = report.name or wsd.scope("name")
    onvif_ports += [p for p in HTTP_PORTS if p in ports]
    if not refused and report.login != "ok":
        for port in dict.fromkeys(onvif_ports):
            try:
                onvif_device = onvif.probe(host.ip, port, username, password, timeout=timeout, wsdl_dir=wsdl_dir)
            except DeviceAuthError as exc:
                refused = True
                report.note_error("onvif", exc)
                break
            except DeviceError as exc:
                if wsd is not None:  # it announced ONVIF: a failure is worth reporting
                    report.note_error("onvif", exc)
                continue
            report.onvif_port = port
            report.identified_by.append("onvif")
            report.login = "ok" if has_credentials else ""
            break
    if refused:
        report.login = "refused" if has_credentials else "required"

    if onvif_device is not None:
        report.manufacturer = report.manufacturer or onvif_device.manufacturer
        report.model = report.model or onvif_device.model
        report.firmware = report.firmware or onvif_device.firmware
        report.serial = report.serial or onvif_device.serial
        report.mac = report.mac or onvif_device.mac
        if report.brand in ("generic", "onvif"):
            report.brand = KNOWN_MANUFACTURERS.get(onvif_device.manufacturer.lower(), "onvif")
        groups = onvif_device.channels()
        report.channels = report.channels or len(groups)
        for index, group in enumerate(groups, start=1):
            for substream, profile in zip((False, True), group, strict=False):
                # The client rewrote URIs naming another host; checked again here because the
                # credentials are about to be put into it.
                if profile.stream_uri.lower().startswith("rtsp") and urlsplit(profile.stream_uri).hostname == host.ip:
                    report.candidates.append(
                        Candidate(index, substream, with_credentials(profile.stream_uri, username, password), "onvif")
                    )
                    if report.rtsp_port is None:
                        report.rtsp_port = urlsplit(profile.stream_uri).port or 554

    # Brand templates for every channel (after ONVIF's own URIs: those are tried first).
    if report.login != "refused" or not has_credentials:
        known = report.channels or 1
        report.candidates += template_candidates(
            report, list(range(1, known + 1)), username=username, password=password, templates=templates
        )
    report.mac = report.mac.upper().replace("-", ":")
    return report
