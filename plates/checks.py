"""System checks for plates: the folder plate-read pictures are written to."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Warning, register

from recordings.storage import existing_ancestor

READS_DIR_NOT_WRITABLE = "plates.W001"


@register()
def reads_dir_writable(app_configs, **kwargs):
    """A Warning, not an Error (an Error would stop `migrate` and the web process): reads are still
    stored without their pictures, and this says why."""
    folder = Path(settings.READS_DIR)
    existing = existing_ancestor(folder)  # not made yet: the first picture makes it, if its parent lets us
    if not os.access(existing, os.W_OK | os.X_OK):
        return [
            Warning(
                f"READS_DIR {folder} is not writable: plate reads are stored without their pictures.",
                hint="Give the lprnvr user write access to it, or set READS_DIR elsewhere.",
                id=READS_DIR_NOT_WRITABLE,
            )
        ]
    return []
