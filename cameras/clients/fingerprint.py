"""Unauthenticated brand fingerprints from open ports and HTTP banners (no credentials sent)."""

from __future__ import annotations

import re

from . import http
from .errors import DeviceError

HIKVISION_SERVERS = ("app-webs", "dnvrs-webs", "hikvision-webs", "davinci")
# Dahua's digest realm is "Login to <serial>"; Hikvision's "IP Camera(NNNNN)" or a hex string.
DAHUA_REALM = re.compile(r'realm="Login to ', re.IGNORECASE)
HIKVISION_REALM = re.compile(r'realm="(IP Camera|DS-|iDS-)', re.IGNORECASE)


def brand_from_ports(open_ports: list[int]) -> str:
    """Private protocol ports: 37777 is Dahua's, 34567 XMEye's (NetSurveillance/Sofia)."""
    if 37777 in open_ports:
        return "dahua"
    if 34567 in open_ports:
        return "xmeye"
    return ""


def brand_from_http(host: str, port: int, *, timeout: float = 3) -> str:
    """Look at `GET /` headers: Server banner and the digest realm of a 401."""
    try:
        response = http.get(http.session(), f"{http.base_url(host, port)}/", timeout=timeout, auth=False)
    except DeviceError:
        return ""
    server = response.headers.get("Server", "").lower()
    challenge = response.headers.get("WWW-Authenticate", "")
    if any(name in server for name in HIKVISION_SERVERS) or HIKVISION_REALM.search(challenge):
        return "hikvision"
    if DAHUA_REALM.search(challenge) or "dahua" in server or "dh_web" in response.text[:4000].lower():
        return "dahua"
    if "uc-httpd" in server or "netsurveillance" in response.text[:4000].lower():
        return "xmeye"
    return ""


def identify_brand(host: str, open_ports: list[int], *, timeout: float = 3) -> str:
    brand = brand_from_ports(open_ports)
    if brand:
        return brand
    for port in (80, 8899, 443):  # 8000 (Hikvision SDK) is binary: no banner to read there
        if port in open_ports:
            brand = brand_from_http(host, port, timeout=timeout)
            if brand:
                return brand
    return ""
