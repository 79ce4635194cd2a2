"""A WS-Discovery responder like an ONVIF camera's: answers Probe (multicast or unicast) with ProbeMatches.

Stdlib only, so a test can run it inside a network namespace with any interpreter:

    python wsd_responder.py --bind 198.18.0.2 --multicast --xaddr http://198.18.0.2/onvif/device_service

On loopback (unicast probes only) tests start it in a thread with `serve()`.
"""

from __future__ import annotations

import argparse
import socket
import struct
import threading
import uuid
import xml.etree.ElementTree as ET

GROUP = "239.255.255.250"
PORT = 3702
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"


def probe_matches(relates_to: str, endpoint: str, xaddr: str, scopes: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP}" xmlns:wsa="{WSA}" xmlns:d="{WSD}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<env:Header><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:RelatesTo>{relates_to}</wsa:RelatesTo>"
        "<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
        "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>"
        '<d:AppSequence InstanceId="1" MessageNumber="1"/></env:Header>'
        "<env:Body><d:ProbeMatches><d:ProbeMatch>"
        f"<wsa:EndpointReference><wsa:Address>{endpoint}</wsa:Address></wsa:EndpointReference>"
        "<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
        f"<d:Scopes>{' '.join(scopes)}</d:Scopes><d:XAddrs>{xaddr}</d:XAddrs>"
        "<d:MetadataVersion>10</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>"
    ).encode()


def make_socket(bind: str, multicast: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if multicast:
        sock.bind(("", PORT))  # group traffic is delivered to sockets bound to the wildcard
        membership = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(bind))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    else:
        sock.bind((bind, PORT))
    return sock


def serve(sock: socket.socket, *, endpoint: str, xaddr: str, scopes: list[str], received: list | None = None):
    while True:
        try:
            data, sender = sock.recvfrom(65535)
        except OSError:
            return
        try:
            root = ET.fromstring(data)  # noqa: S314 (test double)
        except ET.ParseError:
            continue
        if root.find(f"{{{SOAP}}}Body/{{{WSD}}}Probe") is None:
            continue
        message_id = root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}MessageID", "")
        if received is not None:
            received.append(sender[0])
        sock.sendto(probe_matches(message_id, endpoint, xaddr, scopes), sender)


def start_thread(bind: str, *, xaddr: str, scopes: list[str]) -> tuple[socket.socket, list]:
    sock = make_socket(bind, multicast=False)
    received: list = []
    endpoint = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, xaddr)}"
    kwargs = {"endpoint": endpoint, "xaddr": xaddr, "scopes": scopes, "received": received}
    threading.Thread(target=serve, args=(sock,), kwargs=kwargs, daemon=True).start()
    return sock, received


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True, help="this responder's interface address")
    parser.add_argument("--multicast", action="store_true", help="join 239.255.255.250 on that interface")
    parser.add_argument("--xaddr", required=True)
    parser.add_argument("--scope", action="append", default=[])
    args = parser.parse_args()
    sock = make_socket(args.bind, args.multicast)
    print("READY", flush=True)
    serve(sock, endpoint=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, args.xaddr)}", xaddr=args.xaddr, scopes=args.scope)


if __name__ == "__main__":
    main()
