"""ISAPI event notifications (alertStream, httpHosts pushes): what one camera alert says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Alert:
    event_type: str  # "ANPR" (heartbeats never reach the store)
    camera_time: datetime | None  # aware, with the camera's UTC offset as sent
    uuid: str = ""  # the camera's UUID of the read, "" when absent
    plate: str = ""  # as read (licensePlate)
    original_plate: str = ""
    confidence: int | None = None
    direction: str = ""  # "forward" / "reverse" / "" as sent
    lane: int | None = None
    list_type: str = ""  # raw: "allowList", "blockList", "blackList", "otherList", "" ...
    vehicle: dict = field(default_factory=dict)  # type, color, brand... as sent
    channel: int | None = None
    active_post_count: int | None = None
    raw: bytes = b""  # the alert part as received (kept truncated/redacted for diagnosis)
