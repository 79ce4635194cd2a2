"""The shared ISAPI client's device-level reads against the Hikvision double on loopback."""

from __future__ import annotations

import socket

import pytest

from cameras.clients import errors, isapi
from cameras.tests.doubles.lab import PASSWORD, USERNAME


def client(lab, password=PASSWORD, **kw) -> isapi.ISAPIClient:
    return isapi.ISAPIClient(
        lab.hikvision.address, username=USERNAME, password=password, timeouts=isapi.Timeouts(3, 3), **kw
    )


def test_device_info_and_streaming_channels_on_one_connection(lab):
    lab.hikvision.calls.clear()
    with client(lab) as c:
        info = c.device_info()
        streams = c.streaming_channels()
    assert (info.model, info.serial, info.mac) == (
        "DS-2CD2155FWD-I", "DS-2CD2155FWD-I20170725AAWR123456789", "44:19:B6:00:00:18",
    )  # fmt: skip
    assert info.firmware == "V5.5.0 build 170725" and info.device_type == "IPCamera"
    assert info.fields["telecontrolID"] == "88"
    assert [(s.id, s.channel, s.stream_no, s.codec, s.width, s.height) for s in streams] == [
        (101, 1, 1, "H.264", 2560, 1920),
        (102, 1, 2, "H.264", 640, 480),
    ]
    # One digest handshake: the channel list answers the nonce deviceInfo was challenged with.
    assert lab.hikvision.calls == ["/ISAPI/System/deviceInfo"] * 2 + ["/ISAPI/Streaming/channels"]


def test_a_wrong_password_costs_one_refused_login_and_nothing_more(lab):
    lab.hikvision.calls.clear()
    c = client(lab, password="wrong-pass")
    with pytest.raises(isapi.BadCredentials) as refused:
        c.device_info()
    with pytest.raises(isapi.BadCredentials):
        c.streaming_channels()  # refused on our side: nothing sent
    assert lab.hikvision.calls == ["/ISAPI/System/deviceInfo"] * 2
    assert c.auth_failure is refused.value
    # Discovery's error vocabulary: the same exception is a DeviceAuthError with reason "auth".
    assert isinstance(refused.value, errors.DeviceAuthError) and refused.value.reason == "auth"
    assert "wrong-pass" not in str(refused.value) + repr(c) + str(refused.value.as_dict())
    c.close()


def test_a_response_status_becomes_a_typed_error(lab):
    with client(lab) as c, pytest.raises(isapi.NotSupported) as exc:
        c.request("GET", "/ISAPI/System/unknownResource")
    assert (exc.value.http_status, exc.value.status_code, exc.value.sub_status_code) == (404, 4, "notSupport")
    assert isinstance(exc.value, errors.DeviceError) and not exc.value.transient


def test_unreachable_and_silent_devices_are_typed_with_discovery_reasons():
    with pytest.raises(isapi.DeviceUnreachable) as dead:
        isapi.probe("127.0.0.31", 80, USERNAME, PASSWORD, timeout=2)
    assert isinstance(dead.value, errors.DeviceUnreachable) and dead.value.reason == "unreachable"
    assert dead.value.transient
    with socket.socket() as silent:
        silent.bind(("127.0.0.30", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(isapi.DeviceTimeout) as slow:
            isapi.probe("127.0.0.30", port, USERNAME, PASSWORD, timeout=1)
    assert isinstance(slow.value, errors.DeviceTimeout) and slow.value.reason == "timeout"


def test_parsing_is_namespace_agnostic_and_rejects_other_documents():
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><StreamingChannelList xmlns="http://www.isapi.org/ver20/XMLSchema">'
        b"<StreamingChannel><id>201</id><enabled>false</enabled></StreamingChannel>"
        b"<StreamingChannel><id>x</id></StreamingChannel></StreamingChannelList>"
    )
    [stream] = isapi.parse_streaming_channels(body)
    assert (stream.id, stream.channel, stream.enabled) == (201, 2, False)
    with pytest.raises(isapi.ProtocolError):
        isapi.parse_device_info(body)
    with pytest.raises(errors.DeviceProtocolError):
        isapi.parse_device_info(b"<html>not xml")
