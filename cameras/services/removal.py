"""Taking a camera away without losing its video by accident.

A camera with recorded video is never deleted as a side effect: the caller must choose. Either the
footage goes with it (`delete_footage=True`: recordings, segment rows and files, export caches), or
the camera is retired (`delete_footage=False`): not streamed or recorded any more, off the camera
lists, its video kept until retention removes it as it would have. Without a choice, 409.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import ProtectedError, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Camera
from lprnvr.errors import Conflict

log = logging.getLogger(__name__)

DELETED, RETIRED = "deleted", "retired"


class CameraHasFootage(Conflict):
    default_code = "camera_has_footage"


def footage_summary(camera: Camera) -> dict:
    """What deleting the camera with its footage would remove: segments, hours, bytes, recordings."""
    from recordings.retention import footage_of

    return footage_of(camera.id)


def describe_footage(footage: dict) -> str:
    return _("%(hours)g h of recorded video (%(segments)d segments, %(size)s, %(recordings)d recordings)") % {
        "hours": footage["hours"],
        "segments": footage["segments"],
        "size": filesizeformat(footage["bytes"]),
        "recordings": footage["recordings"],
    }


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
    has_video = footage["segments"] > 0
    if has_video and delete_footage is None:
        raise CameraHasFootage(
            _(
                "This camera has %(footage)s. Ask again with delete_footage=true to delete it with the camera, "
                "or delete_footage=false to retire the camera and keep its video until retention."
            )
            % {"footage": describe_footage(footage)}
        )
    if has_video and not delete_footage:
        retire_camera(camera=camera)
        return RETIRED
    if delete_footage:
        retire_camera(camera=camera)  # first: the supervisor stops it, so no new segment races the delete
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
