"""HTTP Digest for the legacy endpoints: the password-equivalent we must keep, and the nonces in use."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lprnvr.fields import EncryptedTextField


class DigestCredential(models.Model):
    """HA1 = MD5(user:realm:password) for the legacy endpoints' HTTP Digest (as `curl --digest`).

    Digest needs a password-equivalent on the server; it is kept encrypted and is valid only while
    the account's password hash is the one it was made with (a password change voids it).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_credential")
    realm = models.CharField(max_length=100)
    ha1 = EncryptedTextField()
    password_hash = models.CharField(max_length=256)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("digest credential")
        verbose_name_plural = _("digest credentials")

    def __str__(self) -> str:
        return f"digest credential of user {self.user_id}"


class DigestNonce(models.Model):
    """A Digest nonce in use, with the highest `nc` a client has sent with it: a request whose nc is
    not above it (a replayed Authorization header) is refused. Rows appear only once a request
    authenticated (anonymous challenges store nothing) and go when the nonce expires."""

    nonce = models.CharField(max_length=128, unique=True)
    highest_nc = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("digest nonce")
        verbose_name_plural = _("digest nonces")

    def __str__(self) -> str:
        return f"{self.nonce[:12]}… nc={self.highest_nc}"
