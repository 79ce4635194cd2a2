"""Each camera's list capacity: read once from the camera, and checked before a change is sent."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Camera
from lprnvr.errors import InputRefused

from ..clients import isapi
from ..models import AnprCamera


class OverCapacity(InputRefused):
    """A change would put cameras' lists over what they can hold: one reason per camera."""


def read_capacity_once(client: isapi.ISAPIClient, device: AnprCamera) -> None:
    """Ask the camera for its list capacity the first time we talk to it (inside a device session);
    a firmware that does not say stays unknown and is not asked again."""
    if device.capacity_read_at is not None:
        return
    try:
        capacity = client.list_capacity()
    except isapi.TransientError:
        return  # asked again next time
    device.list_capacity, device.capacity_read_at = capacity, timezone.now()
    AnprCamera.objects.filter(pk=device.pk).update(list_capacity=capacity, capacity_read_at=device.capacity_read_at)


def ensure_within_capacity(camera_ids: list[int], *, field: str = "plates") -> None:
    """OverCapacity (a 400 naming `field`) when a camera's desired list, as it stands in this
    transaction, holds more plates than the camera can; nothing is sent then (the caller's
    transaction rolls back). Cameras whose capacity is unknown are not limited."""
    limits = dict(
        AnprCamera.objects.filter(pk__in=camera_ids, list_capacity__isnull=False).values_list("pk", "list_capacity")
    )
    if not limits:
        return
    counts = (
        Camera.objects.filter(pk__in=list(limits))
        .annotate(wanted=Count("plate_assignments", filter=Q(plate_assignments__desired=True)))
        .order_by("pk")
    )
    reasons = [
        _("%(camera)s can hold %(capacity)d plates: this change would put %(wanted)d on it, %(over)d too many.")
        % {"camera": c.address, "capacity": limits[c.pk], "wanted": c.wanted, "over": c.wanted - limits[c.pk]}
        for c in counts
        if c.wanted > limits[c.pk]
    ]
    if reasons:
        raise OverCapacity(_("Over the cameras' list capacity."), field=field, reasons=reasons)
