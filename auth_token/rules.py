"""Rules that several parts of the library apply, each defined once here.

Pure functions of their arguments: no query, no write. The callers decide what to do with the
answer (refuse, end, or move a row to the current key).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


class HashMatch(enum.Enum):
    """How a stored session auth hash relates to its user's password and the site's keys."""

    CURRENT = "current"  # made with the current password and SECRET_KEY
    RETIRED_KEY = "retired_key"  # the current password, but one of SECRET_KEY_FALLBACKS
    NONE = "none"  # another password (or garbage): what it stood for has ended


def session_hash_match(stored: str, user: AbstractBaseUser) -> HashMatch:
    """Whether ``stored`` is still ``user``'s session auth hash, as Django's ``get_user()`` decides.

    A user model without session hashes always matches.
    """
    if not hasattr(user, "get_session_auth_hash"):
        return HashMatch.CURRENT
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return HashMatch.CURRENT
    fallbacks = getattr(user, "get_session_auth_fallback_hash", lambda: ())()
    if any(constant_time_compare(stored, fallback) for fallback in fallbacks):
        return HashMatch.RETIRED_KEY
    return HashMatch.NONE


def session_hash_matches(stored: str, user: AbstractBaseUser) -> bool:
    """Whether ``stored`` is ``user``'s session auth hash under SECRET_KEY or a fallback."""
    return session_hash_match(stored, user) is not HashMatch.NONE
