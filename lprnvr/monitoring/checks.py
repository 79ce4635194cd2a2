"""System checks for the monitoring settings."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.checks import Error, register


@register()
def metrics_allowed_ips_parse(app_configs, **kwargs):
    """Each METRICS_ALLOWED_IPS entry is an address or a network; a bad one would never match."""
    problems = []
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            problems.append(
                Error(
                    f"METRICS_ALLOWED_IPS entry {entry!r} is not an address or a network (10.0.0.5, 10.0.0.0/24).",
                    id="monitoring.E001",
                )
            )
    return problems
