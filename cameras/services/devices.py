"""Discovered devices: store what a scan found (update, never duplicate) and adopt them as cameras."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.clients import ffprobe
from cameras.identify import Candidate, DeviceReport
from cameras.models import Camera, DiscoveredDevice, DiscoveredStream


def _match_device(report: DeviceReport) -> DiscoveredDevice | None:
    """Serial first, then MAC, then IP (an IP match must not contradict a known serial or MAC)."""
    if report.serial:
        device = DiscoveredDevice.objects.filter(serial=report.serial).order_by("-last_seen").first()
        if device:
            return device
    if report.mac:
        device = DiscoveredDevice.objects.filter(mac=report.mac).order_by("-last_seen").first()
        if device:
            return device
    candidates = DiscoveredDevice.objects.filter(ip=report.ip).order_by("-last_seen")
    if report.serial:
        candidates = candidates.filter(serial__in=["", report.serial])
    if report.mac:
        candidates = candidates.filter(mac__in=["", report.mac])
    return candidates.first()


@transaction.atomic
def store_report(
    report: DeviceReport, results: list[tuple[Candidate, ffprobe.StreamProbe]], *, username: str, password: str
) -> DiscoveredDevice:
    """Create or update the device row and its streams from one host's report."""
    now = timezone.now()
    device = _match_device(report) or DiscoveredDevice(ip=report.ip)
    device.ip = report.ip
    device.open_ports = report.open_ports
    for name in (
        "http_port",
        "rtsp_port",
        "onvif_port",
        "manufacturer",
        "model",
        "firmware",
        "serial",
        "mac",
        "device_type",
        "name",
    ):
        value = getattr(report, name)
        if value:
            setattr(device, name, value)
    if report.brand != "generic" or not device.brand:
        device.brand = report.brand
    device.identified_by = sorted(set(report.identified_by))
    device.login = report.login
    if any(result.ok for _c, result in results) or report.login == "ok":
        device.username, device.password = username, password
    working_channels = {c.channel for c, r in results if r.ok}
    device.channels = max(report.channels, max(working_channels, default=0))
    device.last_seen = now
    device.save()
    seen = set()
    for candidate, result in results:
        seen.add((candidate.channel, candidate.substream))
        DiscoveredStream.objects.update_or_create(
            device=device,
            channel=candidate.channel,
            substream=candidate.substream,
            defaults={
                "source": candidate.source,
                "url": candidate.url,
                "status": DiscoveredStream.Status.OK if result.ok else DiscoveredStream.Status.FAILED,
                "failure": "" if result.ok else result.failure,
                "detail": result.detail[:300],
                "codec": result.codec,
                "width": result.width,
                "height": result.height,
                "checked_at": now,
            },
        )
    if seen:
        # Streams this scan no longer offers (a recorder with fewer channels now): dropped, or kept
        # as failed when a camera was adopted from them.
        for stream in device.streams.all():
            if (stream.channel, stream.substream) in seen:
                continue
            if stream.camera_id:
                stream.status, stream.failure = DiscoveredStream.Status.FAILED, DiscoveredStream.Failure.NO_STREAM
                stream.detail, stream.checked_at = "not offered by the device in the last scan", now
                stream.save(update_fields=["status", "failure", "detail", "checked_at"])
            else:
                stream.delete()
    return device


class AdoptionError(ValueError):
    pass


@transaction.atomic
def adopt(
    *,
    device_ids: list[int] | None = None,
    stream_ids: list[int] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> list[Camera]:
    """Create (or update) one Camera per adopted channel, credentials stored encrypted.

    `device_ids` adopts every channel of those devices with a working main stream; `stream_ids` adopts
    the channels of those streams. The working main and sub-stream URLs become the camera's RTSP URLs
    (encrypted).
    """
    streams = DiscoveredStream.objects.select_related("device").filter(status=DiscoveredStream.Status.OK)
    wanted = Q(pk__in=[])
    if device_ids:
        wanted |= Q(device_id__in=device_ids)
    if stream_ids:
        pairs = DiscoveredStream.objects.filter(pk__in=stream_ids).values_list("device_id", "channel")
        for device_id, channel in pairs:
            wanted |= Q(device_id=device_id, channel=channel)
    chosen = list(streams.filter(wanted).order_by("device_id", "channel", "substream"))
    if not chosen:
        raise AdoptionError(_("Nothing to adopt: no working stream among the ones named."))
    cameras: dict[tuple[int, int], Camera] = {}
    for stream in chosen:
        key = (stream.device_id, stream.channel)
        device = stream.device
        if key not in cameras:
            main = next((s for s in chosen if (s.device_id, s.channel) == key and not s.substream), stream)
            http_port = device.http_port or 80
            camera = Camera.objects.filter(ip=device.ip, http_port=http_port, channel=stream.channel).first()
            camera = camera or Camera(ip=device.ip, http_port=http_port, channel=stream.channel)
            label = device.name or device.model or device.brand
            camera.name = camera.name or (label if device.channels <= 1 else f"{label} ch{stream.channel}")[:200]
            camera.brand = device.brand
            camera.rtsp_port = device.rtsp_port or 554
            camera.username = device.username if username is None else username
            camera.password = device.password if password is None else password
            camera.rtsp_url = main.url if not main.substream else ""
            sub = next((s for s in chosen if (s.device_id, s.channel) == key and s.substream), None)
            camera.rtsp_substream_url = sub.url if sub else ""
            camera.is_active = True
            camera.last_seen = device.last_seen
            camera.save()
            cameras[key] = camera
        stream.camera = cameras[key]
        stream.save(update_fields=["camera"])
    return list(cameras.values())
