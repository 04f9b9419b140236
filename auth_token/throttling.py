"""One login budget for every password and device login: our views, the API, the admin and others.

``AUTH_TOKEN_LOGIN_THROTTLE_RATE`` (``"30/min"``) caps, per fixed window, every login attempt from
one client address and the failed attempts for one username (or device uuid). Each attempt is
counted once, from the signal its outcome sends: ``user_login_failed`` (Django's ``authenticate()``,
also when a backend refused) or ``user_logged_in`` (our ``login()`` and Django's). Every path checks
with ``retry_after()``: our views before they authenticate (429 + ``Retry-After``), and
the first backend inside ``authenticate()`` for views we do not own: ``ThrottledModelBackend``
in place of Django's ``ModelBackend``, or the ``LoginThrottleBackend`` guard before other backends.

Counters live in the token cache (``AUTH_TOKEN_CACHE``) or else Django's ``default`` cache, so
processes sharing that cache share the budget. A cache error lets the attempt through (logged):
a broken cache must not lock everybody out.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from auth_token.backends import normalize_device_uuid
from auth_token.client_ip import client_ip
from auth_token.conf import settings

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.core.cache.backends.base import BaseCache
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

GUARD_BACKEND = "auth_token.throttling.LoginThrottleBackend"
MODEL_BACKEND = "auth_token.throttling.ThrottledModelBackend"
PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}
RATE = re.compile(rf"([1-9][0-9]*)/({'|'.join(PERIODS)})")
# Requests that carry no valid client address share one budget rather than escaping it.
UNKNOWN_ADDRESS = "unknown"


def parse_rate(rate: object) -> tuple[int, int]:
    """Return ``(attempts, seconds)`` of a rate such as ``"30/min"``; raise ValueError otherwise."""
    match = RATE.fullmatch(rate) if isinstance(rate, str) else None
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as '30/min' (s, sec, m, min, h, hour, d, day).")
    return int(match[1]), PERIODS[match[2]]


def retry_after(request: HttpRequest | None, credentials: dict[str, Any]) -> int | None:
    """Return the whole seconds to wait when this login attempt is over budget, else None.

    Over budget: the client address has used up the rate in this window, or the username (device
    uuid) in ``credentials`` has as many failures. Only reads the cache; counting is done by the
    signal receivers below.
    """
    budget = _budget()
    if budget is None:
        return None
    limit, seconds = budget
    keys = [key for key in (_address_key(request, seconds), _subject_key(credentials, seconds)) if key]
    if not keys:
        return None
    try:
        counts = _cache().get_many(keys)
    except Exception:  # any cache failure: let the attempt through
        logger.warning("Login throttle: the cache failed; the attempt goes ahead", exc_info=True)
        return None
    if any(count >= limit for count in counts.values()):
        return _seconds_left(seconds)
    return None


def check_attempt(request: HttpRequest, credentials: dict[str, str]) -> int | None:
    """For our views, before they authenticate: ``retry_after()``, and a refusal is a failed login.

    ``credentials`` holds only what identifies the attempt (``username`` or ``device_uuid``), never
    a secret: it is sent as ``user_login_failed``'s ``credentials``, as Django's ``authenticate()``
    does when a backend refuses.
    """
    seconds = retry_after(request, credentials)
    if seconds is not None:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return seconds


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Count a failed attempt against its client address and its username (device uuid)."""
    _count(request, credentials)


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Count a successful login against its client address only; it resets nothing."""
    _count(request, {})


@sensitive_variables("credentials")
def refuse_over_budget(request: HttpRequest | None, credentials: dict[str, Any]) -> None:
    """Raise ``PermissionDenied`` when the attempt is over budget, from inside ``authenticate()``.

    Django's ``authenticate()`` then stops before the other backends, sends ``user_login_failed``
    and returns None, so the admin's login and third-party views show their usual invalid-login
    error.
    """
    if retry_after(request, credentials) is not None:
        raise PermissionDenied


class ThrottledModelBackend(ModelBackend):
    """Django's ``ModelBackend`` behind the login budget: list it first, in its place.

    One backend still, so Django's ``login(request, user)`` needs no ``backend=`` (a sign-up view),
    and every later backend is guarded too: over budget it refuses before any of them runs.
    """

    # **credentials, as ModelBackend's **kwargs: it runs for every login, whatever its credentials.
    @sensitive_variables("credentials")
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> AbstractBaseUser | None:
        refuse_over_budget(request, credentials)
        return super().authenticate(request, **credentials)

    @sensitive_variables("credentials")
    async def aauthenticate(self, request: HttpRequest | None, **credentials: Any) -> AbstractBaseUser | None:
        """See authenticate()."""
        await sync_to_async(refuse_over_budget)(request, credentials)
        return await super().aauthenticate(request, **credentials)


class LoginThrottleBackend:
    """A guard for sites whose first backend is not ours (LDAP, SSO): list it first.

    It never authenticates anyone; it has no ``get_user`` (Django's test client would pick it to
    load users) and no permission methods. Being a second backend, it makes Django's
    ``login(request, user)`` ask for ``backend=``; ``ThrottledModelBackend`` does not.
    """

    # **credentials on purpose: Django binds each backend's signature to the credentials, and this
    # one must run for every login, whatever it is made of.
    @sensitive_variables("credentials")
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        refuse_over_budget(request, credentials)

    async def aauthenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        """See authenticate()."""
        await sync_to_async(refuse_over_budget)(request, credentials)


def guards_logins(backend_path: str) -> bool:
    """Return whether the backend at ``backend_path`` refuses logins over the budget."""
    try:
        backend = import_string(backend_path)
    except ImportError:
        return False
    return isinstance(backend, type) and issubclass(backend, (ThrottledModelBackend, LoginThrottleBackend))


def _budget() -> tuple[int, int] | None:
    rate = settings.LOGIN_THROTTLE_RATE
    if rate is None:
        return None
    try:
        return parse_rate(rate)
    except ValueError as error:  # check auth_token.E010 reports it at start-up
        raise ImproperlyConfigured(f"AUTH_TOKEN_LOGIN_THROTTLE_RATE: {error}") from None


def _cache() -> BaseCache:
    return caches[settings.CACHE or "default"]


def _count(request: Any, credentials: dict[str, Any]) -> None:
    budget = _budget()
    if budget is None:
        return
    seconds = budget[1]
    cache = _cache()
    try:
        for key in (_address_key(request, seconds), _subject_key(credentials, seconds)):
            # add() then incr(): atomic on a shared cache; the key lives for one window.
            if key and not cache.add(key, 1, seconds):
                try:
                    cache.incr(key)
                except ValueError:  # expired between the two calls
                    cache.add(key, 1, seconds)
    except Exception:  # any cache failure: the attempt is not counted
        logger.warning("Login throttle: the cache failed; an attempt was not counted", exc_info=True)


def _address_key(request: Any, seconds: int) -> str | None:
    if request is None:  # a call from code (a command, a test), not from a client
        return None
    return _key("address", client_ip(request) or UNKNOWN_ADDRESS, seconds)


def _subject_key(credentials: dict[str, Any], seconds: int) -> str | None:
    """The key of the username, or of the device uuid for a device login, if the attempt names one."""
    device = credentials.get("device_uuid")
    if device is not None:
        return _key("device", normalize_device_uuid(str(device)), seconds) if str(device) else None
    for name in ("username", get_user_model().USERNAME_FIELD):
        value = credentials.get(name)
        if value is not None and str(value):
            # One budget for the spellings a backend may treat as one account.
            return _key("username", unicodedata.normalize("NFKC", str(value)).casefold(), seconds)
    return None


def _key(kind: str, value: str, seconds: int) -> str:
    # Fixed windows keyed by their start; the value hashed: no personal data or odd characters.
    window = int(timezone.now().timestamp()) // seconds * seconds
    digest = salted_hmac(f"auth_token.throttling.{kind}", value, algorithm="sha256").hexdigest()
    return f"auth_token:login:{seconds}:{window}:{kind}:{digest}"


def _seconds_left(seconds: int) -> int:
    now = timezone.now().timestamp()
    return max(1, math.ceil(seconds - now % seconds))
