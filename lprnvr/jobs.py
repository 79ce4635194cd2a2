"""What every background job a user can see has (status, attempts, last error, timing, waiting for
it), shared by `plates.PlateJob` and `cameras.DiscoveryJob`. Each keeps its own status choices."""

from __future__ import annotations

import time
from typing import ClassVar, Self

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackgroundJob(models.Model):
    """One row per user-visible background operation (the API answers 202 with it; clients poll it)."""

    status = models.CharField(_("status"), max_length=16, default="pending")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    # The statuses after which the job never changes again (each subclass names its own).
    FINISHED: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (to now while it runs), or None before it starts."""
        if not self.started_at:
            return None
        return round(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 3)

    def wait(self, timeout: float, *, poll: float = 0.05) -> Self:
        """Re-read the row until the job finishes or `timeout` seconds pass; returns self."""
        deadline = time.monotonic() + timeout
        while True:
            self.refresh_from_db()
            if self.is_finished or time.monotonic() >= deadline:
                return self
            time.sleep(poll)
