"""Reads for the plate APIs. Row visibility lives on the models' QuerySets (`visible_to` /
`manageable_by`); this resolves the camera references clients send."""

from __future__ import annotations

from dataclasses import dataclass, field

from cameras.models import Camera
from lprnvr.api import as_id


@dataclass
class CameraResolution:
    cameras: list[Camera] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


def resolve_cameras_for(user, refs: list) -> CameraResolution:
    """Cameras named by id, `ip`, `ip:http_port` or `ip:http_port:channel`; which are unknown (or
    invisible to the user) and which the user may see but not act on."""
    out = CameraResolution()
    visible = Camera.objects.visible_to(user)
    manageable = set(Camera.objects.manageable_by(user).values_list("pk", flat=True))
    for ref in refs:
        text = str(ref).strip()
        if text.isdigit():  # an id (or digits that are none: unknown)
            found = list(visible.filter(pk=pk)) if (pk := as_id(text)) else []
        else:
            found = list(visible.by_ref(text))
        if not found:
            out.unknown.append(text)
            continue
        for camera in found:
            if camera.pk not in manageable:
                out.forbidden.append(text)
                break
        else:
            out.cameras.extend(c for c in found if c not in out.cameras)
    return out
