"""HTTP Digest authentication (RFC 7616, MD5, qop=auth) for the legacy plate endpoints, as
`curl --digest` and `requests.auth.HTTPDigestAuth` send it, checked against our own users."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts import services as account_services
from lprnvr.api import client_address

from .. import auth


class DigestAuthentication(BaseAuthentication):
    def authenticate(self, request):
        params = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if params is None:
            return None
        missing = [k for k in ("username", "realm", "nonce", "uri", "response") if not params.get(k)]
        if missing:
            raise exceptions.AuthenticationFailed(
                _("Digest authorization lacks %(keys)s.") % {"keys": ", ".join(missing)}
            )
        if params.get("qop") not in (None, "", "auth"):
            raise exceptions.AuthenticationFailed(_("Only qop=auth is supported."))
        if params["realm"] != settings.PLATES_DIGEST_REALM:
            raise exceptions.AuthenticationFailed(_("Wrong digest realm."))
        state = auth.nonce_state(params["nonce"])
        if state != "ok":
            request._request._digest_stale = state == "stale"
            raise exceptions.AuthenticationFailed(_("Digest nonce is stale or invalid; retry with a fresh one."))
        if params["uri"] not in (request._request.get_full_path(), request._request.path):
            raise exceptions.AuthenticationFailed(_("Digest uri does not match the request."))
        username, address = params["username"], client_address(request)
        try:
            account_services.check_login_throttle(username, address)
        except account_services.LoginThrottled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=_("Too many failed logins.")) from exc
        user = (
            get_user_model()
            .objects.filter(username=username, is_active=True)
            .select_related("digest_credential")
            .first()
        )
        ha1 = auth.stored_ha1(user) if user is not None else None
        expected = auth.expected_response(params, ha1 or "0" * 32, request.method)
        if ha1 is None or not hmac.compare_digest(expected, params["response"]):
            account_services.record_login_failure(username, address)
            raise exceptions.AuthenticationFailed(_("Invalid username or password."))
        return user, None

    def authenticate_header(self, request):
        return auth.challenge(stale=getattr(request._request, "_digest_stale", False))
