"""What a discovery request must carry: a sane network range and credentials in a known shape."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json

from django.conf import settings
from django.utils.translation import gettext as _


class InvalidRange(ValueError):
    pass


class InvalidCredentials(ValueError):
    pass


# ------------------------------------------------------------------------------------------ inputs
def validate_network_range(value: str) -> ipaddress.IPv4Network:
    """A CIDR (or one address) that is IPv4, not public unless allowed, and not over DISCOVERY_MAX_HOSTS."""
    text = (value or "").strip()
    if not text:
        raise InvalidRange(_("A network range is required, e.g. 192.168.1.0/24."))
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidRange(_("Not a valid CIDR range: %(value)s.") % {"value": text[:64]}) from exc
    if network.version != 4:
        raise InvalidRange(_("Only IPv4 ranges can be scanned."))
    if network.is_multicast or network.is_unspecified or network.is_reserved or network.network_address.packed[0] == 0:
        raise InvalidRange(_("That range cannot hold cameras."))
    if network.is_global and not settings.DISCOVERY_ALLOW_PUBLIC:
        raise InvalidRange(_("Public ranges are refused (set DISCOVERY_ALLOW_PUBLIC to allow them)."))
    if network.num_addresses > settings.DISCOVERY_MAX_HOSTS:
        raise InvalidRange(
            _("The range has %(n)d addresses; at most %(max)d may be scanned at once (DISCOVERY_MAX_HOSTS).")
            % {"n": network.num_addresses, "max": settings.DISCOVERY_MAX_HOSTS}
        )
    return network


def parse_credentials(value: str | dict | None) -> tuple[str, str]:
    """Credentials as clients send them: `user:password`, JSON `{"username": .., "password": ..}`, or `user`."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidCredentials(_("credentials: invalid JSON.")) from exc
    if isinstance(value, dict):
        username = value.get("username", value.get("user", ""))
        password = value.get("password", value.get("pass", ""))
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidCredentials(_("credentials: username and password must be strings."))
    elif isinstance(value, str):
        username, _sep, password = value.partition(":")
    else:
        raise InvalidCredentials(_("credentials: expected user:password or a JSON object."))
    if not username:
        raise InvalidCredentials(_("credentials: the username is empty."))
    if len(username) > 128 or len(password) > 128:
        raise InvalidCredentials(_("credentials: too long."))
    return username, password


def scan_key(network: str, username: str, password: str) -> str:
    """Identifies a (range, credentials) pair for the result cache without storing the credentials."""
    message = f"{network}\x00{username}\x00{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def cache_name(key: str) -> str:
    return f"cameras:discovery:{key}"
