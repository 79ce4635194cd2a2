"""System checks for the outside binaries the product drives."""

import shutil

from django.conf import settings
from django.core.checks import Warning, register


@register()
def binaries_present(app_configs, **kwargs):
    problems = []
    for setting, hint in (
        ("FFMPEG_BINARY", "live streaming and recording need it"),
        ("FFPROBE_BINARY", "stream probing and discovery need it"),
    ):
        binary = getattr(settings, setting)
        if not shutil.which(binary):
            problems.append(Warning(f"{binary} not found ({setting}): {hint}.", id=f"lprnvr.W{len(problems) + 1:03d}"))
    if not shutil.which("nmap"):
        problems.append(Warning("nmap not found: network discovery needs it.", id="lprnvr.W010"))
    return problems
