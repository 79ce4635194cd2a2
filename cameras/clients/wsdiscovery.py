"""WS-Discovery (ONVIF) Probe over UDP: multicast on one chosen interface, and unicast to known hosts.

A hand-written Probe (one SOAP envelope) on the socket module: the PyPI `WSDiscovery` package runs
background threads on every interface, which is exactly what a scan must not do. Stdlib only, so the
same file runs inside a test's network namespace (`python -m cameras.clients.wsdiscovery`).

Multicast is sent only from the interface address the caller names (IP_MULTICAST_IF, TTL 1): the
probe stays on that one segment.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import struct
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

MULTICAST_GROUP = "239.255.255.250"
PORT = 3702
NS = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsd": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "dn": "http://www.onvif.org/ver10/network/wsdl",
}


@dataclass
class ProbeMatch:
    endpoint: str  # urn:uuid:...
    xaddrs: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    source: str = ""  # the address the answer came from

    def hosts(self) -> list[tuple[str, int]]:
        """(host, port) of each XAddr."""
        out = []
        for xaddr in self.xaddrs:
            parts = urlsplit(xaddr)
            if parts.hostname:
                out.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
        return out

    def scope(self, name: str) -> str:
        """An ONVIF scope value, e.g. scope("hardware") from onvif://www.onvif.org/hardware/DS-2CD2155."""
        prefix = f"onvif://www.onvif.org/{name}/"
        for scope in self.scopes:
            if scope.startswith(prefix):
                from urllib.parse import unquote

                return unquote(scope[len(prefix) :])
        return ""


def probe_message(message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{NS["soap"]}" xmlns:wsa="{NS["wsa"]}" xmlns:wsd="{NS["wsd"]}" '
        f'xmlns:dn="{NS["dn"]}"><soap:Header>'
        f"<wsa:MessageID>{message_id}</wsa:MessageID>"
        "<wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
        "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
        "</soap:Header><soap:Body><wsd:Probe><wsd:Types>dn:NetworkVideoTransmitter</wsd:Types>"
        "</wsd:Probe></soap:Body></soap:Envelope>"
    ).encode()


def parse_probe_matches(data: bytes, message_id: str | None = None) -> list[ProbeMatch]:
    """ProbeMatch entries of one datagram; answers to another probe (RelatesTo) are ignored."""
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError:
        return []
    if message_id is not None:
        relates = root.find("soap:Header/wsa:RelatesTo", NS)
        if relates is None or (relates.text or "").strip() != message_id:
            return []
    matches = []
    for match in root.iterfind("soap:Body/wsd:ProbeMatches/wsd:ProbeMatch", NS):

        def words(tag: str, m=match) -> list[str]:
            element = m.find(tag, NS)
            return (element.text or "").split() if element is not None else []

        address = match.find("wsa:EndpointReference/wsa:Address", NS)
        matches.append(
            ProbeMatch(
                endpoint=(address.text or "").strip() if address is not None else "",
                xaddrs=words("wsd:XAddrs"),
                types=words("wsd:Types"),
                scopes=words("wsd:Scopes"),
            )
        )
    return matches


def _collect(sock: socket.socket, message_id: str, deadline: float) -> list[ProbeMatch]:
    found: dict[str, ProbeMatch] = {}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            data, (source, _port) = sock.recvfrom(65535)
        except TimeoutError:
            break
        except OSError:
            continue  # e.g. ICMP port unreachable surfaced on a unicast probe
        for match in parse_probe_matches(data, message_id):
            match.source = source
            found.setdefault(match.endpoint or f"{source}:{','.join(match.xaddrs)}", match)
    return list(found.values())


def probe_multicast(interface_address: str, *, timeout: float = 2.0) -> list[ProbeMatch]:
    """Send one Probe to 239.255.255.250:3702 out of the interface holding `interface_address`."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.bind((interface_address, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface_address))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("b", 1))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.sendto(probe_message(message_id), (MULTICAST_GROUP, PORT))
        return _collect(sock, message_id, time.monotonic() + timeout)


def probe_unicast(hosts: list[str], *, timeout: float = 1.0, batch: int = 256) -> list[ProbeMatch]:
    """Send the Probe straight to port 3702 of each host (works where multicast does not reach).

    One connected socket per host, so a host without a responder (ICMP port unreachable) or one that
    has answered is done early; only silent hosts hold the full `timeout`.
    """
    matches: list[ProbeMatch] = []
    for start in range(0, len(hosts), batch):
        matches += _probe_unicast_batch(hosts[start : start + batch], timeout)
    return matches


def _probe_unicast_batch(hosts: list[str], timeout: float) -> list[ProbeMatch]:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    payload = probe_message(message_id)
    selector = selectors.DefaultSelector()
    found: list[ProbeMatch] = []
    try:
        for host in hosts:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
            try:
                sock.setblocking(False)
                sock.connect((host, PORT))
                sock.send(payload)
            except OSError:
                sock.close()
                continue
            selector.register(sock, selectors.EVENT_READ, host)
        deadline = time.monotonic() + timeout
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _events in selector.select(remaining):
                sock, host = key.fileobj, key.data
                try:
                    data = sock.recv(65535)
                except BlockingIOError:
                    continue
                except OSError:  # ICMP port unreachable: no responder there
                    data = b""
                answers = parse_probe_matches(data, message_id) if data else []
                for match in answers:
                    match.source = host
                found += answers
                if answers or not data:
                    selector.unregister(sock)
                    sock.close()
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="WS-Discovery probe; prints the matches as JSON.")
    parser.add_argument("--interface", help="multicast out of the interface with this IPv4 address")
    parser.add_argument("--host", action="append", default=[], help="unicast probe to this host (repeatable)")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    matches = probe_multicast(args.interface, timeout=args.timeout) if args.interface else []
    matches += probe_unicast(args.host, timeout=args.timeout)
    print(json.dumps([asdict(m) for m in matches]))


if __name__ == "__main__":
    main()
