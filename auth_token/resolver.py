"""From a request to a credential to a valid Token, or nothing. Never writes a response.

Finding the credential costs no query; looking it up costs one SELECT; anything invalid gives
``AnonymousToken`` (a database that fails raises, as any query would).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.contrib.auth import load_backend
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpRequest

from auth_token import cache as token_cache
from auth_token import keys, rules
from auth_token import lookup as token_lookup
from auth_token.conf import settings
from auth_token.models import COOKIE, HEADER, Token

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)


@dataclass(slots=True)  # not frozen: its __init__ would cost more on every request
class Credential:
    """What the request carries. ``raw`` is None when the value is not a well-formed token."""

    source: str  # HEADER or COOKIE
    raw: str | None = field(repr=False)
    legacy: bool = False  # a DRF authtoken key, matching imported tokens only

    def digests(self) -> list[str]:
        if self.raw is None:
            return []
        return [keys.legacy_digest(self.raw)] if self.legacy else keys.lookup_digests(self.raw)


@lru_cache(maxsize=16)  # called with a few setting values, on every request
def meta_key(header_name: str) -> str:
    return "HTTP_" + header_name.upper().replace("-", "_")


def get_credential(request: HttpRequest) -> Credential | None:
    """Return the request's credential, decided without a query.

    A header of our scheme is the only source, even when malformed; any other scheme is ignored
    as if absent (e.g. ``Basic`` from a password-protected staging proxy).
    """
    if settings.HEADER:
        value = request.META.get(meta_key(settings.HEADER_NAME), "")
        scheme, separator, rest = _split_scheme(value)
        scheme = scheme.lower()
        token_type = settings.HEADER_TOKEN_TYPE  # not a str: check E011, and no header is ours
        if scheme and isinstance(token_type, str) and scheme == token_type.lower():
            well_formed = separator == " " and keys.is_well_formed(rest)
            return Credential(HEADER, rest if well_formed else None)
        if scheme and scheme in {legacy.lower() for legacy in settings.LEGACY_HEADER_TOKEN_TYPES}:
            well_formed = separator == " " and keys.is_legacy_token(rest)
            return Credential(HEADER, rest if well_formed else None, legacy=True)
    if settings.COOKIE:
        value = request.COOKIES.get(settings.COOKIE_NAME)
        if value is not None:
            return Credential(COOKIE, value if keys.is_well_formed(value) else None)
    if _test_client_sessions:  # empty outside tests
        return test_client_credential(request.COOKIES.get(django_settings.SESSION_COOKIE_NAME))
    return None


# Django's test client logs in by calling login() on a bare HttpRequest, then sends only its
# session cookie. The login() bridge notes here which token each such session stands for: in this
# process's memory only, never stored. Outside tests it stays empty and costs one falsy check.
_test_client_sessions: dict[str, str] = {}
_TEST_CLIENT_SESSIONS_MAX = 10_000


def is_test_client_request(request: object) -> bool:
    """Return whether ``request`` is the bare one Django's test client passes to login()/logout()."""
    return type(request) is HttpRequest and request.method is None and hasattr(request, "session")


def remember_test_client_session(session_key: str, raw: str) -> None:
    if len(_test_client_sessions) >= _TEST_CLIENT_SESSIONS_MAX:
        del _test_client_sessions[next(iter(_test_client_sessions))]
    _test_client_sessions[session_key] = raw


def test_client_credential(session_key: str | None, *, forget: bool = False) -> Credential | None:
    """Return the credential of a test client's session (and forget it, at logout)."""
    raw = (_test_client_sessions.pop if forget else _test_client_sessions.get)(session_key or "", None)
    return None if raw is None else Credential(COOKIE, raw)


def _split_scheme(value: str) -> tuple[str, str, str]:
    """Split at the first space or tab among the first 64 characters."""
    head = value[:64]
    space, tab = head.find(" "), head.find("\t")
    index = min(space, tab) if space >= 0 and tab >= 0 else max(space, tab)
    if index < 0:
        return value, "", ""
    return value[:index], value[index], value[index + 1 :]


