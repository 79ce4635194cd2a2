"""Port scan with nmap (python-nmap): which hosts of a range have camera ports open.

python-nmap builds an argument list (shlex-split, never a shell); every call is bounded twice: nmap's
own `--host-timeout` per host and a wall-clock `timeout` that kills the process.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from .errors import ScanError

logger = logging.getLogger(__name__)

DEFAULT_PORTS = (80, 443, 554, 8000, 8554, 8899, 34567, 37777)


@dataclass
class HostPorts:
    ip: str
    open_ports: list[int] = field(default_factory=list)
    mac: str = ""
    vendor: str = ""


def nmap_arguments(*, host_timeout: float, connect_scan: bool = True, skip_ping: bool = False) -> str:
    """nmap options. `-sT` (connect scan) needs no raw sockets, `-n` no DNS, `--open` only open ports;
    `-Pn` scans every address even when it does not answer nmap's host discovery (routed subnets
    whose routers drop ping), at the cost of a slower scan of silent addresses."""
    args = ["-n", "--open", "-T4", "--max-retries", "1", "--host-timeout", f"{max(1, int(host_timeout))}s"]
    if connect_scan:
        args.insert(0, "-sT")
    if skip_ping:
        args.append("-Pn")
    return " ".join(args)


def scan(
    network_range: str,
    *,
    ports: list[int] | tuple[int, ...] = DEFAULT_PORTS,
    timeout: float = 120,
    host_timeout: float = 30,
    skip_ping: bool = False,
) -> list[HostPorts]:
    """Scan `network_range` (a CIDR or one address) for open `ports`; hosts without open ports are left out."""
    import nmap  # python-nmap

    # Validate here too: the range reaches nmap's argv and must be exactly one network, nothing else.
    network = ipaddress.ip_network(network_range, strict=False)
    port_list = ",".join(str(int(p)) for p in ports)
    try:
        scanner = nmap.PortScanner()
    except nmap.PortScannerError as exc:
        raise ScanError(f"nmap is not available: {exc}") from exc
    try:
        scanner.scan(
            hosts=str(network),
            ports=port_list,
            arguments=nmap_arguments(host_timeout=host_timeout, skip_ping=skip_ping),
            timeout=max(1, int(timeout)),
        )
    except nmap.PortScannerTimeout as exc:
        raise ScanError(f"nmap did not finish within {int(timeout)} s") from exc
    except nmap.PortScannerError as exc:
        raise ScanError(f"nmap failed: {exc}") from exc
    hosts: list[HostPorts] = []
    for ip in scanner.all_hosts():
        data = scanner[ip]
        open_ports = sorted(int(port) for port, info in data.get("tcp", {}).items() if info.get("state") == "open")
        if not open_ports:
            continue
        mac = data.get("addresses", {}).get("mac", "")
        vendor = data.get("vendor", {}).get(mac, "") if mac else ""
        hosts.append(HostPorts(ip=ip, open_ports=open_ports, mac=mac.upper(), vendor=vendor))
    hosts.sort(key=lambda h: ipaddress.ip_address(h.ip))
    logger.info("nmap %s: %d hosts with open camera ports", network, len(hosts))
    return hosts
