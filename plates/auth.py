"""HTTP Digest for the legacy endpoints, checked against our own users.

Digest is opt-in per account (`User.legacy_digest`): it needs HA1 = MD5(user:realm:password) on the
server, an unsalted password equivalent. We keep it (encrypted) only for accounts that opted in,
written whenever the plain password passes through our hands: when it is set (`set_password` + save)
and when it authenticates (the backend below), valid only while the stored password hash is
unchanged, and deleted when the account opts out.

Nonces are HMAC-signed timestamps (a challenge stores nothing), and the highest `nc` a client sent
with each nonce is remembered (`DigestNonce`), so a captured Authorization header cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - HTTP Digest (RFC 2617) is MD5


def ha1_for(username: str, password: str, realm: str | None = None) -> str:
    return md5(f"{username}:{realm or settings.PLATES_DIGEST_REALM}:{password}")


def remember_password(user, password: str) -> None:
    from .models import DigestCredential

    if not password or not user.pk or not user.legacy_digest:
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
    cred = getattr(user, "digest_credential", None) if user.legacy_digest else None
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
def _on_user_saved(sender, instance, update_fields=None, **kwargs):
    from .models import DigestCredential

    if update_fields is not None and not {"legacy_digest", "password"} & set(update_fields):
        return  # e.g. last_login: nothing about Digest changed
    if not instance.legacy_digest:  # opted out (or never in): no password equivalent is kept
        DigestCredential.objects.filter(user_id=instance.pk).delete()
        return
    # AbstractBaseUser keeps the raw password in `_password` from set_password() until save() ends.
    raw = getattr(instance, "_password", None)
    if raw:
        remember_password(instance, raw)


# --- Nonces: HMAC-signed timestamps, their counts remembered once used --------------------------

NONCE_LIFETIME = 300


def _nonce_signature(stamp: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]


def make_nonce(now: float | None = None) -> str:
    # Random part: two clients challenged in the same second must not share a nonce (and its nc).
    stamp = f"{int(now or time.time()):x}.{secrets.token_hex(8)}"
    return f"{stamp}{_nonce_signature(stamp)}"


def nonce_state(nonce: str) -> str:
    """'ok', 'stale' (ours but old: the client retries with a fresh one) or 'bad'."""
    stamp, sig = nonce[:-32], nonce[-32:]
    if not stamp or not hmac.compare_digest(sig, _nonce_signature(stamp)):
        return "bad"
    try:
        age = time.time() - int(stamp.partition(".")[0], 16)
    except ValueError:
        return "bad"
    return "ok" if -5 <= age <= NONCE_LIFETIME else "stale"


NC = re.compile(r"^[0-9a-fA-F]{1,8}$")


def claim_nonce_count(nonce: str, nc: str) -> bool:
    """Record that `nc` was used with `nonce`: False when it is not above the highest seen (a
    replay). One conditional UPDATE, or one INSERT that only the first of two racing requests wins."""
    from .models import DigestNonce

    count = int(nc, 16)
    if DigestNonce.objects.filter(nonce=nonce, highest_nc__lt=count).update(highest_nc=count):
        return True
    try:
        with transaction.atomic():
            DigestNonce.objects.create(nonce=nonce, highest_nc=count)
    except IntegrityError:
        return False
    # Expired nonces are refused by their signed timestamp already; their rows can go.
    DigestNonce.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=NONCE_LIFETIME + 60)).delete()
    return True


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
