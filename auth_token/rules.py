"""Rules that several parts of the library apply, each defined once here.

No write; only the full takeover rule may query (a user's permissions). The callers decide what
to do with an answer (refuse, end, ignore, or move a row to the current key). The reason
constants a rule's caller records live in ``auth_token.reasons``, which the models need too.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.contrib.auth import load_backend
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from auth_token.conf import settings
from auth_token.models import COOKIE, HEADER, Token, TokenKind
from auth_token.reasons import TakeoverEndReason
from auth_token.scopes import EVERY_SCOPE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

    from auth_token.models import Client, UserTokenTakeover

TAKEOVER_PERMISSION = "auth_token.takeover_user"


# Session auth hashes ------------------------------------------------------------------------


class HashMatch(enum.Enum):
    """How a stored session auth hash relates to its user's password and the site's keys."""

    CURRENT = "current"  # made with the current password and SECRET_KEY
    RETIRED_KEY = "retired_key"  # the current password, but one of SECRET_KEY_FALLBACKS
    NONE = "none"  # another password (or garbage): what it stood for has ended


def session_hash_of(user: AbstractBaseUser) -> str:
    """What a new token, device key or takeover stores of ``user``'s session auth hash (nothing
    for a user model without one)."""
    return user.get_session_auth_hash() if hasattr(user, "get_session_auth_hash") else ""


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


# Token validity -----------------------------------------------------------------------------


# Browsers keep a Secure cookie sent over plain http:// from loopback hosts only; Django's test
# client keeps every cookie, for its host "testserver".
COOKIE_KEEPING_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")


def secure_cookie_dropped(request: HttpRequest) -> bool:
    """Whether the browser would drop our token cookie: it is ``Secure`` and the request came over
    plain http:// to a host that is not a loopback one. A login would then seem to do nothing."""
    if not settings.COOKIE or not settings.COOKIE_SECURE or request.is_secure():
        return False
    host = request.get_host()
    hostname = host[: host.index("]") + 1] if host.startswith("[") else host.partition(":")[0]
    hostname = hostname.lower()
    return not (
        hostname in COOKIE_KEEPING_HOSTS or hostname.endswith(".localhost") or hostname.startswith("127.")
    )


def token_is_live(token: Token) -> bool:
    """Whether ``token`` is neither ended nor expired (the columns alone)."""
    return token.is_active and not token.is_expired


def token_accepts(token: Token, source: str) -> bool:
    """Whether ``token`` may be presented from ``source`` (HEADER or COOKIE) by its user now.

    Its user must still be allowed through the backend that logged them in, as Django's
    ``get_user()`` requires, and its API client (if any) still active and allowing ``source``; the
    session hash is checked apart (``session_hash_match``).
    """
    allowed = token.allowed_header if source == HEADER else token.allowed_cookie
    if token.client_id is not None:
        client = token.client  # loaded by the lookup: no query
        allowed = (
            allowed
            and client.is_active
            and (client.allow_header if source == HEADER else client.allow_cookie)
        )
    return allowed and user_can_authenticate(token.user, token.backend)


def renews_by_use(token: Token) -> bool:
    """Whether use slides ``token``'s expiry: every token but a personal access token, whose
    expiry is the one its owner chose."""
    return token.kind != TokenKind.PERSONAL


def may_create_personal_token(credential: object, source: str | None) -> bool:
    """Whether the request's ``credential`` may mint a personal access token: a browser session
    (the cookie), or a token that holds ``tokens:write``."""
    return isinstance(credential, Token) and (
        source == COOKIE or not missing_scopes(credential, ["tokens:write"])
    )


def missing_scopes(credential: object, required: Iterable[str]) -> list[str]:
    """The scopes of ``required`` that the request's ``credential`` lacks, for a request already
    known to be authenticated. Only our ``Token`` carries scopes (``"*"``: every one); a credential
    of another kind (a DRF authtoken key, a Django session) has none to narrow what its user may
    do. Scopes only narrow: the view's own permissions still apply."""
    if not isinstance(credential, Token):
        return []
    held = credential.scopes
    if EVERY_SCOPE in held:
        return []
    return [scope for scope in required if scope not in held]


