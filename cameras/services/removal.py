"""Taking a camera away without losing its video or its plate reads by accident.

A camera with recorded video or plate reads is never deleted as a side effect: the caller must
choose. Either the footage goes with it (`delete_footage=True`: recordings, segment rows and files,
export caches, plate reads and their pictures), or the camera is retired (`delete_footage=False`):
not streamed or recorded any more, off the camera lists, its video and reads kept until their
retention removes them as it would have. Without a choice, 409.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import ProtectedError, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cameras.models import Camera
from lprnvr.errors import Conflict

log = logging.getLogger(__name__)

DELETED, RETIRED = "deleted", "retired"


class CameraHasFootage(Conflict):
    default_code = "camera_has_footage"


def footage_summary(camera: Camera) -> dict:
    """What deleting the camera with its footage would remove: segments, hours, bytes, recordings,
    plate reads."""
    from plates.models import PlateRead
    from recordings.retention import footage_of

    return {**footage_of(camera.id), "plate_reads": PlateRead.objects.filter(camera_id=camera.id).count()}


def has_history(footage: dict) -> bool:
    """Whether a camera has what deleting it must not lose silently: recorded video or plate reads."""
    return bool(footage["segments"] or footage.get("plate_reads"))


def describe_footage(footage: dict) -> str:
    parts = []
    if footage["segments"]:
        parts.append(
            _("%(hours)g h of recorded video (%(segments)d segments, %(size)s, %(recordings)d recordings)")
            % {
                "hours": footage["hours"],
                "segments": footage["segments"],
                "size": filesizeformat(footage["bytes"]),
                "recordings": footage["recordings"],
            }
        )
    if footage.get("plate_reads"):
        reads = footage["plate_reads"]
        parts.append(ngettext("%(reads)d plate read", "%(reads)d plate reads", reads) % {"reads": reads})
    return _(" and ").join(parts)


def retire_camera(*, camera: Camera) -> Camera:
    """Stop streaming and recording the camera and take it off the lists; its video follows retention."""
    from recordings.models import LiveViewer, Recording, RecordingStatus
    from recordings.services import wake_supervisor

    now = timezone.now()
    with transaction.atomic():
        Camera.objects.filter(id=camera.id).update(is_active=False, retired_at=now, updated_at=now)
        Recording.objects.filter(camera=camera, status=RecordingStatus.RECORDING).filter(
            Q(end_time__isnull=True) | Q(end_time__gt=now)
        ).update(end_time=now, anchored=True, stopped_reason="camera retired")
        LiveViewer.objects.filter(camera=camera).delete()
        wake_supervisor()
    camera.refresh_from_db()
    log.info("camera %d retired; its video is kept until retention", camera.id)
    return camera


def remove_camera(*, camera: Camera, delete_footage: bool | None) -> str:
    """Delete a camera, or retire it when it has video and the caller chose to keep it.

    `delete_footage`: None (no choice made: 409 if the camera has video), True (delete the camera
    with every recording, segment and file of it), False (retire it if it has video). Returns
    DELETED or RETIRED.
    """
    from recordings.retention import delete_camera_footage

    camera_id = camera.id
    footage = footage_summary(camera)
    has_video = has_history(footage)
    if has_video and delete_footage is None:
        raise CameraHasFootage(
            _(
                "This camera has %(footage)s. Ask again with delete_footage=true to delete them with the camera, "
                "or delete_footage=false to retire the camera and keep them until their retention."
            )
            % {"footage": describe_footage(footage)}
        )
    if has_video and not delete_footage:
        retire_camera(camera=camera)
        return RETIRED
    if delete_footage:
        retire_camera(camera=camera)  # first: the supervisor stops it, so no new segment races the delete
        from plates.services.reads import delete_camera_reads

        delete_camera_reads(camera_id=camera.id)
        for _attempt in range(3):
            delete_camera_footage(camera.id)
            try:
                camera.delete()
                break
            except ProtectedError:
                continue  # a segment closed meanwhile: delete it too
        else:
            raise Conflict(_("The camera is still writing video; try again in a few seconds."), code="camera_busy")
        log.warning("camera %s deleted with its footage: %s", camera_id, footage)
    else:
        camera.delete()
    return DELETED
