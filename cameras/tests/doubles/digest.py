"""Server side of HTTP Digest (MD5, qop=auth), as Hikvision and Dahua firmware speak it.

The one Digest server of the test doubles (the Hikvision camera, the Dahua recorder). A double that
passes `nonces` only accepts nonces it issued, and one that passes `uri` checks that the digest's `uri`
is the request target, query included (REPORT §4: a client that drops the query is refused).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (the protocol's hash)


def new_nonce(style: str = "app-webs") -> str:
    """App-webs firmware sends a bare hex nonce; newer "Webs" firmware `<hex>:<ms>`."""
    nonce = secrets.token_hex(16)
    return f"{nonce}:{int(time.time() * 1000)}" if style == "webs" else nonce


def challenge(realm: str, *, nonce: str | None = None, style: str = "app-webs") -> str:
    nonce = nonce or new_nonce(style)
    if style == "webs":  # newer firmware: domain, opaque and algorithm too
        return (
            f'Digest realm="{realm}", domain="::", qop="auth", nonce="{nonce}", '
            'opaque="", algorithm="MD5", stale="FALSE"'
        )
    return f'Digest qop="auth", realm="{realm}", nonce="{nonce}", stale="FALSE"'


def parse(header: str) -> dict[str, str]:
    if not header.lower().startswith("digest "):
        return {}
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[7:])}


def verify(
    header: str,
    *,
    method: str,
    realm: str,
    username: str,
    password: str,
    uri: str | None = None,
    nonces: set[str] | None = None,
    require_qop: bool = False,
) -> bool:
    fields = parse(header)
    if fields.get("username") != username or fields.get("realm") != realm:
        return False
    if uri is not None and fields.get("uri") != uri:
        return False
    if nonces is not None and fields.get("nonce") not in nonces:
        return False
    if require_qop and fields.get("qop") != "auth":
        return False
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{fields.get('uri', '')}")
    if fields.get("qop"):
        expected = _md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields['qop']}:{ha2}")
    else:
        expected = _md5(f"{ha1}:{fields.get('nonce')}:{ha2}")
    return secrets.compare_digest(expected, fields.get("response", ""))
