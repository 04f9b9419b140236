"""Test clients whose ``login()`` / ``force_login()`` make token sessions without Django's sessions.

Django's own client works too, through its session (see docs/reference/testing.rst); these need
no session app and return the token. The pytest fixtures are in ``auth_token.pytest_plugin``.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate
from django.test import client

from auth_token import keys, services
from auth_token.backends import default_backend
from auth_token.conf import settings
from auth_token.models import Token
from auth_token.reasons import RevokeReason


class TokenClientMixin:
    def force_login(self, user, backend: str | None = None, **options: Any) -> Token:
        """Log ``user`` in with a new cookie token; return the token."""
        backend = backend or getattr(user, "backend", None) or default_backend()
        token, raw = services.login(None, user, backend=backend, **options)
        self.cookies[settings.COOKIE_NAME] = raw
        return token

    def login(self, **credentials: Any) -> bool:
        user = authenticate(**credentials)
        if user is None:
            return False
        self.force_login(user, backend=user.backend)
        return True

    def logout(self) -> None:
        morsel = self.cookies.get(settings.COOKIE_NAME)
        if morsel is not None and keys.is_well_formed(morsel.value):
            for token in Token.objects.filter(key=keys.digest(morsel.value), is_active=True):
                services.revoke(token, reason=RevokeReason.LOGOUT)
        self.cookies = SimpleCookie()


class Client(TokenClientMixin, client.Client):
    pass


class AsyncClient(TokenClientMixin, client.AsyncClient):
    async def aforce_login(self, user, backend: str | None = None, **options: Any) -> Token:
        return await sync_to_async(self.force_login)(user, backend, **options)

    async def alogin(self, **credentials: Any) -> bool:
        return await sync_to_async(self.login)(**credentials)

    async def alogout(self) -> None:
        await sync_to_async(self.logout)()


def bearer_client(user, **options: Any) -> Client:
    """Return a client that sends a new header-only token of ``user`` as ``Authorization: Bearer``."""
    _, raw = services.login(
        None,
        user,
        backend=default_backend(),
        allowed_cookie=False,
        **options,
    )
    return Client(headers={settings.HEADER_NAME: f"{settings.HEADER_TOKEN_TYPE} {raw}"})
