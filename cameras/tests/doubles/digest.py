"""Server side of HTTP Digest (MD5, qop=auth), as Hikvision and Dahua firmware speak it."""

from __future__ import annotations

import hashlib
import re
import secrets


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (the protocol's hash)


def challenge(realm: str) -> str:
    return f'Digest qop="auth", realm="{realm}", nonce="{secrets.token_hex(16)}", stale="FALSE"'


def parse(header: str) -> dict[str, str]:
    if not header.lower().startswith("digest "):
        return {}
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[7:])}


def verify(header: str, *, method: str, realm: str, username: str, password: str) -> bool:
    fields = parse(header)
    if fields.get("username") != username or fields.get("realm") != realm:
        return False
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{fields.get('uri', '')}")
    if fields.get("qop"):
        expected = _md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields['qop']}:{ha2}")
    else:
        expected = _md5(f"{ha1}:{fields.get('nonce')}:{ha2}")
    return secrets.compare_digest(expected, fields.get("response", ""))
