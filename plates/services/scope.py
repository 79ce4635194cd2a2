"""The rule every plate operation obeys: nothing a user does changes what a camera outside their
assignment holds or will hold.

A plate's list type and validity are one row (`Plate`), pushed to every camera that holds the plate.
So an operation that changes that row (PATCH, a restore whose records differ, delete) by a
non-administrator is refused when the plate is also on (or being taken off) a camera they may not
manage; the refusal names those cameras. Operations that only change the named cameras' lists
(push, remove, rename, import of plates new here) are confined by construction. Administrators,
and the command line / schedule (no user), reach every camera.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cameras.models import Brand, Camera
from lprnvr.visibility import OutOfScope, is_admin

from ..models import CameraPlate


def reaches_everything(user) -> bool:
    return user is None or not getattr(user, "pk", None) or is_admin(user)


class NotAnprCapable(ValueError):
    """Cameras that cannot hold plates were named as a plate list's target; `cameras` names them."""

    def __init__(self, cameras: list[Camera]):
        self.cameras = [c.address for c in cameras]
        self.reasons = [not_anpr_reason(c) for c in cameras]
        super().__init__(" ".join(self.reasons))


def anpr_capable(cameras: QuerySet, *, generic_ok: bool = False) -> QuerySet:
    """The cameras of a queryset that can hold plates: Hikvision, or an ANPR family detected (and,
    with `generic_ok`, a camera of no known brand: see ensure_anpr_capable)."""
    brands = [Brand.HIKVISION, Brand.GENERIC] if generic_ok else [Brand.HIKVISION]
    return cameras.filter(Q(brand__in=brands) | Q(anpr__family__gt=""))


def not_anpr_reason(camera: Camera) -> str:
    return _(
        "%(camera)s cannot hold plates: it is a %(brand)s camera and no ANPR firmware was detected on it "
        "(set its brand to Hikvision, or sync it once to probe it)."
    ) % {"camera": camera.address, "brand": camera.get_brand_display()}


def ensure_anpr_capable(cameras: list[Camera], *, generic_ok: bool = False) -> None:
    """Raise NotAnprCapable naming the cameras that cannot hold a plate list.

    `generic_ok` is for the seed's doors (`/AddPlate`, `/DeletePlate`, `/UpdatePlate`): every camera
    they name is, by their contract, the Hikvision ANPR camera the seed pushes to, and their clients
    registered cameras before brands mattered; a camera of another known brand is refused there too.
    """
    if not cameras:
        return
    candidates = Camera.objects.filter(pk__in=[c.pk for c in cameras])
    ok = set(anpr_capable(candidates, generic_ok=generic_ok).values_list("pk", flat=True))
    refused = [c for c in dict.fromkeys(cameras) if c.pk not in ok]
    if refused:
        raise NotAnprCapable(refused)


def cameras_holding(numbers: list[str]) -> list[Camera]:
    """Every camera whose list here holds these plates (or is still to have them removed)."""
    return list(Camera.objects.filter(plate_assignments__plate__number__in=numbers).distinct().order_by("pk"))


def ensure_confined(*, user, numbers: list[str]) -> None:
    """Raise OutOfScope naming the cameras that hold these plates and the user may not manage."""
    if reaches_everything(user) or not numbers:
        return
    manageable = Camera.objects.manageable_by(user)
    rows = CameraPlate.objects.filter(plate__number__in=numbers).exclude(camera__in=manageable).select_related("camera")
    others = sorted({row.camera.address for row in rows})
    if others:
        raise OutOfScope(
            _("These plates are also on cameras you may not manage: %(cameras)s. Ask an administrator.")
            % {"cameras": ", ".join(others)},
            cameras=others,
        )


def ensure_may_confirm_wipe(*, user, confirm_wipe: bool) -> None:
    if confirm_wipe and not reaches_everything(user):
        raise OutOfScope(_("Only administrators may confirm a wipe."))
