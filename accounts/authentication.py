"""JWT authentication whose tokens a logout, a password, role or active change really end."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from . import services
from .models import RevokedToken


class RevocableJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if RevokedToken.objects.filter(jti=token.get("jti")).exists():
            raise InvalidToken({"detail": _("Token has been revoked."), "code": "token_revoked"})
        return token

    def get_user(self, validated_token):
        user = super().get_user(validated_token)  # the row is loaded anyway: the check costs nothing
        if not services.token_is_current(validated_token, user):
            raise InvalidToken({"detail": _("Token has been revoked."), "code": "token_revoked"})
        return user
