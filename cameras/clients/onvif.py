"""ONVIF device information, profiles and stream URIs (onvif-zeep 0.2.12 over zeep 4).

The library's traps (see docs/discovery.md) and what this module does about them:
- no timeout by default: every call goes through a zeep Transport with connect and operation timeouts;
- WSDL location: `wsdl_dir` is always passed explicitly (the package's data folder, or ONVIF_WSDL_DIR);
- wrong camera clocks: `adjust_time=True` (the WS-UsernameToken is dated on the camera's clock);
- side effects: the stock constructor pops http(s)_proxy from os.environ and subscribes a pull point
  on the camera; our subclass does neither. Importing `onvif` calls logging.basicConfig: we import it
  with the root logger saved and restored;
- the WSDLs reference a few remote schemas: the transport refuses to fetch any remote document, so a
  scan never leaves the scanned network (and never waits on the internet);
- the device names the addresses of its services (GetCapabilities XAddrs) and streams (GetStreamUri):
  every request carries the WS-UsernameToken, and the stream URIs get the password, so an answer naming
  another host would send the site's credentials there. Such an address is rewritten to the device's
  own (see `on_device`), and the transport refuses to post anywhere else or to follow a redirect.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import requests

from .errors import DeviceAuthError, DeviceError, DeviceProtocolError, DeviceTimeout, DeviceUnreachable

logger = logging.getLogger(__name__)


@dataclass
class OnvifProfile:
    token: str
    name: str
    source_token: str = ""
    encoding: str = ""
    width: int = 0
    height: int = 0
    stream_uri: str = ""


@dataclass
class OnvifDevice:
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    mac: str = ""
    profiles: list[OnvifProfile] = field(default_factory=list)

    def channels(self) -> list[list[OnvifProfile]]:
        """Profiles grouped by video source (one group per camera/channel), best resolution first."""
        groups: dict[str, list[OnvifProfile]] = {}
        for profile in self.profiles:
            groups.setdefault(profile.source_token or profile.token, []).append(profile)
        return [sorted(g, key=lambda p: p.width * p.height, reverse=True) for g in groups.values()]


@lru_cache(maxsize=1)
def _onvif_module():
    """Import onvif without letting its `logging.basicConfig(level=INFO)` reconfigure our logging."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        import onvif
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    # zeep logs every SOAP envelope at DEBUG: the WS-UsernameToken (digest, nonce, created) included.
    logging.getLogger("zeep.transports").setLevel(max(logging.INFO, logging.getLogger("zeep.transports").level))
    return onvif


def default_wsdl_dir() -> str:
    """The WSDL folder onvif-zeep installs (a top-level `wsdl/` in site-packages), or ONVIF_WSDL_DIR."""
    configured = os.environ.get("ONVIF_WSDL_DIR", "")
    if configured:
        return configured
    module = _onvif_module()
    candidates = [os.path.join(os.path.dirname(os.path.dirname(module.__file__)), "wsdl")]
    candidates += [os.path.join(p, "wsdl") for p in sys.path if p]
    for path in candidates:
        if os.path.isfile(os.path.join(path, "devicemgmt.wsdl")):
            return path
    raise DeviceError("ONVIF WSDL files not found; set ONVIF_WSDL_DIR")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def on_device(url: str, host: str, port: int) -> str:
    """`url` if it names `host`; else the same path and query on `host` (an XAddr: at `port`, the port
    that answered; a stream URI: at the URI's own port).

    Rewritten rather than refused: cameras behind NAT, with a second interface or a stale network
    setting name an address we cannot use, and the device itself is what was scanned. Either way the
    credentials only ever go to the address being identified.
    """
    try:
        parts = urlsplit(url)
        url_port = parts.port
    except ValueError:
        parts, url_port = urlsplit(""), None
    if parts.scheme and (parts.hostname or "").lower() == host.lower():
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, ""))
    if parts.scheme.lower() in ("rtsp", "rtsps"):
        netloc = f"{host}:{url_port}" if url_port else host
        scheme = parts.scheme.lower()
    else:
        netloc, scheme = f"{host}:{port}", "https" if port == 443 else "http"
    logger.info("ONVIF %s named another host (%s): using the device's own address", host, _host(url) or "none")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _transport(timeout: float, *, device_host: str | None = None):
    from zeep.transports import Transport

    class LocalOnlyTransport(Transport):
        """Operations go to the device; documents (WSDL/XSD) only ever come from local files."""

        def load(self, url):
            if str(url).startswith(("http://", "https://")):
                raise DeviceProtocolError("refusing to fetch a remote schema")
            return super().load(url)

        def post(self, address, message, headers):
            # Every operation carries the WS-UsernameToken: it goes to the device being identified only.
            if device_host is not None and _host(str(address)) != device_host.lower():
                raise DeviceProtocolError("refusing to send an ONVIF request to another host")
            return super().post(address, message, headers)

    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: talk to the device directly
    session.max_redirects = 0  # a redirect would carry the SOAP body (and its token) to where it points
    return LocalOnlyTransport(session=session, timeout=timeout, operation_timeout=timeout)


