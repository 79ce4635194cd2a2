"""The admin site's login form, behind the same throttle as the API login and HTTP Digest."""

from __future__ import annotations

import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lprnvr.api import client_address

from . import services
from .throttling import LoginThrottled


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": _("Too many failed logins from your address. Try again in %(wait)s."),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.authenticate_throttled(
                    username=username, password=password, address=client_address(self.request), request=self.request
                )
            except LoginThrottled as exc:
                minutes = math.ceil(exc.retry_after / 60)
                wait = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
                raise ValidationError(
                    self.error_messages["throttled"], code="throttled", params={"wait": wait}
                ) from exc
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
