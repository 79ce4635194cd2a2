"""Typed errors shared by the device clients: callers decide on the type, never on message text."""

from __future__ import annotations


class DeviceError(Exception):
    """Something went wrong talking to a device. Messages never carry credentials."""

    reason = "error"


class DeviceTimeout(DeviceError):
    reason = "timeout"


class DeviceUnreachable(DeviceError):
    reason = "unreachable"


class DeviceAuthError(DeviceError):
    """The device refused the credentials (stop: retrying can lock the source address out)."""

    reason = "auth"


class DeviceProtocolError(DeviceError):
    """The device answered, but not in the protocol we expected (not this brand, or broken firmware)."""

    reason = "protocol"


class ScanError(Exception):
    """The port scan itself failed (nmap missing, killed after its time bound, bad arguments)."""
