from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.functional import SimpleLazyObject

from auth_token.models import AnonymousToken

if TYPE_CHECKING:
    from django.http import HttpRequest


def token(request: HttpRequest) -> dict[str, Any]:
    """Expose ``token`` and ``takeover`` (the active takeover, for a banner) to templates.

    Both stay lazy: a page that uses neither costs no query.
    """
    value = getattr(request, "token", None)
    value = AnonymousToken() if value is None else value
    return {"token": value, "takeover": SimpleLazyObject(lambda: value.active_takeover)}
