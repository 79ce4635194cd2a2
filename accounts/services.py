"""Account services: login with throttling, logout, registration, camera assignment."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from cameras.models import Camera

from .models import RevokedToken, Role, User


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class UnknownCameras(Exception):
    def __init__(self, refs: list[str]):
        super().__init__(", ".join(refs))
        self.refs = refs


def _failure_keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (f"login-fail:user:{username.lower()}", settings.LOGIN_MAX_FAILURES_PER_USER),
        (f"login-fail:addr:{address}", settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def check_login_throttle(username: str, address: str) -> None:
    now = time.time()
    for key, limit in _failure_keys(username, address):
        failures = [t for t in cache.get(key, []) if t > now - settings.LOGIN_FAILURE_WINDOW]
        if len(failures) >= limit:
            retry_after = int(failures[-limit] + settings.LOGIN_FAILURE_WINDOW - now) + 1
            raise LoginThrottled(max(retry_after, 1))


def record_login_failure(username: str, address: str) -> None:
    now = time.time()
    for key, limit in _failure_keys(username, address):
        failures = [t for t in cache.get(key, []) if t > now - settings.LOGIN_FAILURE_WINDOW]
        failures.append(now)
        cache.set(key, failures[-limit:], settings.LOGIN_FAILURE_WINDOW)


def issue_tokens(user: User) -> dict:
    """A refresh token and its access token; the access token names its refresh token (`rjti`)
    so a logout with the access token alone can revoke both."""
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    access["rjti"] = refresh["jti"]
    return {"token": str(access), "refresh": str(refresh)}


def login(*, username: str, password: str, address: str, request=None) -> User | None:
    """The user for these credentials, or None. Raises LoginThrottled once too many failed."""
    check_login_throttle(username, address)
    user = authenticate(request, username=username, password=password)
    if user is None:
        record_login_failure(username, address)
        return None
    cache.delete(_failure_keys(username, address)[0][0])
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def revoke_token(payload: dict) -> None:
    """Revoke a token (and, for an access token, the refresh token it came with)."""
    expires_at = datetime.fromtimestamp(payload["exp"], tz=UTC)
    jtis = [payload["jti"]]
    if payload.get("rjti"):
        jtis.append(payload["rjti"])
    for jti in jtis:
        # The refresh token outlives its access token: keep its row for the refresh lifetime.
        expiry = expires_at if jti == payload["jti"] else timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
        RevokedToken.objects.get_or_create(jti=jti, defaults={"expires_at": expiry})
    RevokedToken.objects.filter(expires_at__lt=timezone.now()).delete()


def is_revoked(token: str) -> bool:
    return RevokedToken.objects.filter(jti=UntypedToken(token).get("jti")).exists()


def lock_registration() -> None:
    """Serialise registrations inside the caller's transaction, so two requests racing on an empty
    system cannot both become the first administrator."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x1C9A11])
    else:  # SQLite: the IMMEDIATE transaction already holds the write lock
        list(User.objects.select_for_update().order_by("pk")[:1])


def system_is_empty() -> bool:
    return not User.objects.exists()


@transaction.atomic
def create_user(*, username: str, password: str, role: str = Role.USER) -> User:
    return User.objects.create_user(username=username, password=password, role=role)


def resolve_cameras(refs: list[str]) -> list[Camera]:
    """Cameras named by client references (`ip`, `ip:port`...). Raises UnknownCameras naming each miss."""
    found: list[Camera] = []
    missing: list[str] = []
    for ref in refs:
        cameras = list(Camera.objects.by_ref(ref))
        if not cameras:
            missing.append(ref)
        found.extend(cameras)
    if missing:
        raise UnknownCameras(missing)
    return found


@transaction.atomic
def assign_cameras(*, user: User, camera_refs: list[str]) -> list[Camera]:
    cameras = resolve_cameras(camera_refs)
    user.cameras.add(*cameras)
    return cameras


@transaction.atomic
def unassign_camera(*, user: User, camera_ref: str) -> int:
    cameras = resolve_cameras([camera_ref])
    user.cameras.remove(*cameras)
    return len(cameras)


class LastAdmin(Exception):
    pass


def _is_last_admin(user: User) -> bool:
    return user.is_admin and not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


@transaction.atomic
def update_user(
    *, user: User, role: str | None = None, is_active: bool | None = None, password: str | None = None
) -> User:
    """Change a user's role, active flag or password. Never leaves the system without an active admin."""
    list(User.objects.select_for_update().filter(role=Role.ADMIN))  # serialise admin changes
    losing_admin = (role is not None and role != Role.ADMIN) or is_active is False
    if losing_admin and _is_last_admin(user):
        raise LastAdmin()
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def delete_user(*, user: User) -> None:
    list(User.objects.select_for_update().filter(role=Role.ADMIN))
    if _is_last_admin(user):
        raise LastAdmin()
    user.delete()
