"""HTTP Digest authentication (RFC 7616, MD5, qop=auth) for the legacy plate endpoints, as
`curl --digest` and `requests.auth.HTTPDigestAuth` send it, checked against our own users: only
accounts with `legacy_digest` on, behind the login throttle, and each nonce's `nc` counting up."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.throttling import LoginThrottled, login_succeeded, start_login_attempt
from lprnvr.api import client_address

from .. import auth


class DigestAuthentication(BaseAuthentication):
    def authenticate(self, request):
        params = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if params is None:
            return None
        missing = [
            k for k in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce") if not params.get(k)
        ]
        if missing:
            raise exceptions.AuthenticationFailed(
                _("Digest authorization lacks %(keys)s.") % {"keys": ", ".join(missing)}
            )
        if params["qop"] != "auth":
            raise exceptions.AuthenticationFailed(_("Only qop=auth is supported."))
        if not auth.NC.match(params["nc"]):
            raise exceptions.AuthenticationFailed(_("Digest nc must be 8 hexadecimal digits."))
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
            start_login_attempt(username, address)
        except LoginThrottled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=_("Too many failed logins.")) from exc
        user = (
            get_user_model()
            .objects.filter(username=username, is_active=True)
            .select_related("digest_credential")
            .first()
        )
        # None for an account without legacy_digest: the same 401 as a wrong password.
        ha1 = auth.stored_ha1(user) if user is not None else None
        expected = auth.expected_response(params, ha1 or "0" * 32, request.method)
        if ha1 is None or not hmac.compare_digest(expected, params["response"]):
            raise exceptions.AuthenticationFailed(_("Invalid username or password."))
        login_succeeded(username, address)
        if not auth.claim_nonce_count(params["nonce"], params["nc"]):
            # A replayed header (or a client that does not count nc up): a fresh nonce, marked
            # stale since the credentials themselves were right.
            request._request._digest_stale = True
            raise exceptions.AuthenticationFailed(_("Digest nonce count already used; retry with a fresh nonce."))
        return user, None

    def authenticate_header(self, request):
        return auth.challenge(stale=getattr(request._request, "_digest_stale", False))
