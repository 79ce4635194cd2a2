"""Hikvision ISAPI, discovery's two reads: `/ISAPI/System/deviceInfo` and `/ISAPI/Streaming/channels`.

Minimal on purpose: the plates app carries the full ISAPI client (being written in parallel); fold this
into it once merged. Parsing is namespace-agnostic (hikvision.com/ver20 on IPCs, isapi.org on newer units).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import http
from .errors import DeviceProtocolError


@dataclass
class HikvisionStream:
    id: int
    channel: int
    stream_no: int  # 1 main, 2 sub, 3 third
    name: str = ""
    enabled: bool = True
    codec: str = ""
    width: int = 0
    height: int = 0


@dataclass
class HikvisionDevice:
    name: str = ""
    model: str = ""
    serial: str = ""
    mac: str = ""
    firmware: str = ""
    device_type: str = ""
    streams: list[HikvisionStream] = field(default_factory=list)

    def channels(self) -> list[int]:
        return sorted({s.channel for s in self.streams if s.enabled})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element) -> dict[str, str]:
    return {_local(child.tag): (child.text or "").strip() for child in element}


def _parse(body: bytes, root_name: str) -> ET.Element:
    try:
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError as exc:
        raise DeviceProtocolError("ISAPI answered something that is not XML") from exc
    if _local(root.tag) != root_name:
        raise DeviceProtocolError(f"ISAPI answered <{_local(root.tag)}>, expected <{root_name}>")
    return root


def parse_device_info(body: bytes) -> HikvisionDevice:
    fields = _children(_parse(body, "DeviceInfo"))
    return HikvisionDevice(
        name=fields.get("deviceName", ""),
        model=fields.get("model", ""),
        serial=fields.get("serialNumber", ""),
        mac=fields.get("macAddress", "").upper(),
        firmware=" ".join(x for x in (fields.get("firmwareVersion", ""), fields.get("firmwareReleasedDate", "")) if x),
        device_type=fields.get("deviceType", ""),
    )


def parse_streaming_channels(body: bytes) -> list[HikvisionStream]:
    streams = []
    for element in _parse(body, "StreamingChannelList"):
        if _local(element.tag) != "StreamingChannel":
            continue
        fields = _children(element)
        video = next((child for child in element if _local(child.tag) == "Video"), None)
        video_fields = _children(video) if video is not None else {}
        try:
            stream_id = int(fields.get("id", ""))
        except ValueError:
            continue
        streams.append(
            HikvisionStream(
                id=stream_id,
                channel=stream_id // 100,
                stream_no=stream_id % 100,
                name=fields.get("channelName", ""),
                enabled=fields.get("enabled", "true").lower() != "false",
                codec=video_fields.get("videoCodecType", ""),
                width=int(video_fields.get("videoResolutionWidth", "0") or 0),
                height=int(video_fields.get("videoResolutionHeight", "0") or 0),
            )
        )
    return streams


def probe(host: str, port: int, username: str, password: str, *, timeout: float = 5) -> HikvisionDevice:
    """Device info and streaming channels. A refused login raises DeviceAuthError and stops there."""
    session = http.session()
    base = http.base_url(host, port)
    response = http.get(
        session, f"{base}/ISAPI/System/deviceInfo", username=username, password=password, timeout=timeout
    )
    if response.status_code != 200:
        raise DeviceProtocolError(f"ISAPI deviceInfo: HTTP {response.status_code}")
    device = parse_device_info(response.content)
    response = http.get(
        session, f"{base}/ISAPI/Streaming/channels", username=username, password=password, timeout=timeout
    )
    if response.status_code == 200:
        device.streams = parse_streaming_channels(response.content)
    return device
