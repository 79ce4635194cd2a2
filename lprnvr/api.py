"""Bits shared by every app's API."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class RestrictedViewSetMixin:
    """The one place an API view's queryset is restricted: every row it lists, retrieves or acts on
    is one the user may see (`Model.objects.visible_to`), so an unknown and a forbidden row are the
    same 404. Whether the user may change a row is the services' check (`manageable_by`), so that
    the 403 can name the cameras out of reach (see `lprnvr.visibility.OutOfScope`)."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class IsAdmin(BasePermission):
    message = _("Administrator role required.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class CanOperate(BasePermission):
    """Admins and users; viewers may only read."""

    message = _("Viewers may not change anything.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.can_operate)


def client_address(request) -> str:
    """The client's address. Behind N reverse proxies set NUM_PROXIES=N: the address is then read
    from X-Forwarded-For, N entries from its right end (the part the proxies themselves added)."""
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
