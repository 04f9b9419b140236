from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auth_token.models import AnonymousToken

if TYPE_CHECKING:
    from django.http import HttpRequest


def token(request: HttpRequest) -> dict[str, Any]:
    """Expose ``request.token`` to templates; it stays lazy, so a page that never uses it costs nothing."""
    value = getattr(request, "token", None)
    return {"token": AnonymousToken() if value is None else value}
