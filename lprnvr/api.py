"""Bits shared by every app's API."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsAdmin(BasePermission):
    message = "Administrator role required."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class CanOperate(BasePermission):
    """Admins and users; viewers may only read."""

    message = "Viewers may not change anything."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.can_operate)


def client_address(request) -> str:
    """The client's address. Behind a reverse proxy set TRUSTED_PROXY_HEADER handling at the proxy."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
