"""The cameras app's admin, one module per concept: cameras, discovery."""

from .cameras import CameraAdmin, CameraAdminForm, CameraRemovalForm
from .discovery import DiscoveredDeviceAdmin, DiscoveredStreamInline, DiscoveryJobAdmin

__all__ = [
    "CameraAdmin",
    "CameraAdminForm",
    "CameraRemovalForm",
    "DiscoveredDeviceAdmin",
    "DiscoveredStreamInline",
    "DiscoveryJobAdmin",
]
