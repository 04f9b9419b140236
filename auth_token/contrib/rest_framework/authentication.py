"""DRF authentication by our token, from the Bearer header or the cookie.

With ``TokenAuthenticationMiddleware`` installed the middleware's lazy lookup is reused (one SELECT
per request in all); without it the header or cookie is resolved here by the same resolver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

from auth_token import resolver
from auth_token import state as request_state
from auth_token.conf import settings
from auth_token.credentials import get_credential
from auth_token.models import COOKIE, Token
from auth_token.resolver import was_issued

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework.request import Request

# Set on the Django request when a credential of ours was present but invalid.
INVALID_CREDENTIAL_ATTRIBUTE = "_auth_token_invalid_credential"
INVALID_TOKEN = _("Invalid or expired token.")


class TokenAuthentication(BaseAuthentication):
    """Authenticate by our token; leave requests without a credential of ours to the next class.

    ``request.user`` is the user the request acts as (the user taken over during a takeover) and
    ``request.auth`` the ``Token``. A cookie credential is checked for CSRF on unsafe methods,
    since DRF views are exempt from ``CsrfViewMiddleware``; the header is not, as a browser never
    sends it on its own.
    """

    realm = "api"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:
        django_request = request._request
        state = request_state.get_state(django_request)
        if state is None:
            # No middleware: resolve the same way here, without attaching the state to the request.
            state = request_state.RequestState(get_credential(django_request), resolver)
            resolved_here = True
        else:
            resolved_here = False
        if state.credential is None:
            return None
        token = state.get_token()
        if not isinstance(token, Token):
            if state.credential.legacy and not was_issued(state.credential):
                # A DRF authtoken key that was not imported: DRF's own class may still know it.
                # One that was, and has ended, is refused here, before DRF's class can accept it.
                return None
            setattr(django_request, INVALID_CREDENTIAL_ATTRIBUTE, True)
            raise AuthenticationFailed(INVALID_TOKEN, code="invalid_token")
        if resolved_here:
            # Services read request.token (logout, renew, the takeover guard).
            request_state.act_as(django_request, token, state.user)
        if state.credential.source == COOKIE:
            self.enforce_csrf(request)
        return state.user, token  # resolved with the token

    def enforce_csrf(self, request: Request) -> None:
        """Refuse an unsafe request whose cookie token lacks a valid CSRF token (403)."""
        check = CSRFCheck(lambda _request: None)
        # Reads the CSRF cookie into request.META, where process_view looks for it.
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise PermissionDenied(_("CSRF Failed: %(reason)s") % {"reason": reason})

    def authenticate_header(self, request: Request) -> str:
        header = f'{settings.HEADER_TOKEN_TYPE} realm="{self.realm}"'
        if getattr(getattr(request, "_request", request), INVALID_CREDENTIAL_ATTRIBUTE, False):
            header += ', error="invalid_token"'
        return header


try:
    import drf_spectacular  # noqa: F401
except ImportError:  # the OpenAPI schema is optional
    pass
else:
    # Registers the schema extension, as drf-spectacular asks of third-party authentication classes.
    from auth_token.contrib.rest_framework import schema  # noqa: F401
