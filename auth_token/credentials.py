"""From a request to the credential it carries, decided without the database.

A header of our scheme is the only source, even when malformed; otherwise the cookie. What is
not well formed gives a ``Credential`` whose ``raw`` is None, so no query is ever spent on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.http import HttpRequest

from auth_token import keys
from auth_token.conf import meta_key, settings
from auth_token.models import COOKIE, HEADER


@dataclass(slots=True)  # not frozen: its __init__ would cost more on every request
class Credential:
    """What the request carries. ``raw`` is None when the value is not a well-formed token."""

    source: str  # HEADER or COOKIE
    raw: str | None = field(repr=False)
    legacy: bool = False  # a DRF authtoken key, matching imported tokens only

    def digest(self) -> str:
        """The stored form of a well-formed credential (``raw`` is not None)."""
        return keys.legacy_digest(self.raw) if self.legacy else keys.digest(self.raw)


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


def foreign_scheme(request: HttpRequest) -> str | None:
    """Return the scheme of an ``Authorization`` header that is not ours (``Token``, ``Basic``),
    for telling a client which one is expected; None for ours, none, or one not fit to repeat."""
    if not settings.HEADER:
        return None
    scheme, _, _ = _split_scheme(request.META.get(meta_key(settings.HEADER_NAME), ""))
    if not _SCHEME.fullmatch(scheme):
        return None
    ours = {settings.HEADER_TOKEN_TYPE, *settings.LEGACY_HEADER_TOKEN_TYPES}
    return None if scheme.lower() in {str(name).lower() for name in ours} else scheme


_SCHEME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}")  # an RFC 9110 token, short


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