def token_client(credential: object) -> Client | None:
    """The API client of the request's ``credential`` (loaded by the lookup), or None."""
    return credential.client if isinstance(credential, Token) else None


def user_can_authenticate(user: AbstractBaseUser | None, backend_path: str) -> bool:
    """Whether ``user`` may still be authenticated through ``backend_path`` (no query for
    Django's backends): the backend must be configured and its ``user_can_authenticate`` agree."""
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


# Takeovers ----------------------------------------------------------------------------------


def takeover_refusal(actor: AbstractBaseUser, target: AbstractBaseUser) -> str | None:
    """Why ``actor`` may not take over ``target`` (None: allowed), by the full rule.

    The fixed rules come first; ``TAKEOVER_PERMISSION`` replaces the rest, which by default is
    ``default_takeover_permission``. May query the users' permissions.
    """
    refused = _fixed_refusal(actor, target)
    if refused:
        return refused
    rule = settings.TAKEOVER_PERMISSION
    if rule:
        check = import_string(rule) if isinstance(rule, str) else rule
        allowed = check(actor=actor, target=target)
    else:
        allowed = actor.has_perm(TAKEOVER_PERMISSION)
        if allowed and lends_privileges(actor=actor, target=target):
            return _("This user has permissions that you do not have.")
    if not allowed:
        return _("You do not have permission to take over this user.")
    return None


def _fixed_refusal(actor: AbstractBaseUser, target: AbstractBaseUser) -> str | None:
    """The rules no setting replaces, from the users' columns alone (no query)."""
    if actor.pk == target.pk:
        return _("You cannot take over yourself.")
    if not (getattr(actor, "is_active", True) and getattr(actor, "is_staff", False)):
        return _("Only active staff can take over users.")
    if not getattr(target, "is_active", True):
        return _("An inactive user cannot be taken over.")
    if getattr(target, "is_superuser", False) and not getattr(actor, "is_superuser", False):
        return _("Only a superuser can take over a superuser.")
    return None


def default_takeover_permission(*, actor: AbstractBaseUser, target: AbstractBaseUser) -> bool:
    """Staff with the ``auth_token.takeover_user`` permission, over users with no more rights.

    Acting as a user who holds a permission or flag the actor lacks would lend it to the actor
    (and Django's admin history would blame the target).
    """
    return actor.has_perm(TAKEOVER_PERMISSION) and not lends_privileges(actor=actor, target=target)


def lends_privileges(*, actor: AbstractBaseUser, target: AbstractBaseUser) -> bool:
    """Return whether ``target`` holds a flag or a permission (direct, by group or by backend) that
    ``actor`` lacks."""
    if getattr(actor, "is_superuser", False):
        return False  # an active superuser holds every permission
    for flag in ("is_staff", "is_superuser"):
        if getattr(target, flag, False) and not getattr(actor, flag, False):
            return True
    if not hasattr(target, "get_all_permissions"):
        return False
    return not target.get_all_permissions() <= actor.get_all_permissions()


def takeover_holds(takeover: UserTokenTakeover, actor: AbstractBaseUser) -> bool:
    """Whether ``takeover`` by ``actor`` still holds for a request, from the columns the token
    lookup returns (no query). Where it does not, the request acts as ``actor``."""
    return takeover_end_reason(takeover, actor, full=False) is None


def takeover_end_reason(
    takeover: UserTokenTakeover, actor: AbstractBaseUser, *, full: bool = True
) -> TakeoverEndReason | None:
    """Why ``takeover`` by ``actor`` must end now (None: it holds).

    The taken-over user must still exist, be active and keep the password the takeover began
    with; then the fixed rules, and with ``full`` the permission rule (``takeover_refusal``, which
    may query: run it on renewal and when rights change, not on every request).
    """
    target = takeover.user
    if (
        target is None
        or not getattr(target, "is_active", True)
        or not session_hash_matches(takeover.session_auth_hash, target)
    ):
        return TakeoverEndReason.TARGET_CHANGED
    refused = takeover_refusal(actor, target) if full else _fixed_refusal(actor, target)
    return TakeoverEndReason.PERMISSION if refused else None
