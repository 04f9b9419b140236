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
"""

from __future__ import annotations

import sys

from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import checks

from auth_token import client_ip, keys, local_cache, throttling
from auth_token.conf import DEFAULTS, PREFIX, REMOVED, settings

OUR_MIDDLEWARE = "auth_token.middleware.TokenAuthenticationMiddleware"
DJANGO_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"

E002 = checks.Error(
    f"Both {DJANGO_MIDDLEWARE} and {OUR_MIDDLEWARE} are in MIDDLEWARE.",
    hint=f"Remove {DJANGO_MIDDLEWARE}: {OUR_MIDDLEWARE} replaces it.",
    id="auth_token.E002",
)
E003 = checks.Error(
    "AUTH_TOKEN_HEADER_NAME contains an underscore.",
    hint="ASGI and most proxies drop header names with underscores; use hyphens.",
    id="auth_token.E003",
)
E004 = checks.Error(
    "A cookie name starting with __Host- needs COOKIE_SECURE, COOKIE_PATH '/' and no COOKIE_DOMAIN.",
    hint="Browsers reject such a cookie otherwise; change the cookie settings or the name.",
    id="auth_token.E004",
)
CLIENT_IP_EXAMPLE = 'AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": ["10.0.0.1"]}'
E005 = checks.Error(
    "AUTH_TOKEN_CLIENT_IP uses django-ipware's 'proxy_count' or 'proxy_trusted_ips', which are no "
    "longer read: they believed addresses the client wrote.",
    hint=(
        f"Name the header your proxy sets and the addresses of your proxies: {CLIENT_IP_EXAMPLE} "
        "(see the reverse proxy guide)."
    ),
    id="auth_token.E005",
)
E006 = checks.Error(
    "AUTH_TOKEN_COOKIE_SAMESITE must be 'Lax', 'Strict', 'None' or None.",
    id="auth_token.E006",
)
W001 = checks.Warning(
    f"Cookie authentication is enabled but {CSRF_MIDDLEWARE} is not in MIDDLEWARE.",
    hint="Add it, or set AUTH_TOKEN_COOKIE = False: a cookie credential needs CSRF protection.",
    id="auth_token.W001",
)
W004 = checks.Warning(
    f"{OUR_MIDDLEWARE} is not in MIDDLEWARE.",
    hint="Add it where django.contrib.auth.middleware.AuthenticationMiddleware was.",
    id="auth_token.W004",
)
W005 = checks.Warning(
    "AUTH_TOKEN_CACHE is a per-process cache.",
    hint=(
        "With several processes, a token revoked in one stays valid in the others until the entry "
        "expires (up to AUTH_TOKEN_RENEWAL_INTERVAL). Use a shared cache such as Redis."
    ),
    id="auth_token.W005",
)
W006 = checks.Warning(
    "AUTH_TOKEN_TAKEOVER_USER_ADMIN is on, but the user model is not registered on admin.site with "
    "a TakeoverUserAdminMixin admin: there is no takeover in the admin.",
    hint=(
        "Register your user admin from an app listed before auth_token in INSTALLED_APPS (auth_token "
        "patches it), add auth_token.admin.TakeoverUserAdminMixin to it yourself, or set "
        "AUTH_TOKEN_TAKEOVER_USER_ADMIN = False."
    ),
    id="auth_token.W006",
)
W007 = checks.Warning(
    "AUTH_TOKEN_COOKIE_SECURE is False: browsers send the token cookie over plain HTTP too, where "
    "anyone on the network can read it and act as the user.",
    hint=(
        "Set AUTH_TOKEN_COOKIE_SECURE = True (the default) and serve the site over HTTPS; behind a "
        "proxy that ends HTTPS, also set SECURE_PROXY_SSL_HEADER."
    ),
    id="auth_token.W007",
)
W008 = checks.Warning(
    "AUTH_TOKEN_COOKIE_HTTPONLY is False: any script on your pages, an injected one included, can "
    "read the token cookie and use the session from elsewhere.",
    hint=(
        "Set AUTH_TOKEN_COOKIE_HTTPONLY = True (the default): the browser still sends the cookie with "
        "your pages' own requests."
    ),
    id="auth_token.W008",
)
W009 = checks.Warning(
    'AUTH_TOKEN_COOKIE_SAMESITE is "None" but AUTH_TOKEN_COOKIE_SECURE is False: browsers reject '
    "such a cookie, so no browser stays logged in.",
    hint=(
        'Set AUTH_TOKEN_COOKIE_SECURE = True, or AUTH_TOKEN_COOKIE_SAMESITE = "Lax" (the default) '
        "unless the cookie must go with cross-site requests."
    ),
    id="auth_token.W009",
)
E009 = checks.Error(
    "AUTH_TOKEN_LOCAL_CACHE needs AUTH_TOKEN_CACHE to name a Redis cache.",
    hint=(
        "The per-process layer learns about invalidations from Redis messages: use Django's "
        "RedisCache or django-redis for AUTH_TOKEN_CACHE, or set AUTH_TOKEN_LOCAL_CACHE = False."
    ),
    id="auth_token.E009",
)
W010 = checks.Warning(
    "AUTH_TOKEN_LOGIN_THROTTLE_RATE is set, but the first of AUTHENTICATION_BACKENDS does not "
    "guard logins: only auth_token's own login views are throttled, not the admin's or other "
    "apps' logins.",
    hint=(
        f"Put {throttling.MODEL_BACKEND!r} first in place of Django's ModelBackend (or "
        f"{throttling.GUARD_BACKEND!r} before other backends), or set "
        "AUTH_TOKEN_LOGIN_THROTTLE_RATE = None."
    ),
    id="auth_token.W010",
)
PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache",)
AGES = ("DEFAULT_TOKEN_AGE", "MAX_TOKEN_AGE", "ABSOLUTE_TOKEN_AGE", "RENEWAL_INTERVAL")


@checks.register(checks.Tags.security)
def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    if not keys.PREFIX_PATTERN.fullmatch(str(settings.KEY_PREFIX)):
        errors.append(
            checks.Error(
                f"AUTH_TOKEN_KEY_PREFIX {settings.KEY_PREFIX!r} is not a lowercase letter followed "
                "by up to nine lowercase letters or digits.",
                id="auth_token.E001",
            )
        )
    if "_" in settings.HEADER_NAME:
        errors.append(E003)
    name = settings.COOKIE_NAME
    if name.startswith("__Host-") and (
        settings.COOKIE_DOMAIN or settings.COOKIE_PATH != "/" or not settings.COOKIE_SECURE
    ):
        errors.append(E004)
    errors += _check_client_ip()
    if settings.COOKIE_SAMESITE not in ("Lax", "Strict", "None", None):
        errors.append(E006)
    for age in AGES:
        value = getattr(settings, age)
        if not (value is None and age == "ABSOLUTE_TOKEN_AGE") and not (
            isinstance(value, int) and not isinstance(value, bool) and value > 0
        ):
            errors.append(
                checks.Error(f"AUTH_TOKEN_{age} must be a positive int (seconds).", id="auth_token.E007")
            )
    errors += _check_cache()
    errors += _check_login_throttle()
    for old, replacement in REMOVED.items():
        if hasattr(django_settings, PREFIX + old):
            errors.append(
                checks.Warning(f"{PREFIX}{old} is no longer used.", hint=replacement, id="auth_token.W002")
            )
    for setting in dir(django_settings):
        if setting.startswith(PREFIX) and setting[len(PREFIX) :] not in {*DEFAULTS, *REMOVED}:
            errors.append(
                checks.Warning(
                    f"{setting} is not an auth_token setting.",
                    hint="Check its spelling against auth_token.conf.DEFAULTS.",
                    id="auth_token.W003",
                )
            )
    return errors


def _check_cache() -> list[checks.CheckMessage]:
    alias = settings.CACHE
    if alias is None:
        return [E009] if settings.LOCAL_CACHE else []
    configured = getattr(django_settings, "CACHES", {})
    if alias not in configured:
        return [
            checks.Error(
                f"AUTH_TOKEN_CACHE {alias!r} is not a cache alias in CACHES.",
                hint="Name one of CACHES, or set AUTH_TOKEN_CACHE = None.",
                id="auth_token.E008",
            )
        ]
    if settings.LOCAL_CACHE and not local_cache.is_redis_cache(alias):
        return [E009]
    return [W005] if configured[alias].get("BACKEND") in PER_PROCESS_CACHES else []


def _check_login_throttle() -> list[checks.CheckMessage]:
    rate = settings.LOGIN_THROTTLE_RATE
    if rate is None:
        return []
    try:
        throttling.parse_rate(rate)
    except ValueError as error:
        return [
            checks.Error(
                f"AUTH_TOKEN_LOGIN_THROTTLE_RATE: {error}",
                hint='Attempts per period, e.g. "30/min"; None turns the login throttle off.',
                id="auth_token.E010",
            )
        ]
    backends = list(getattr(django_settings, "AUTHENTICATION_BACKENDS", None) or ())
    return [] if backends and throttling.guards_logins(backends[0]) else [W010]


def _check_client_ip() -> list[checks.CheckMessage]:
    value = settings.CLIENT_IP
    if value is None:
        return []
    if isinstance(value, dict) and set(value) & set(client_ip.IPWARE_KEYS):
        return [E005]
    try:
        client_ip.parse_options(value)
    except ValueError as error:
        return [
            checks.Error(
                f"AUTH_TOKEN_CLIENT_IP {error}.",
                hint=f"Use None (REMOTE_ADDR) or, behind proxies, {CLIENT_IP_EXAMPLE}.",
                id="auth_token.E005",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_middleware(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    middleware = list(getattr(django_settings, "MIDDLEWARE", None) or ())
    errors = []
    if OUR_MIDDLEWARE not in middleware:
        return [W004]
    if DJANGO_MIDDLEWARE in middleware:
        errors.append(E002)
    if settings.COOKIE and CSRF_MIDDLEWARE not in middleware:
        errors.append(W001)
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_cookie_deploy(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The token cookie's flags, for ``check --deploy``: Django's own checks see only its session cookie."""
    if not settings.COOKIE:
        return []
    warnings = []
    if not settings.COOKIE_SECURE:
        warnings.append(W007)
    if not settings.COOKIE_HTTPONLY:
        warnings.append(W008)
    if settings.COOKIE_SAMESITE == "None" and not settings.COOKIE_SECURE:
        warnings.append(W009)
    return warnings


@checks.register(checks.Tags.admin)
def check_user_admin(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Run after the admin's autodiscovery (checks run once every app is ready)."""
    if not settings.TAKEOVER_USER_ADMIN or not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib import admin

    # Not imported here: importing auth_token.admin registers and patches, which a check must not
    # do. If nothing imported it, nothing can have used its mixin.
    mixin = getattr(sys.modules.get("auth_token.admin"), "TakeoverUserAdminMixin", None)
    user_model = get_user_model()
    registered = admin.site.is_registered(user_model)
    if mixin is not None and registered and isinstance(admin.site.get_model_admin(user_model), mixin):
        return []
    return [W006]
