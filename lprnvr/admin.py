"""The one admin mixin every ModelAdmin uses: what the admin site serves is what the API would.

Every role may sign in to the admin site (`is_staff`) for the Live view and the Player; only
administrators reach the model pages, their actions and their custom views (anybody else: a 403
page, and the index lists no model), except on a ModelAdmin with `open_to_every_role`: there every
role reads the rows `visible_to` gives it, and users (not viewers) change, delete and run the actions
on the rows `manageable_by` gives them, as the API lets them. The role is the permission here
(users hold no Django model permissions). Querysets, the choices of every ForeignKey / many-to-many
field and of the forms our custom views build are restricted through the models' `visible_to` /
`manageable_by`, and the services re-check role and camera scope as they do for the API.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from .visibility import OutOfScope, can_operate, is_admin


class RestrictedAdminMixin:
    """Apply before `admin.ModelAdmin` (or Django's UserAdmin)."""

    open_to_every_role = False  # True: pages for users (their cameras' rows) and viewers (read only)

    def _manageable(self, request, obj) -> bool:
        if obj is None:
            return True
        manager = type(obj)._default_manager
        return hasattr(manager, "manageable_by") and manager.manageable_by(request.user).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        if self.open_to_every_role and request.user.is_authenticated and not is_admin(request.user):
            return True
        return is_admin(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if self.open_to_every_role and request.user.is_authenticated and not is_admin(request.user):
            return True  # the rows are get_queryset's: visible_to
        return is_admin(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        if self.open_to_every_role and not is_admin(request.user):
            return can_operate(request.user)
        return is_admin(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        if self.open_to_every_role and not is_admin(request.user):
            return can_operate(request.user) and self._manageable(request, obj)
        return is_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if self.open_to_every_role and not is_admin(request.user):
            return can_operate(request.user) and self._manageable(request, obj)
        return is_admin(request.user) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.visible_to(request.user) if hasattr(qs, "visible_to") else qs.none()

    def _restrict_choices(self, db_field, request, kwargs) -> None:
        related = db_field.remote_field.model._default_manager
        if "queryset" not in kwargs and hasattr(related, "manageable_by"):
            kwargs["queryset"] = related.manageable_by(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._restrict_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._restrict_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def history_view(self, request, object_id, extra_context=None):
        # Django looks the row up first (a redirect for a missing one): the role comes first here.
        if not self.has_view_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        # An action posted by a role that has none (a viewer) is refused, not shown the list again.
        if request.method == "POST" and "action" in request.POST and not self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        allowed = can_operate(request.user) if self.open_to_every_role else is_admin(request.user)
        return super().get_actions(request) if allowed else {}

    def admin_only_view(self, view):
        """A custom admin view (import, download, ...): signed in (admin_view), administrator role
        (403 page otherwise), and an OutOfScope from a service shown as a message, not a 500."""

        @wraps(view)
        def inner(request, *args, **kwargs):
            if not is_admin(request.user):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except OutOfScope as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())

        return self.admin_site.admin_view(inner)


class RestrictedInlineMixin:
    """Inlines: rows and ForeignKey choices restricted as their parent page's are."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.visible_to(request.user) if hasattr(qs, "visible_to") else qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.remote_field.model._default_manager
        if "queryset" not in kwargs and hasattr(related, "manageable_by"):
            kwargs["queryset"] = related.manageable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AdminSite(admin.AdminSite):
    """The admin site, with the dashboard (lprnvr.dashboard) as its index: every role lands there and
    sees its own cameras' state; "View site" leads back to it."""

    site_url = "/admin/"
    site_header = _("lprnvr administration")
    site_title = _("lprnvr")
    index_title = _("Dashboard")
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        from .dashboard import dashboard

        context = {
            "dashboard": dashboard(request),
            "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
            **(extra_context or {}),
        }
        return super().index(request, context)

    def get_urls(self):
        own = [path("dashboard/panel/", self.admin_view(self.dashboard_panel), name="dashboard_panel")]
        return own + super().get_urls()

    def dashboard_panel(self, request):
        """The dashboard's panels alone, as HTML: what the index fetches every few seconds."""
        from .dashboard import dashboard

        context = {**self.each_context(request), "dashboard": dashboard(request)}
        return TemplateResponse(request, "admin/dashboard_panel.html", context)
