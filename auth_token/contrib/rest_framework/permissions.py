"""DRF permissions on a token's scopes (``TokenHasScope``, ``TokenHasReadWriteScope``) and its API
client (``AllowClients``, ``DenyClients``).

They read only what the request's lookup loaded: no query. The token is ``request.auth``, or the
middleware's when a DRF class such as ``SessionAuthentication`` took the user the middleware set
(``request_credential``), so a token's scopes hold whichever authentication classes a view lists.
An anonymous request is refused; one authenticated another way (DRF's authtoken, a Django session)
carries no scopes to narrow. Scopes only narrow: the view's own permission classes still apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from auth_token import rules
from auth_token.contrib.rest_framework.exceptions import InsufficientScope

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def request_credential(request: Request) -> object:
    """What narrows a DRF request: ``request.auth``, or, when a DRF class took the user the
    middleware set without a credential of its own (DRF's ``SessionAuthentication``, the default),
    the middleware's token. A token's scopes and client hold whichever class let it in."""
    if request.auth is not None:
        return request.auth
    return getattr(request._request, "token", None)


class TokenHasScope(BasePermission):
    """The token must hold every scope of the view's ``required_scopes`` (or what its
    ``get_required_scopes(request)`` returns); else 403 ``insufficient_scope``."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # never a way in on its own
        required = self.required_scopes(request, view)
        missing = rules.missing_scopes(request_credential(request), required)
        if missing:
            raise InsufficientScope(required, missing)
        return True

    def required_scopes(self, request: Request, view: Any) -> tuple[str, ...]:
        if hasattr(view, "get_required_scopes"):
            return tuple(view.get_required_scopes(request))
        return tuple(getattr(view, "required_scopes", ()))


class TokenHasReadWriteScope(TokenHasScope):
    """``required_scopes`` names resources (``["orders"]``): a safe method (GET, HEAD, OPTIONS)
    needs ``orders:read``, any other ``orders:write``."""

    def required_scopes(self, request: Request, view: Any) -> tuple[str, ...]:
        suffix = "read" if request.method in SAFE_METHODS else "write"
        return tuple(f"{name}:{suffix}" for name in super().required_scopes(request, view))


class AllowClients(BasePermission):
    """Only tokens of these API clients may call the view: ``AllowClients("web", "cli")`` in
    ``permission_classes`` (an instance stands for its class there). A token of no client is
    refused."""

    allow = True
    message = _("This API client may not call this endpoint.")

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def __call__(self) -> BasePermission:
        return self

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = rules.token_client(request_credential(request))
        return (client is not None and client.name in self.names) is self.allow


class DenyClients(AllowClients):
    """Tokens of these API clients may not call the view: ``DenyClients("kiosk")``; a token of no
    client (or a credential of another kind) may."""

    allow = False
