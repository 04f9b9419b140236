"""Every auth_token setting with its default.

``settings.COOKIE_NAME`` reads ``django.conf.settings.AUTH_TOKEN_COOKIE_NAME`` or the default. The
value is remembered until Django's ``setting_changed`` signal (sent by ``override_settings`` and
pytest-django's ``settings`` fixture) says otherwise: the request path reads several settings and
``django.conf.settings`` raises internally for every one a project leaves out.
"""

from __future__ import annotations

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
    "TAKEOVER_USER_ADMIN": True,
    "EXPIRATION_HEADER": "X-Authorization-Expiration",
    "LOGIN_THROTTLE_RATE": "30/min",
}

# Settings of the original django-auth-token that no longer exist, with what replaces them.
REMOVED = {
    "COOKIE_AGE": "A persistent cookie now expires with its token (MAX_TOKEN_AGE).",
    "EXPIRATION_DELTA": "Use AUTH_TOKEN_DEFAULT_TOKEN_AGE and AUTH_TOKEN_MAX_TOKEN_AGE.",
}


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
