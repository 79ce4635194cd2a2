from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    USER = "user", _("User")
    VIEWER = "viewer", _("Viewer")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user) -> UserQuerySet:
        """Administrators see every account; anybody else only their own."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.all() if user.is_admin else self.filter(pk=user.pk)

    def manageable_by(self, user) -> UserQuerySet:
        """Only administrators change accounts (one's own password is Django's own page)."""
        if not getattr(user, "is_authenticated", False) or not user.is_admin:
            return self.none()
        return self.all()


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `manage.py createsuperuser` makes an administrator: the role is what grants it here.
        extra_fields["role"] = Role.ADMIN
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """An account. Its role decides what it may do; its cameras decide where (see README)."""

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.USER)
    cameras = models.ManyToManyField(
        "cameras.Camera",
        verbose_name=_("cameras"),
        related_name="users",
        blank=True,
        help_text=_("Cameras this account may see. Administrators see every camera."),
    )
    gates = models.ManyToManyField(
        "cameras.Gate",
        verbose_name=_("gates"),
        related_name="users",
        blank=True,
        help_text=_("Gates whose cameras (lanes) this account may see, as if each were assigned."),
    )
    sites = models.ManyToManyField(
        "cameras.Site",
        verbose_name=_("sites"),
        related_name="users",
        blank=True,
        help_text=_("Sites whose every gate this account may see."),
    )

    legacy_digest = models.BooleanField(
        _("legacy HTTP Digest"),
        default=False,
        help_text=_(
            "Lets this account use HTTP Digest on the legacy plate endpoints (/AddPlate...). Digest needs "
            "an unsalted MD5 of the password on the server: it is kept only while this is on, from the "
            "next time the password is set or used to log in."
        ),
    )
    # Stamped into every JWT (`gen`); bumping it ends every access and refresh token at once.
    token_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    # A change of any of these ends the account's tokens (see save()).
    ACCESS_FIELDS = ("role", "is_active")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._loaded_access = {f: getattr(user, f) for f in cls.ACCESS_FIELDS if f in field_names}
        return user

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_operate(self) -> bool:
        """Admins and users act on their cameras (record, push plates); viewers only watch."""
        return self.role in (Role.ADMIN, Role.USER)

    def save(self, *args, **kwargs):
        # Every role may sign in to the web pages (live view, recordings player: filtered to the
        # user's cameras); only administrators see and change the data models there.
        self.is_staff = True
        self.is_superuser = self.role == Role.ADMIN
        # A new password, role or active flag ends every token of the account. Hooked here, not in
        # a service: the admin's forms and `manage.py changepassword` save the user too.
        bump = bool(self.pk) and self.access_changed()
        if bump:
            self.token_generation = models.F("token_generation") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "token_generation"}
        super().save(*args, **kwargs)
        if bump:
            self.refresh_from_db(fields=["token_generation"])
        self._loaded_access = {f: getattr(self, f) for f in self.ACCESS_FIELDS}

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        loaded = getattr(self, "_loaded_access", {})
        loaded.update({f: getattr(self, f) for f in self.ACCESS_FIELDS if fields is None or f in fields})
        self._loaded_access = loaded

    def access_changed(self) -> bool:
        """A new password, role or active flag since this row was loaded. `_password` is what
        set_password() leaves until the next save; Django's own rehash on login clears it first,
        so a hasher upgrade is not a password change."""
        if getattr(self, "_password", None) is not None:
            return True
        loaded = getattr(self, "_loaded_access", None)
        return loaded is not None and any(getattr(self, f) != v for f, v in loaded.items())

    def end_sessions(self) -> None:
        """End every token of this account now (logout everywhere)."""
        User.objects.filter(pk=self.pk).update(token_generation=models.F("token_generation") + 1)
        self.refresh_from_db(fields=["token_generation"])

    # The admin site's sessions end with the tokens (a logout everywhere, a role change), not only
    # on a password change as Django's own hash does.
    def get_session_auth_hash(self):
        return self.session_hash()

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self.session_hash(secret)

    def session_hash(self, secret: str | None = None) -> str:
        material = f"{self.password}:{self.token_generation}"
        return salted_hmac("lprnvr.accounts.session", material, secret=secret, algorithm="sha256").hexdigest()


class RevokedToken(models.Model):
    """A JWT (access or refresh) revoked by logout; rows are dropped once the token expires."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("revoked token")
        verbose_name_plural = _("revoked tokens")

    def __str__(self) -> str:
        return self.jti


class LoginFailureCounter(models.Model):
    """Login attempts that did not succeed, in the current window, for one key: a username from
    one address, or an address alone. Counted with conditional UPDATEs (accounts.throttling), so
    concurrent attempts are never lost, on PostgreSQL and SQLite alike."""

    key = models.CharField(max_length=255, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("login failure counter")
        verbose_name_plural = _("login failure counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
