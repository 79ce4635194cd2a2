"""A camera's stream down and back, from the media supervisor's own view of its processes.

The supervisor tells `StreamOutages.observe` each channel's state on every pass (a dict lookup when
nothing changes). In `backoff` or `down` for ALERTS_DOWN_AFTER seconds, `starting` retries
included, is one `camera_down` event; `running` after that is one `camera_up`. A camera nobody
wants any more (`idle`) ends the wait without an event.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings

from .models import EventKind
from .services import emit

TROUBLE = ("backoff", "down")
RUNNING, IDLE = "running", "idle"


class StreamOutages:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.trouble_since: dict[int, float] = {}
        self.reported: set[int] = set()  # cameras whose "down" went out and whose "up" has not

    def observe(self, camera_id: int, state: str, error: str = "") -> None:
        if state in TROUBLE:
            since = self.trouble_since.setdefault(camera_id, self.clock())
            if camera_id not in self.reported and self.clock() - since >= settings.ALERTS_DOWN_AFTER:
                self.reported.add(camera_id)
                detail = {"state": state, "error": error[:300], "down_for": round(self.clock() - since, 1)}
                self._emit(EventKind.CAMERA_DOWN, camera_id, detail)
        elif state == RUNNING:
            self.trouble_since.pop(camera_id, None)
            if camera_id in self.reported:
                self.reported.discard(camera_id)
                self._emit(EventKind.CAMERA_UP, camera_id, {})
        elif state == IDLE:
            self.trouble_since.pop(camera_id, None)

    def _emit(self, kind: str, camera_id: int, detail: dict) -> None:
        from cameras.models import Camera

        camera = Camera.objects.filter(pk=camera_id).first()
        if camera is not None:
            emit(kind=kind, camera=camera, detail=detail)
