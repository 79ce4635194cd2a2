"""Bits shared by every app's API."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


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


def absolute_url(request, path: str) -> str:
    """`path` as a URL to hand out: on PUBLIC_BASE_URL when set; else on the request's host when
    ALLOWED_HOSTS names the hosts (Django has checked it); else the path alone, which browsers and
    hls.js resolve against the page, because with ALLOWED_HOSTS=* the Host header is anybody's."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    if "*" not in settings.ALLOWED_HOSTS:
        return request.build_absolute_uri(path)
    return path
