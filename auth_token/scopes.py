"""Scopes: what a token may be used for, beyond what its user may do.

A token holds a list of scope strings (``Token.scopes``). ``["*"]``, the default, stands for every
declared scope; an empty list for none. The library declares the scopes of its own API
(``LIBRARY_SCOPES``); a project adds its own in ``AUTH_TOKEN_SCOPES`` (scope -> description).
Scopes only narrow: a view's own permissions still apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from auth_token.conf import settings

EVERY_SCOPE = "*"

LIBRARY_SCOPES = {
    "sessions:read": _("See your sessions and the current token (api/me/, api/sessions/)."),
    "sessions:write": _("Sign out your other sessions (DELETE api/sessions/<id>/, api/logout-all/)."),
    "devices:read": _("See your registered devices (api/devices/)."),
    "devices:write": _("Register and remove devices (POST api/devices/, DELETE api/devices/<id>/)."),
    "tokens:write": _("Create personal access tokens."),
}


class UnknownScope(ValueError):
    """A token was asked for a scope that is not declared, or one beyond its cap."""


# What a refusal names as the cap: an API client's allowed scopes, or the scopes of the token
# that creates a personal access token.
CLIENT_CAP = _("Not allowed for this client: %(scopes)s.")
CREATOR_CAP = _("The token creating this one does not hold: %(scopes)s.")


def declared() -> dict[str, str]:
    """Every declared scope with its description: the library's, then the project's."""
    return {**LIBRARY_SCOPES, **(settings.SCOPES or {})}


def clean(
    requested: Iterable[str] | None, within: Iterable[str] | None = None, *, cap: str = CLIENT_CAP
) -> list[str]:
    """The scopes to store for a new token: the requested ones, sorted, each declared; ``["*"]``
    for None. ``within`` (None: every one) caps them: ``"*"`` then means all of ``within``. Raise
    ``UnknownScope`` for an undeclared scope or one outside ``within``, said with ``cap``."""
    wanted = [EVERY_SCOPE] if requested is None else sorted(set(requested))
    if EVERY_SCOPE in wanted:
        if len(wanted) > 1:
            raise UnknownScope(_('"*" stands for every scope and comes alone.'))
        return wanted if within is None else clean(within, cap=cap)
    known = declared()
    unknown = [scope for scope in wanted if not isinstance(scope, str) or scope not in known]
    if unknown:
        raise UnknownScope(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(map(str, unknown))})
    refused = [] if within is None else outside(wanted, within)
    if refused:
        raise UnknownScope(cap % {"scopes": ", ".join(refused)})
    return wanted


def outside(held: Iterable[str], cap: Iterable[str]) -> list[str]:
    """The scopes of ``held`` that ``cap`` does not allow (``"*"`` in ``cap``: none; ``"*"`` in
    ``held`` is outside any narrower cap)."""
    cap = set(cap)
    if EVERY_SCOPE in cap:
        return []
    return [scope for scope in held if scope not in cap]


def refusal(missing: Iterable[str]) -> str:
    """The 403's message for a token that lacks ``missing``."""
    return str(_("This token lacks the scope: %(scopes)s.")) % {"scopes": ", ".join(missing)}


def challenge(required: Iterable[str]) -> str:
    """``WWW-Authenticate`` of a 403 for a missing scope, as RFC 6750 (3.1) writes it."""
    return f'{settings.HEADER_TOKEN_TYPE} error="insufficient_scope", scope="{" ".join(required)}"'
