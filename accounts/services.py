"""Account services: login with throttling, tokens and their revocation, registration, camera assignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from cameras.models import Camera

from .models import RevokedToken, Role, User
from .throttling import login_succeeded, start_login_attempt


class UnknownCameras(Exception):
    def __init__(self, refs: list[str]):
        super().__init__(", ".join(refs))
        self.refs = refs


TOKEN_GENERATION_CLAIM = "gen"  # noqa: S105 - a claim name, not a secret


def issue_tokens(user: User) -> dict:
    """A refresh token and its access token. Both carry the account's token generation (`gen`), so
    a password, role or active change, or a logout everywhere, ends them; the access token names
    its refresh token (`rjti`) so a logout with the access token alone can revoke both."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_GENERATION_CLAIM] = user.token_generation
    access = refresh.access_token
    access["rjti"] = refresh["jti"]
    return {"token": str(access), "refresh": str(refresh)}


def token_is_current(payload, user: User) -> bool:
    """The token was issued since the account's last password, role or active change (tokens from
    before generations existed count as generation 0)."""
    return payload.get(TOKEN_GENERATION_CLAIM, 0) == user.token_generation


class RefreshRefused(Exception):
    pass


def rotate_refresh_token(raw: str) -> dict:
    """A new token pair for a refresh token, which is spent: used twice (even by two requests at
    once: one insert of its jti wins) it is refused. Raises RefreshRefused with the reason."""
    try:
        refresh = RefreshToken(raw)
    except TokenError as exc:
        raise RefreshRefused(_("Refresh token is invalid or expired.")) from exc
    user = User.objects.filter(pk=refresh.get("user_id"), is_active=True).first()
    if user is None:
        raise RefreshRefused(_("User is inactive or deleted."))
    if not token_is_current(refresh, user):
        raise RefreshRefused(_("Refresh token has been revoked."))
    try:
        with transaction.atomic():
            RevokedToken.objects.create(jti=refresh["jti"], expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC))
    except IntegrityError as exc:
        spent = RevokedToken.objects.filter(jti=refresh["jti"]).first()
        grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
        if spent is not None and timezone.now() - spent.revoked_at > grace:
            user.end_sessions()  # whoever holds the token's successors loses them too (reuse detection)
        raise RefreshRefused(_("Refresh token has been revoked.")) from exc
    drop_expired_revocations()
    return issue_tokens(user)


def end_all_sessions(*, user: User) -> None:
    """Log the account out everywhere: every access and refresh token, and its admin-site sessions."""
    user.end_sessions()


def authenticate_throttled(*, username: str, password: str, address: str, request=None) -> User | None:
    """Django's authenticate() behind the login throttle (accounts.throttling): the user, or None.
    Raises throttling.LoginThrottled, without checking the password, once this username from this address
    (or this address overall) failed too often."""
    start_login_attempt(username, address)
    user = authenticate(request, username=username, password=password)
    if user is not None:
        login_succeeded(username, address)
    return user


def login(*, username: str, password: str, address: str, request=None) -> User | None:
    """The API login: the user for these credentials, or None. Raises LoginThrottled."""
    user = authenticate_throttled(username=username, password=password, address=address, request=request)
    if user is not None:
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
    drop_expired_revocations()


def drop_expired_revocations() -> None:
    RevokedToken.objects.filter(expires_at__lt=timezone.now()).delete()


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
def create_user(*, username: str, password: str, role: str = Role.USER, legacy_digest: bool = False) -> User:
    user = User(username=User.normalize_username(username), role=role, legacy_digest=legacy_digest)
    # set_password(), not the manager's make_password(): the Digest HA1 of an opted-in account is
    # recorded when a plain password is saved (plates.auth).
    user.set_password(password)
    user.save()
    return user


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
    *,
    user: User,
    role: str | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    legacy_digest: bool | None = None,
) -> User:
    """Change a user's role, active flag, password or HTTP Digest opt-in. Never leaves the system
    without an active admin. A new password, role or active flag ends the user's tokens (User.save)."""
    list(User.objects.select_for_update().filter(role=Role.ADMIN))  # serialise admin changes
    losing_admin = (role is not None and role != Role.ADMIN) or is_active is False
    if losing_admin and _is_last_admin(user):
        raise LastAdmin()
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    if legacy_digest is not None:
        user.legacy_digest = legacy_digest
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
