"""Every auth_token setting with its default.

``settings.COOKIE_NAME`` reads ``django.conf.settings.AUTH_TOKEN_COOKIE_NAME`` or the default. The
value is remembered until Django's ``setting_changed`` signal (sent by ``override_settings`` and
pytest-django's ``settings`` fixture) says otherwise: the request path reads several settings and
``django.conf.settings`` raises internally for every one a project leaves out.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "AUTH_TOKEN_"

DEFAULTS: dict[str, Any] = {
    "HEADER": True,
    "HEADER_NAME": "Authorization",
    "HEADER_TOKEN_TYPE": "Bearer",
    "LEGACY_HEADER_TOKEN_TYPES": (),
    "COOKIE": True,
    "COOKIE_NAME": "Authorization",
    "COOKIE_HTTPONLY": True,
    "COOKIE_SECURE": True,
    "COOKIE_SAMESITE": "Lax",
    "COOKIE_DOMAIN": None,
    "COOKIE_PATH": "/",
    "DEFAULT_TOKEN_AGE": 60 * 60,
    "MAX_TOKEN_AGE": 14 * 24 * 60 * 60,
    "ABSOLUTE_TOKEN_AGE": 30 * 24 * 60 * 60,
    "RENEWAL_INTERVAL": 60,
    "RENEWAL_EXEMPT_HEADER": "X-Authorization-Renewal-Exempt",
    "MAX_TOKENS_PER_USER": None,
    "KEY_PREFIX": "at",
    "CACHE": None,
    "LOCAL_CACHE": False,
    "CLIENT_IP": None,
    "TAKEOVER_PERMISSION": None,
    "TAKEOVER_REDIRECT_URL": "/",
    "TAKEOVER_REQUIRE_REASON": False,
    "TAKEOVER_USER_ADMIN": True,
    "EXPIRATION_HEADER": "X-Authorization-Expiration",
    "LOGIN_THROTTLE_RATE": "30/min",
    "SCOPES": {},
    "PAT_MAX_AGE": 90 * 24 * 60 * 60,
    "PAT_ALLOW_NO_EXPIRY": False,
    "PAT_NOTIFY_DAYS": 7,
}

# Settings of the original django-auth-token that no longer exist, with what replaces them
# (check W002; any other unknown AUTH_TOKEN_* name is a typo, W003).
REMOVED = {
    "COOKIE_AGE": 'A persistent ("remember me") cookie now expires with its token: AUTH_TOKEN_MAX_TOKEN_AGE.',
    "EXPIRATION_DELTA": (
        "Use AUTH_TOKEN_RENEWAL_INTERVAL: the least number of seconds between two renewals of a "
        "token's expiry."
    ),
    "COUNT_USER_PRESERVED_TOKENS": (
        "`manage.py cleartokens` deletes every expired or revoked token, keeping none per user; "
        "AUTH_TOKEN_MAX_TOKENS_PER_USER caps a user's active tokens."
    ),
    "MAX_RANDOM_KEY_ITERATIONS": "A token holds 256 random bits: there are no collisions to retry.",
    "LENGTH": (
        "Tokens have one format (prefix, 43 random characters, checksum); AUTH_TOKEN_KEY_PREFIX sets "
        "the prefix."
    ),
    "HASH_SALT": "Tokens are stored as SHA-256 digests of 256 random bits: no salt is read.",
    "TAKEOVER_ENABLED": (
        "AUTH_TOKEN_TAKEOVER_PERMISSION says who may take over whom; AUTH_TOKEN_TAKEOVER_USER_ADMIN = "
        "False removes the admin's takeover action."
    ),
}
# Whole families of removed settings, by the start of their names.
REMOVED_FAMILIES = {
    "TWO_FACTOR_": (
        "Two-factor login is not part of this library: use a two-factor app (such as django-otp) "
        "on the login views."
    ),
    "OTP_": "One-time passwords are not part of this library.",
    "AUTHORIZATION_": "Authorization requests and their one-time passwords are not part of this library.",
}


def removed_setting_replacement(name: str) -> str | None:
    """Return what replaces the removed setting ``AUTH_TOKEN_<name>``, or None if it never existed."""
    if name in REMOVED:
        return REMOVED[name]
    return next((hint for start, hint in REMOVED_FAMILIES.items() if name.startswith(start)), None)


class Settings:
    """Lazy access to ``AUTH_TOKEN_*`` settings; unknown names raise."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown auth_token setting {name!r}")
        value = getattr(django_settings, PREFIX + name, DEFAULTS[name])
        setattr(self, name, value)  # later reads skip __getattr__
        return value

    def reload(self) -> None:
        self.__dict__.clear()


settings = Settings()


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(PREFIX):
        settings.reload()


@lru_cache(maxsize=16)  # called with a few setting values, on every request
def meta_key(header_name: str) -> str:
    """The ``request.META`` key of an HTTP header named by a setting (``X-Forwarded-For``)."""
    return "HTTP_" + header_name.upper().replace("-", "_")
