from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Role, User


def check_password(password: str, user: User | None) -> None:
    """Django's password validators, reported against the `password` field."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({"password": list(exc.messages)}) from exc


LEGACY_DIGEST_HELP = _(
    "Allow HTTP Digest on the legacy plate endpoints for this account (off by default). Digest keeps an "
    "MD5 of the password on the server, from the next time the password is set or used to log in."
)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role"]


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Access token: send it as `Authorization: Bearer <token>`."))
    refresh = serializers.CharField()
    user = UserSummarySerializer()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    all = serializers.BooleanField(
        default=False, help_text=_("End every session of this account (every device), not only this token.")
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    refresh = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.USER)
    legacy_digest = serializers.BooleanField(default=False, help_text=LEGACY_DIGEST_HELP)

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("A user with that username already exists."))
        return value

    def validate(self, attrs):
        check_password(attrs["password"], User(username=attrs["username"]))
        return attrs


class UserSerializer(serializers.ModelSerializer):
    camera_ips = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "role", "is_active", "legacy_digest", "date_joined", "last_login", "camera_ips"]
        read_only_fields = ["id", "username", "date_joined", "last_login", "camera_ips"]

    def get_camera_ips(self, user: User) -> list[str]:
        return sorted({c.address for c in user.cameras.all()})


class UserUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True, required=False)
    legacy_digest = serializers.BooleanField(required=False, help_text=LEGACY_DIGEST_HELP)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"role": [_("Give at least one of role, is_active, password, legacy_digest.")]}
            )
        if "password" in attrs:
            check_password(attrs["password"], self.instance)
        return attrs


class CameraAssignmentSerializer(serializers.Serializer):
    camera_ips = serializers.ListField(child=serializers.CharField(max_length=300), allow_empty=False, max_length=1000)