def _camera_class():
    onvif = _onvif_module()
    from onvif.definition import SERVICES

    class Camera(onvif.ONVIFCamera):
        def __init__(self, host, port, user, passwd, *, wsdl_dir, transport, adjust_time=True):
            # Not calling the stock __init__: it pops http(s)_proxy from os.environ.
            self.host, self.port, self.user, self.passwd = host, int(port), user, passwd
            self.wsdl_dir, self.encrypt, self.daemon, self.no_cache = wsdl_dir, True, False, True
            self.adjust_time, self.transport = adjust_time, transport
            self.services = {}
            from threading import RLock

            self.services_lock = RLock()
            self.update_xaddrs()
            self.to_dict = onvif.ONVIFService.to_dict

        def update_xaddrs(self):
            # The stock method also creates a pull-point subscription on the camera: skipped here.
            self.dt_diff = None
            self.devicemgmt = self.create_devicemgmt_service()
            if self.adjust_time:
                utc = self.devicemgmt.GetSystemDateAndTime().UTCDateTime
                cam = dt.datetime(
                    utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour, utc.Time.Minute, utc.Time.Second
                )
                self.dt_diff = cam - dt.datetime.now(dt.UTC).replace(tzinfo=None)
                self.devicemgmt = self.create_devicemgmt_service()
            self.xaddrs = {}
            capabilities = self.devicemgmt.GetCapabilities({"Category": "All"})
            for name in capabilities:
                capability = capabilities[name]
                if name.lower() in SERVICES and capability is not None and "XAddr" in capability:
                    xaddr = on_device(_text(capability["XAddr"]), self.host, self.port)
                    self.xaddrs[SERVICES[name.lower()]["ns"]] = xaddr

        def create_onvif_service(self, name, from_template=True, portType=None):
            # As the stock method, but on a WSDL parsed once per process (parsing is ~70% of a probe's CPU).
            from zeep import Client

            name = name.lower()
            xaddr, wsdl_file, binding_name = self.get_definition(name, portType)
            wsse = onvif.client.UsernameDigestTokenDtDiff(self.user, self.passwd, dt_diff=self.dt_diff, use_digest=True)
            client = Client(wsdl=_document(wsdl_file), wsse=wsse, transport=self.transport, settings=_zeep_settings())
            service = onvif.ONVIFService(
                xaddr,
                self.user,
                self.passwd,
                wsdl_file,
                zeep_client=client,
                dt_diff=self.dt_diff,
                binding_name=binding_name,
                transport=self.transport,
            )
            with self.services_lock:
                self.services[name] = service
                setattr(self, name, service)
            return service

    return Camera


def _zeep_settings():
    from zeep.settings import Settings

    return Settings(strict=False, xml_huge_tree=True)  # what onvif-zeep uses


@lru_cache(maxsize=32)
def _document(path: str):
    """A parsed WSDL, shared by every probe (read-only once parsed)."""
    from zeep.wsdl import Document

    return Document(path, _transport(10), settings=_zeep_settings())


def _translate(exc: BaseException) -> DeviceError:
    """Map whatever onvif/zeep/requests raised (ONVIFError wraps the original) to a typed error."""
    from zeep.exceptions import Fault, TransportError

    seen = exc
    for _ in range(5):
        if isinstance(seen, DeviceError):
            return seen
        if isinstance(seen, requests.Timeout):
            return DeviceTimeout("ONVIF request timed out")
        if isinstance(seen, requests.ConnectionError):
            return DeviceUnreachable("ONVIF service unreachable")
        if isinstance(seen, Fault):
            text = f"{seen.message} {seen.code} {seen.subcodes}".lower()
            if "notauthorized" in text or "not authorized" in text or "authority" in text:
                return DeviceAuthError("ONVIF device refused the credentials")
            return DeviceProtocolError(f"ONVIF fault: {str(seen.message)[:200]}")
        if isinstance(seen, TransportError):
            if seen.status_code in (401, 403):
                return DeviceAuthError("ONVIF device refused the credentials")
            return DeviceProtocolError(f"ONVIF HTTP {seen.status_code}")
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    return DeviceProtocolError(f"ONVIF error: {type(exc).__name__}")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def probe(
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    timeout: float = 5,
    wsdl_dir: str | None = None,
    adjust_time: bool = True,
) -> OnvifDevice:
    """Device information, MAC, media profiles and one RTSP stream URI per profile."""
    try:
        camera = _camera_class()(
            host,
            port,
            username,
            password,
            wsdl_dir=wsdl_dir or default_wsdl_dir(),
            transport=_transport(timeout, device_host=host),
            adjust_time=adjust_time,
        )
        info = camera.devicemgmt.GetDeviceInformation()
        device = OnvifDevice(
            manufacturer=_text(info.Manufacturer),
            model=_text(info.Model),
            firmware=_text(info.FirmwareVersion),
            serial=_text(info.SerialNumber),
            hardware_id=_text(info.HardwareId),
        )
    except Exception as exc:
        raise _translate(exc) from None
    try:
        for interface in camera.devicemgmt.GetNetworkInterfaces() or []:
            mac = _text(getattr(getattr(interface, "Info", None), "HwAddress", ""))
            if mac:
                device.mac = mac.upper().replace("-", ":")
                break
    except Exception as exc:  # optional on many cameras
        logger.debug("ONVIF %s: no network interfaces (%s)", host, type(exc).__name__)
    try:
        media = camera.create_media_service()
        for profile in media.GetProfiles() or []:
            video = getattr(profile, "VideoEncoderConfiguration", None)
            source = getattr(profile, "VideoSourceConfiguration", None)
            resolution = getattr(video, "Resolution", None)
            item = OnvifProfile(
                token=_text(profile.token),
                name=_text(getattr(profile, "Name", "")),
                source_token=_text(getattr(source, "SourceToken", "")),
                encoding=_text(getattr(video, "Encoding", "")),
                width=int(getattr(resolution, "Width", 0) or 0),
                height=int(getattr(resolution, "Height", 0) or 0),
            )
            uri = media.GetStreamUri(
                {
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    "ProfileToken": item.token,
                }
            )
            item.stream_uri = on_device(_text(getattr(uri, "Uri", "")), host, port) if getattr(uri, "Uri", "") else ""
            device.profiles.append(item)
    except Exception as exc:
        raise _translate(exc) from None
    return device
