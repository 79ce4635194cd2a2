"""What an event says: the webhook/MQTT JSON body, a one-line title and an email text.

The body is documented in docs/alerts.md; keep both in step. Links are absolute on PUBLIC_BASE_URL
(a worker has no request to take a host from), paths alone when it is not set.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from lprnvr.api import absolute_url

from .models import Event, EventKind

BODY_VERSION = 1

TITLES = {
    EventKind.PLATE_BLOCKED: _("Blocked plate %(plate)s at %(camera)s"),
    EventKind.PLATE_UNLISTED: _("Unlisted plate %(plate)s at %(camera)s"),
    EventKind.PLATE_EXPIRED: _("Plate %(plate)s outside its validity at %(camera)s"),
    EventKind.VERDICT_MISMATCH: _("Plate %(plate)s at %(camera)s: the camera said %(theirs)s, lprnvr %(ours)s"),
    EventKind.CAMERA_DOWN: _("Camera %(camera)s is down"),
    EventKind.CAMERA_UP: _("Camera %(camera)s is back"),
    EventKind.RECORDING_DISK_FULL: _("Recording stopped on %(camera)s: the disk is full"),
    EventKind.JOB_FAILED: _("Plate job %(subject)s failed"),
    EventKind.JOB_PARTIAL: _("Plate job %(subject)s partly failed"),
    EventKind.LIST_DRIFT: _("The plate list of camera %(camera)s drifted"),
    EventKind.CAMERA_LOCKED: _("Camera %(camera)s locked our address"),
    EventKind.DISK_LOW: _("Free disk under the floor: %(subject)s"),
    EventKind.SERVICE_DOWN: _("Service %(subject)s has no heartbeat"),
    EventKind.SERVICE_UP: _("Service %(subject)s is back"),
    EventKind.LOGIN_FAILURES: _("Repeated login failures for %(subject)s"),
}


def camera_ref(event: Event) -> str:
    """The camera's reference in topics: its address ("ip", "ip:port", "ip:port:channel"), or
    "system" for events of no camera. MQTT's wildcards and separator never appear in it."""
    if event.camera is None:
        return "system"
    return "".join("_" if c in "/+#" else c for c in event.camera.address)


def _link(path: str) -> str:
    return absolute_url(None, path)


def body(event: Event) -> dict:
    """The JSON document a webhook receives and an MQTT topic carries (docs/alerts.md)."""
    camera, read = event.camera, event.read
    doc = {
        "version": BODY_VERSION,
        "id": event.pk,
        "kind": event.kind,
        "title": title(event),
        "time": event.occurred_at.isoformat(),
        "camera": {"id": camera.pk, "ref": camera.address, "name": camera.name} if camera else None,
        "subject": event.subject,
        "plate": None,
        "links": {},
        "detail": event.detail or {},
    }
    if read is not None:
        doc["plate"] = {
            "read_id": read.pk,
            "number": read.number,
            "as_read": read.plate_as_read,
            "camera_verdict": read.camera_verdict,
            "our_verdict": read.our_verdict,
            "flagged": read.flagged,
            "list": read.plate.list_type if read.plate_id and read.plate else None,
            "direction": read.direction,
            "confidence": read.confidence,
            "camera_time": read.camera_time.isoformat() if read.camera_time else None,
            "received_at": read.received_at.isoformat(),
        }
        pictures = {
            kind: _link(reverse("plates:read-picture", args=[read.pk, kind]))
            for kind in read.PICTURE_KINDS
            if read.picture_path(kind)
        }
        doc["links"] = {
            "read": _link(reverse("plates:read-detail", args=[read.pk])),
            "picture": pictures.get("plate") or pictures.get("scene") or pictures.get("vehicle"),
            "pictures": pictures,
            "clip": _link(f"{reverse('plates:read-clip', args=[read.pk])}?camera={read.camera.address}"),
        }
    return doc


def encode(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def title(event: Event, *, language: str | None = None) -> str:
    """One line, in the site's language (LANGUAGE_CODE: a worker has no user to take one from), or
    in `language` (a page's)."""
    read = event.read
    values = {
        "camera": event.camera.name if event.camera else "-",
        "plate": (read.number or read.plate_as_read or "?") if read else "?",
        "theirs": read.get_camera_verdict_display() if read else "",
        "ours": read.get_our_verdict_display() if read else "",
        "subject": event.subject or "-",
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        template = TITLES.get(event.kind)
        return str(template) % values if template else str(event.get_kind_display())


def email_text(event: Event, doc: dict) -> str:
    """The body of the email: the title, when and where, the verdicts and the links."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [doc["title"], ""]
        when = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        lines.append(f"{_('Time')}: {when}")
        if doc["camera"]:
            lines.append(f"{_('Camera')}: {doc['camera']['name']} ({doc['camera']['ref']})")
        if event.read is not None:
            lines.append(f"{_('Plate')}: {doc['plate']['number']}")
            lines.append(f"{_('Camera verdict')}: {event.read.get_camera_verdict_display()}")
            lines.append(f"{_('Our verdict')}: {event.read.get_our_verdict_display()}")
            lines.append(f"{_('Read')}: {doc['links']['read']}")
            lines.append(f"{_('Clip')}: {doc['links']['clip']}")
        for key, value in (doc["detail"] or {}).items():
            lines.append(f"{key}: {value}")
        return "\n".join(lines) + "\n"


def email_attachments(event: Event) -> list[tuple[str, Path]]:
    """The read's pictures on disk (plate first), for plate events, as (name in the mail, file)."""
    if event.read is None:
        return []
    from plates.services.reads import picture_file

    found = ((f"read-{event.read.pk}-{kind}.jpg", picture_file(event.read, kind)) for kind in ("plate", "scene"))
    return [(name, path) for name, path in found if path is not None]
