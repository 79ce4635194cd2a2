from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from lprnvr.admin import RestrictedAdminMixin

from .forms import ThrottledAdminAuthenticationForm
from .models import User


@admin.register(User)
class UserAdmin(RestrictedAdminMixin, BaseUserAdmin):
    list_display = ["username", "role", "is_active", "camera_count", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    filter_horizontal = ["cameras"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Access"), {"fields": ["role", "is_active", "legacy_digest", "cameras"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "legacy_digest", "password1", "password2"]}),
    ]

    @admin.display(description=_("cameras"))
    def camera_count(self, user: User) -> int:
        return user.cameras.count()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cameras")


# Roles replace Django's groups here; hiding them keeps one way to grant access.
admin.site.unregister(Group)
admin.site.login_form = ThrottledAdminAuthenticationForm
# The site's titles live on lprnvr.admin.AdminSite.
