"""Encrypted model fields: credentials at rest under Fernet, with key rotation (MultiFernet)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def _as_fernet_key(key: str) -> bytes:
    """Accept a real Fernet key, or derive one from any passphrase (sha256, base64)."""
    raw = key.encode()
    try:
        Fernet(raw)
        return raw
    except ValueError:
        import base64
        import hashlib

        return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (newest) key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Stores text encrypted; Python code only ever sees the plain value.

    An empty value is stored as an empty string so "no password" stays cheap to test.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise ValueError(
                f"Cannot decrypt {self.model.__name__}.{self.name}: "
                "FIELD_ENCRYPTION_KEYS lacks the key it was stored with"
            ) from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value or ""
        return encrypt(value)
