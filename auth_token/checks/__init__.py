"""System checks for auth_token settings.

Ids: E001 bad KEY_PREFIX; E002 both Django's AuthenticationMiddleware and ours; E003 HEADER_NAME
with an underscore; E004 ``__Host-`` cookie name with a domain, a path other than ``/`` or no
Secure flag; E005 a CLIENT_IP that cannot work (django-ipware's old dicts among them); E006 bad
COOKIE_SAMESITE; E007 an age that is not a positive int; E008 a CACHE alias missing from CACHES;
E009 LOCAL_CACHE without a Redis CACHE; W001 cookie auth without CsrfViewMiddleware; W002 a
removed setting; W003 an unknown ``AUTH_TOKEN_*`` setting; W004 our middleware missing; W005 a
per-process CACHE; W006 TAKEOVER_USER_ADMIN on, but the user model's admin on ``admin.site`` is
not a ``TakeoverUserAdminMixin`` (registered after auth_token's admin patched it, or not at all).
Deploy only (``check --deploy``), with cookie auth on: W007 COOKIE_SECURE off; W008
COOKIE_HTTPONLY off; W009 COOKIE_SAMESITE "None" without COOKIE_SECURE.
Login throttle: E010 a LOGIN_THROTTLE_RATE that is not a rate; W010 a rate set, but the first of
AUTHENTICATION_BACKENDS is neither ``ThrottledModelBackend`` nor ``LoginThrottleBackend``.
E011 a HEADER_TOKEN_TYPE that is not a scheme (the original library's None, a bare token);
E012 the original library's ``DeviceBackend`` in AUTHENTICATION_BACKENDS; E013 the device API
routed without ``DeviceKeyBackend`` in AUTHENTICATION_BACKENDS.

Checks of the settings themselves are in ``checks.settings``; of the wiring (middleware,
backends, URLs, admin, deploy) in ``checks.wiring``. Both register on import.
"""

from auth_token.checks.settings import (
    AGES,
    CLIENT_IP_EXAMPLE,
    E003,
    E004,
    E005,
    E006,
    E009,
    E011,
    PER_PROCESS_CACHES,
    SCHEME,
    W005,
    W010,
    check_settings,
)
from auth_token.checks.wiring import (
    CSRF_MIDDLEWARE,
    DJANGO_MIDDLEWARE,
    E002,
    E012,
    E013,
    OLD_DEVICE_BACKEND,
    OUR_MIDDLEWARE,
    W001,
    W004,
    W006,
    W007,
    W008,
    W009,
    check_cookie_deploy,
    check_device_login,
    check_middleware,
    check_user_admin,
)

__all__ = [
    "AGES",
    "CLIENT_IP_EXAMPLE",
    "CSRF_MIDDLEWARE",
    "DJANGO_MIDDLEWARE",
    "E002",
    "E003",
    "E004",
    "E005",
    "E006",
    "E009",
    "E011",
    "E012",
    "E013",
    "OLD_DEVICE_BACKEND",
    "OUR_MIDDLEWARE",
    "PER_PROCESS_CACHES",
    "SCHEME",
    "W001",
    "W004",
    "W005",
    "W006",
    "W007",
    "W008",
    "W009",
    "W010",
    "check_cookie_deploy",
    "check_device_login",
    "check_middleware",
    "check_settings",
    "check_user_admin",
]
