"""DRF throttles: the login budget (``AUTH_TOKEN_LOGIN_THROTTLE_RATE``) and each API client's rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from auth_token import rules, throttling
from auth_token.contrib.rest_framework.permissions import request_credential

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


class ClientRateThrottle(SimpleRateThrottle):
    """Each user of an API client gets the client's ``throttle_rate`` (``"100/hour"``), counted in
    Django's default cache. Tokens of no client, or of a client without a rate, are not throttled."""

    cache_format = "auth_token:client_throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> None:
        return None  # per request, from the token's client

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.client = rules.token_client(request_credential(request))
        if self.client is None or not self.client.throttle_rate:
            return True
        self.rate = self.client.throttle_rate
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.client.pk, "ident": request.user.pk}
