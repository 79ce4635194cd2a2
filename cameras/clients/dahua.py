"""Dahua HTTP API (CGI), discovery's reads: system info, software version, MAC, video input count."""

from __future__ import annotations

from dataclasses import dataclass

from . import http
from .errors import DeviceError, DeviceProtocolError


@dataclass
class DahuaDevice:
    model: str = ""
    serial: str = ""
    firmware: str = ""
    mac: str = ""
    channels: int = 0


def parse_key_values(text: str) -> dict[str, str]:
    """Dahua CGI answers `key=value` lines (`table.Network.eth0.PhysicalAddress=...`)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def probe(host: str, port: int, username: str, password: str, *, timeout: float = 5) -> DahuaDevice:
    session = http.session()
    base = http.base_url(host, port)

    def read(path: str) -> dict[str, str]:
        response = http.get(session, f"{base}{path}", username=username, password=password, timeout=timeout)
        if response.status_code != 200:
            raise DeviceProtocolError(f"Dahua CGI {path.split('?')[0]}: HTTP {response.status_code}")
        return parse_key_values(response.text)

    info = read("/cgi-bin/magicBox.cgi?action=getSystemInfo")
    if "deviceType" not in info and "serialNumber" not in info:
        raise DeviceProtocolError("not a Dahua system-info answer")
    device = DahuaDevice(model=info.get("deviceType", ""), serial=info.get("serialNumber", ""))
    # The rest is optional: older firmware lacks some of it.
    for path, apply in (
        (
            "/cgi-bin/magicBox.cgi?action=getSoftwareVersion",
            lambda v: setattr(device, "firmware", v.get("version", "")),
        ),
        (
            "/cgi-bin/devVideoInput.cgi?action=getCollect",
            lambda v: setattr(device, "channels", int(v.get("result", 0))),
        ),
        (
            "/cgi-bin/configManager.cgi?action=getConfig&name=Network",
            lambda v: setattr(device, "mac", v.get("table.Network.eth0.PhysicalAddress", "").upper()),
        ),
    ):
        try:
            apply(read(path))
        except (DeviceProtocolError, ValueError):
            continue
        except DeviceError:
            raise
    return device
