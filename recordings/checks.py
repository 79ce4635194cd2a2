"""System checks for the recordings root (ids match the faults of `storage.root_fault`)."""

import os

from django.conf import settings
from django.core.checks import Warning, register

from . import storage


@register()
def recordings_root(app_configs, **kwargs):
    """Only what needs no database: a mount the settings require, and a root we can write to.

    Warnings, not Errors: an Error would stop `migrate` and the web process, and then /health (503,
    same ids) could not say what is wrong. The supervisor refuses to record either way.
    """
    folder = storage.root()
    if settings.RECORDINGS_REQUIRE_MOUNT and not os.path.ismount(folder):
        return [
            Warning(
                f"RECORDINGS_DIR {folder} is not a mount point, and RECORDINGS_REQUIRE_MOUNT is set.",
                hint="Mount the recordings disk; until then nothing records.",
                id=storage.NOT_A_MOUNT,
            )
        ]
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return [Warning(f"RECORDINGS_DIR {folder} is not writable.", id=storage.NOT_WRITABLE)]
    return []
