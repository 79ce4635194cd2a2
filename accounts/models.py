from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.utils import timezone
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

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

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
        super().save(*args, **kwargs)


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
