"""Bits shared by every app's API."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission

#: The largest row id (BigAutoField: PostgreSQL bigint, SQLite INTEGER). A bigger number never
#: reaches a query: SQLite raises on it (OverflowError) where PostgreSQL only finds nothing.
MAX_ID = 2**63 - 1


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


def absolute_url(request, path: str) -> str:
    """`path` as a URL to hand out: on PUBLIC_BASE_URL when set; else on the request's host when
    ALLOWED_HOSTS names the hosts (Django has checked it); else the path alone, which browsers and
    hls.js resolve against the page, because with ALLOWED_HOSTS=* the Host header is anybody's.
    With no request (a worker writing a message): PUBLIC_BASE_URL, else the path."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    if request is not None and "*" not in settings.ALLOWED_HOSTS:
        return request.build_absolute_uri(path)
    return path


def as_id(value) -> int | None:
    """`value` as a row id: ASCII digits ("²" is a digit to str.isdigit) from 1 to MAX_ID; else None."""
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        number = int(text)
        if 1 <= number <= MAX_ID:
            return number
    return None


def id_param(request, name: str) -> int | None:
    """The query parameter `name` as a row id; None when absent; 400 naming it when it is not an id."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    number = as_id(value)
    if number is None:
        message = _("Must be an id: a whole number from 1 to %(max)s.") % {"max": MAX_ID}
        raise exceptions.ValidationError({name: [message]})
    return number


def choice_param(request, name: str, choices) -> str | None:
    """The query parameter `name` when it is one of `choices` (a TextChoices class or values); None
    when absent; 400 naming it and the allowed values otherwise (a filter that matches nothing because
    of a typo would look like an empty result)."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    allowed = list(getattr(choices, "values", choices))
    if value not in allowed:
        message = _("Must be one of: %(allowed)s.") % {"allowed": ", ".join(allowed)}
        raise exceptions.ValidationError({name: [message]})
    return value


class IdField(serializers.IntegerField):
    """A row id in a request body: 1 to MAX_ID."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
