"""Throttling of the password and device logins per client address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import SimpleRateThrottle

from auth_token import services
from auth_token.conf import settings

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class LoginRateThrottle(SimpleRateThrottle):
    """``AUTH_TOKEN_LOGIN_THROTTLE_RATE`` (e.g. ``"30/min"``; None disables it) per client IP.

    The rate is read from our settings on each request, so it needs no ``REST_FRAMEWORK`` setting
    and ``override_settings`` works. Password and device logins share one budget per address.
    """

    scope = "auth_token_login"

    def get_rate(self) -> str | None:
        return settings.LOGIN_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        # The address as AUTH_TOKEN_CLIENT_IP trusts it, not DRF's X-Forwarded-For guess. Clients
        # without a valid address share one bucket rather than escaping the limit.
        ident = services.client_ip(request._request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}
