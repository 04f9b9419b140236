"""Checks of the ``AUTH_TOKEN_*`` settings themselves (ids: see ``auth_token.checks``)."""

from __future__ import annotations

import re

from django.conf import settings as django_settings
from django.core import checks

from auth_token import client_ip, keys, local_cache, throttling
from auth_token.conf import DEFAULTS, PREFIX, removed_setting_replacement, settings

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
W005 = checks.Warning(
    "AUTH_TOKEN_CACHE is a per-process cache.",
    hint=(
        "With several processes, a token revoked in one stays valid in the others until the entry "
        "expires (up to AUTH_TOKEN_RENEWAL_INTERVAL). Use a shared cache such as Redis."
    ),
    id="auth_token.W005",
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
    "The login throttle is on (AUTH_TOKEN_LOGIN_THROTTLE_RATE, 30/min by default), but the first "
    "of AUTHENTICATION_BACKENDS does not "
    "guard logins: only auth_token's own login views are throttled, not the admin's or other "
    "apps' logins.",
    hint=(
        f"Put {throttling.MODEL_BACKEND!r} first in place of Django's ModelBackend (or "
        f"{throttling.GUARD_BACKEND!r} before other backends), or set "
        "AUTH_TOKEN_LOGIN_THROTTLE_RATE = None."
    ),
    id="auth_token.W010",
)
E011 = checks.Error(
    'AUTH_TOKEN_HEADER_TOKEN_TYPE must be an HTTP authentication scheme such as "Bearer": a bare '
    "token without a scheme (the original django-auth-token's None) is not supported.",
    hint=(
        'Leave the default "Bearer" and have clients send "Authorization: Bearer <token>", or set '
        "AUTH_TOKEN_HEADER = False to read tokens from the cookie only."
    ),
    id="auth_token.E011",
)
SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
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
    if not isinstance(settings.HEADER_TOKEN_TYPE, str) or not SCHEME.fullmatch(settings.HEADER_TOKEN_TYPE):
        errors.append(E011)
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
    for setting in dir(django_settings):
        name = setting[len(PREFIX) :]
        if not setting.startswith(PREFIX) or name in DEFAULTS:
            continue
        replacement = removed_setting_replacement(name)
        if replacement is not None:
            errors.append(
                checks.Warning(f"{setting} is no longer used.", hint=replacement, id="auth_token.W002")
            )
        else:
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
