"""From a credential to a valid Token and the user the request acts as, or nothing.

Looking a credential up costs one SELECT, none with a warm cache; anything invalid gives None
(a database that fails raises, as any query would). Finding the credential is
``auth_token.credentials``'s; what makes a token valid is ``auth_token.rules``'.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import DatabaseError

from auth_token import cache as token_cache
from auth_token import lookup as token_lookup
from auth_token import rules
from auth_token.models import Token

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.base_user import AbstractBaseUser

    from auth_token.credentials import Credential

logger = logging.getLogger(__name__)


def lookup(credential: Credential | None) -> tuple[Token, AbstractBaseUser] | None:
    """Return the valid token for ``credential`` and the user the request acts as, or None.

    One SELECT for a well-formed credential, none with a warm cache.
    """
    if credential is None or credential.raw is None:
        return None

    def load() -> tuple[Token, bool] | None:
        token = _load(credential)
        return None if token is None else (token, effective_user(token) is not token.user)

    return _found(credential, token_cache.resolve(credential.digest(), load, _usable_for(credential)))


def was_issued(credential: Credential) -> bool:
    """Return whether a token of ours ever had this credential, valid or not (one query)."""
    return credential.raw is not None and Token.objects.filter(key=credential.digest()).exists()


def lookup_in_memory(credential: Credential) -> tuple[Token, AbstractBaseUser] | None:
    """Return what ``lookup`` would from this process's cache layer, or None; never does I/O."""
    if credential.raw is None:
        return None
    return _found(credential, token_cache.resolve_in_memory(credential.digest(), _usable_for(credential)))


def _usable_for(credential: Credential) -> Callable[[Token], bool]:
    def is_usable(token: Token) -> bool:
        return rules.token_is_live(token) and rules.token_accepts(token, credential.source)

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
    token = token_lookup.fetch(credential.digest())
    if token is None or not rules.token_accepts(token, credential.source):
        return None
    return token if _session_hash_accepted(token) else None


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
    if takeover is not None and rules.takeover_holds(takeover, token.user):
        return takeover.user
    return token.user
