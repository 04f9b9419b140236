"""The login budget (``AUTH_TOKEN_LOGIN_THROTTLE_RATE``) as a DRF throttle class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import BaseThrottle

from auth_token import throttling

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class LoginRateThrottle(BaseThrottle):
    """Refuse a login over the shared budget of ``auth_token.throttling`` (429 + ``Retry-After``).

    The budget is the client address's and, when the view has ``throttle_credentials(request)``,
    that of the username or device uuid it returns. It needs no ``REST_FRAMEWORK`` setting, and a
    refused attempt is a failed login (``user_login_failed``).
    """

    def allow_request(self, request: Request, view: APIView) -> bool:
        get_credentials = getattr(view, "throttle_credentials", None)
        credentials = get_credentials(request) if get_credentials is not None else {}
        self.seconds = throttling.check_attempt(request._request, credentials)
        return self.seconds is None

    def wait(self) -> int | None:
        return self.seconds
