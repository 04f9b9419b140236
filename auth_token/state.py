"""A request's auth state: what ``request.token`` and ``request.user`` stand for.

The middleware starts it (``start``); services change the request's token only through
``act_as``, ``issue`` and ``end``, which keep ``request.token``, ``request.user`` and the state in
step. Nothing else writes them. The lookup is passed in, so this module needs no resolver.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import SynchronousOnlyOperation
from django.utils.functional import SimpleLazyObject

from auth_token.models import COOKIE, AnonymousToken

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

    from auth_token.credentials import Credential
    from auth_token.models import Token

_ATTRIBUTE = "_auth_token_state"


class Lookups(Protocol):
    """How a credential becomes a token and the user the request acts as (``auth_token.resolver``)."""

    def lookup(self, credential: Credential | None) -> tuple[Token, AbstractBaseUser] | None: ...

    def lookup_in_memory(self, credential: Credential) -> tuple[Token, AbstractBaseUser] | None: ...


class RequestState:
    """The lazy auth state of one request, behind ``request.token`` and ``request.user``."""

    # Class-level defaults: a request that never looks at its token pays for none of them.
    resolved = False
    token: Token | AnonymousToken | None = None  # set once resolved
    user: AbstractBaseUser | AnonymousUser | None = None
    # Set by issue(): a token minted in this request and its raw value, for the cookie.
    issued: tuple[Token, str] | None = None
    logged_out = False
    renewed = False
    # True while a service acts: the login()/logout() bridge then stays out.
    in_service = False

    def __init__(self, credential: Credential | None, lookups: Lookups) -> None:
        self.credential = credential
        self.lookups = lookups

    def _store(self, result: tuple[Token, AbstractBaseUser] | None) -> None:
        # Only a finished lookup is cached: one that raised is retried on the next access.
        if result is None:
            self.token, self.user = AnonymousToken(), AnonymousUser()
        else:
            self.token, self.user = result
        self.resolved = True

    def resolve(self) -> None:
        if not self.resolved:
            self._store(self.lookups.lookup(self.credential))

    async def aresolve(self) -> None:
        if not self.resolved:
            if self.credential is None or self.credential.raw is None:
                self._store(None)
                return
            try:  # a warm local cache answers without a thread
                found = self.lookups.lookup_in_memory(self.credential)
            except SynchronousOnlyOperation:  # e.g. a backend whose user_can_authenticate queries
                found = None
            self._store(found or await sync_to_async(self.lookups.lookup)(self.credential))

    def get_token(self) -> Token | AnonymousToken:
        self.resolve()
        return self.token

    def get_user(self) -> AbstractBaseUser | AnonymousUser:
        self.resolve()
        return self.user

    async def aget_token(self) -> Token | AnonymousToken:
        await self.aresolve()
        return self.token

    async def aget_user(self) -> AbstractBaseUser | AnonymousUser:
        await self.aresolve()
        return self.user


# The state of the request being handled, for code that has no request at hand (a model signal
# receiver guarding a password save during a takeover). Set by the middleware around the view.
current_state: ContextVar[RequestState | None] = ContextVar("auth_token_current_state", default=None)


def get_state(request: HttpRequest | None) -> RequestState | None:
    return getattr(request, _ATTRIBUTE, None) if request is not None else None


def acting_as(request: HttpRequest | None) -> AbstractBaseUser | None:
    """The user ``request`` acts as under a takeover that holds (for a banner), else None."""
    token = getattr(request, "token", None)
    if getattr(token, "active_takeover_id", None) is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk == token.user_id:  # the takeover no longer holds
        return None
    return user


def cookie_rejected(request: HttpRequest | None) -> bool:
    """Whether ``request`` came with a token cookie that no longer signs anyone in (it expired or
    was revoked elsewhere): the middleware deletes that cookie from this response."""
    state = get_state(request)
    if state is None or state.logged_out or state.issued is not None:
        return False
    credential = state.credential
    # A malformed or empty cookie is garbage, not a session that ended.
    if credential is None or credential.source != COOKIE or credential.raw is None:
        return False
    state.resolve()
    return not state.token.is_authenticated


def start(request: HttpRequest, credential: Credential | None, lookups: Lookups) -> RequestState:
    """Give ``request`` its state and the lazy ``request.token`` / ``request.user`` (and async twins)."""
    state = RequestState(credential, lookups)
    setattr(request, _ATTRIBUTE, state)
    request.token = SimpleLazyObject(state.get_token)
    request.user = SimpleLazyObject(state.get_user)
    request.atoken = state.aget_token
    request.auser = state.aget_user
    return state


def act_as(request: HttpRequest | None, token: Token, user: AbstractBaseUser) -> RequestState | None:
    """From now on ``request`` carries ``token`` and acts as ``user`` (a takeover starts or ends).

    Return the request's state, if the middleware gave it one.
    """
    if request is None:
        return None
    request.token, request.user = token, user
    state = get_state(request)
    if state is not None:
        state._store((token, user))
    return state


def issue(request: HttpRequest | None, token: Token, user: AbstractBaseUser, raw: str | None) -> None:
    """``token`` was minted for ``request``: it carries it from now on; with ``raw``, the middleware
    sets the cookie (when the token allows one)."""
    state = act_as(request, token, user)
    if state is not None:
        state.issued = None if raw is None else (token, raw)
        state.logged_out = False


def end(request: HttpRequest | None) -> None:
    """``request`` no longer carries a token; the middleware deletes the cookie."""
    if request is None:
        return
    state = get_state(request)
    if state is None:
        request.token, request.user = AnonymousToken(), AnonymousUser()
        return
    state._store(None)
    state.issued = None
    state.logged_out = True
    request.token, request.user = state.token, state.user
