"""HTTP Digest for the legacy endpoints, checked against our own users.

Digest needs HA1 = MD5(user:realm:password) on the server. We keep it (encrypted) per user, written
whenever the plain password passes through our hands: when it is set (`set_password` + save) and when
it authenticates (the backend below), and valid only while the stored password hash is unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models.signals import post_save
from django.dispatch import receiver


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - HTTP Digest (RFC 2617) is MD5


def ha1_for(username: str, password: str, realm: str | None = None) -> str:
    return md5(f"{username}:{realm or settings.PLATES_DIGEST_REALM}:{password}")


def remember_password(user, password: str) -> None:
    from .models import DigestCredential

    if not password or not user.pk:
        return
    realm = settings.PLATES_DIGEST_REALM
    ha1 = ha1_for(user.get_username(), password, realm)
    current = DigestCredential.objects.filter(user=user).first()
    if current and current.realm == realm and current.ha1 == ha1 and current.password_hash == user.password:
        return
    DigestCredential.objects.update_or_create(
        user=user, defaults={"realm": realm, "ha1": ha1, "password_hash": user.password}
    )


def stored_ha1(user) -> str | None:
    cred = getattr(user, "digest_credential", None)
    if cred is None or cred.realm != settings.PLATES_DIGEST_REALM or cred.password_hash != user.password:
        return None
    return cred.ha1


class DigestRecordingModelBackend(ModelBackend):
    """Django's model backend, also recording the digest HA1 of a password that just authenticated."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and password:
            remember_password(user, password)
        return user


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="plates-digest-on-password-set")
def _on_user_saved(sender, instance, **kwargs):
    # AbstractBaseUser keeps the raw password in `_password` from set_password() until save() ends.
    raw = getattr(instance, "_password", None)
    if raw:
        remember_password(instance, raw)


# --- Nonces: stateless, HMAC-signed timestamps ------------------------------------------------

NONCE_LIFETIME = 300


def make_nonce(now: float | None = None) -> str:
    stamp = f"{int(now or time.time()):x}"
    sig = hmac.new(settings.SECRET_KEY.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{stamp}{sig}"


def nonce_state(nonce: str) -> str:
    """'ok', 'stale' (ours but old: the client retries with a fresh one) or 'bad'."""
    stamp, sig = nonce[:-32], nonce[-32:]
    expected = hmac.new(settings.SECRET_KEY.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    if not stamp or not hmac.compare_digest(sig, expected):
        return "bad"
    try:
        age = time.time() - int(stamp, 16)
    except ValueError:
        return "bad"
    return "ok" if -5 <= age <= NONCE_LIFETIME else "stale"


def challenge(stale: bool = False) -> str:
    header = f'Digest realm="{settings.PLATES_DIGEST_REALM}", qop="auth", nonce="{make_nonce()}", algorithm=MD5'
    return header + (", stale=TRUE" if stale else "")


def parse_authorization(header: str) -> dict | None:
    if not header[:7].lower() == "digest ":
        return None
    return {k.lower(): v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', header[7:])}


def expected_response(params: dict, ha1: str, method: str) -> str:
    ha2 = md5(f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        return md5(f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}")
    return md5(f"{ha1}:{params['nonce']}:{ha2}")