def lookup(credential: Credential | None) -> tuple[Token, AbstractBaseUser] | None:
    """Return the valid token for ``credential`` and the user the request acts as, or None.

    One SELECT for a well-formed credential, none with a warm cache.
    """
    if credential is None or credential.raw is None:
        return None

    def load() -> tuple[Token, bool] | None:
        token = _load(credential)
        return None if token is None else (token, effective_user(token) is not token.user)

    return _found(credential, token_cache.resolve(credential.digests(), load, _usable_for(credential)))


def was_issued(credential: Credential) -> bool:
    """Return whether a token of ours ever had this credential, valid or not (one query)."""
    return credential.raw is not None and Token.objects.filter(key__in=credential.digests()).exists()


def lookup_in_memory(credential: Credential) -> tuple[Token, AbstractBaseUser] | None:
    """Return what ``lookup`` would from this process's cache layer, or None; never does I/O."""
    if credential.raw is None:
        return None
    return _found(credential, token_cache.resolve_in_memory(credential.digests(), _usable_for(credential)))


def _usable_for(credential: Credential) -> Callable[[Token], bool]:
    def is_usable(token: Token) -> bool:
        return token.is_active and not token.is_expired and _is_usable(token, credential)

    return is_usable


def _found(
    credential: Credential, result: tuple[Token, bool] | None
) -> tuple[Token, AbstractBaseUser] | None:
    if result is None:
        return None
    token, acting_as_target = result
    token.source = credential.source
    return token, token.active_takeover.user if acting_as_target else token.user


def _load(credential: Credential) -> Token | None:
    token = token_lookup.fetch(credential.digests())
    if token is None or not _is_usable(token, credential):
        return None
    return token if _session_hash_accepted(token) else None


def _is_usable(token: Token, credential: Credential) -> bool:
    allowed = token.allowed_header if credential.source == HEADER else token.allowed_cookie
    return allowed and user_is_valid(token.user, token.backend)


def user_is_valid(user: AbstractBaseUser | None, backend_path: str) -> bool:
    """Return whether ``user`` may still be authenticated through ``backend_path``."""
    if user is None:
        return False
    can_authenticate = _can_authenticate.get(backend_path)
    if can_authenticate is None:
        can_authenticate = _can_authenticate[backend_path] = _can_authenticate_through(backend_path)
    return bool(can_authenticate(user))


def _can_authenticate_through(backend_path: str) -> Callable[[AbstractBaseUser], object]:
    if backend_path not in django_settings.AUTHENTICATION_BACKENDS:
        return _never
    return getattr(load_backend(backend_path), "user_can_authenticate", _is_active)


def _never(user: AbstractBaseUser) -> bool:
    return False


def _is_active(user: AbstractBaseUser) -> bool:
    return getattr(user, "is_active", True)


# Each backend's rule by path, worked out once (Django makes a backend per call; the request path
# would pay for each, and for reading AUTHENTICATION_BACKENDS).
_can_authenticate: dict[str, Callable[[AbstractBaseUser], object]] = {}


@receiver(setting_changed)
def _forget_backends(*, setting: str, **kwargs: object) -> None:
    if setting == "AUTHENTICATION_BACKENDS":
        _can_authenticate.clear()


def _session_hash_accepted(token: Token) -> bool:
    match = rules.session_hash_match(token.session_auth_hash, token.user)
    if match is rules.HashMatch.RETIRED_KEY:
        # Signed with a retired SECRET_KEY: move the token to the current one, as Django's get_user().
        current = token.user.get_session_auth_hash()
        try:
            Token.objects.filter(pk=token.pk, session_auth_hash=token.session_auth_hash).update(
                session_auth_hash=current
            )
        except DatabaseError:
            logger.exception("Could not update the session auth hash of token %s", token.public_id)
        token.session_auth_hash = current
    return match is not rules.HashMatch.NONE


def effective_user(token: Token) -> AbstractBaseUser:
    """Return the user a request acts as: the taken-over user while a takeover holds, else the owner.

    Uses only the columns the lookup returned; a takeover that no longer holds is ignored.
    """
    takeover = token.active_takeover
    if takeover is None:
        return token.user
    actor, target = token.user, takeover.user
    holds = (
        target is not None
        and getattr(actor, "is_active", True)
        and getattr(actor, "is_staff", False)
        and getattr(target, "is_active", True)
        and (getattr(actor, "is_superuser", False) or not getattr(target, "is_superuser", False))
        and rules.session_hash_matches(takeover.session_auth_hash, target)
    )
    return target if holds else actor
