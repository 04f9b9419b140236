"""What every service needs of the request it acts for: the takeover guard, the bridge marker
and the client's user agent."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from auth_token.exceptions import TakeoverActive
from auth_token.models import USER_AGENT_LENGTH

if TYPE_CHECKING:
    from django.http import HttpRequest

    from auth_token.models import AnonymousToken, Token
    from auth_token.state import RequestState


def refuse_during_takeover(request: HttpRequest | None) -> None:
    """Raise ``TakeoverActive`` when the request acts under a takeover (before anything is written)."""
    refuse_for_token(getattr(request, "token", None))


def refuse_for_token(token: Token | AnonymousToken | None) -> None:
    """See refuse_during_takeover(), for code that holds the request's token but not the request."""
    if getattr(token, "active_takeover_id", None) is not None:
        raise TakeoverActive


def in_service(state: RequestState | None) -> bool:
    """Return whether a service (or Django's login()/logout(), bridged) is already acting."""
    return state is not None and state.in_service


@contextmanager
def service_call(state: RequestState | None):
    """Mark the request as inside a service call, so the login()/logout() bridge stays out of it."""
    if state is None:
        yield
        return
    outer, state.in_service = state.in_service, True
    try:
        yield
    finally:
        state.in_service = outer


def clean_user_agent(request: HttpRequest | None, value: str = "") -> str:
    """Return ``value`` or else the request's user agent, without control characters, truncated."""
    if not value and request is not None:
        value = request.META.get("HTTP_USER_AGENT", "")
    return "".join(char for char in value if char.isprintable())[:USER_AGENT_LENGTH]
