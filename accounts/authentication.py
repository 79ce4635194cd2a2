"""JWT authentication whose tokens a logout really ends."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from .models import RevokedToken


class RevocableJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if RevokedToken.objects.filter(jti=token.get("jti")).exists():
            raise InvalidToken({"detail": _("Token has been revoked."), "code": "token_revoked"})
        return token
