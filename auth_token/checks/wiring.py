"""Checks of how the app is wired into the project: middleware, backends, URLs, admin, deploy."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from auth_token.backends import DEVICE_BACKEND, device_login_enabled
from auth_token.conf import settings

OUR_MIDDLEWARE = "auth_token.middleware.TokenAuthenticationMiddleware"
DJANGO_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"

E002 = checks.Error(
    f"Both {DJANGO_MIDDLEWARE} and {OUR_MIDDLEWARE} are in MIDDLEWARE.",
    hint=f"Remove {DJANGO_MIDDLEWARE}: {OUR_MIDDLEWARE} replaces it.",
    id="auth_token.E002",
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
W006 = checks.Warning(
    "AUTH_TOKEN_TAKEOVER_USER_ADMIN is on, but the user model is not registered on admin.site with "
    "a TakeoverUserAdminMixin admin: there is no takeover in the admin.",
    hint=(
        "Register your user admin in an app's admin.py (auth_token extends what the admin's "
        "autodiscovery registers), add auth_token.admin.TakeoverUserAdminMixin to it yourself, or set "
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
OLD_DEVICE_BACKEND = "auth_token.backends.DeviceBackend"
E012 = checks.Error(
    f"AUTHENTICATION_BACKENDS names {OLD_DEVICE_BACKEND!r}, the original django-auth-token's device "
    "backend: it does not exist here, and every login would fail to import it.",
    hint=f"Replace it with {DEVICE_BACKEND!r}.",
    id="auth_token.E012",
)
E013 = checks.Error(
    f"The device API (auth_token_api:devices) is routed, but {DEVICE_BACKEND!r} is not in "
    "AUTHENTICATION_BACKENDS: no device can log in, and registering one answers 404.",
    hint=(
        f"Add {DEVICE_BACKEND!r} to AUTHENTICATION_BACKENDS, or, if you do not use device login, add "
        '"auth_token.E013" to SILENCED_SYSTEM_CHECKS.'
    ),
    id="auth_token.E013",
)


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_device_login(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The backends device login needs: checked at start-up, not at a device's first login."""
    errors = []
    if OLD_DEVICE_BACKEND in (getattr(django_settings, "AUTHENTICATION_BACKENDS", None) or ()):
        errors.append(E012)
    if not device_login_enabled() and _device_api_routed():
        errors.append(E013)
    return errors


def _device_api_routed() -> bool:
    try:
        reverse("auth_token_api:devices")
    except (NoReverseMatch, ImproperlyConfigured):  # not included, or no ROOT_URLCONF
        return False
    return True


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
    """Run once every app is ready, so after the admin's autodiscovery and our patch."""
    if not settings.TAKEOVER_USER_ADMIN or not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib import admin

    from auth_token.admin_takeover import TakeoverUserAdminMixin

    user_model = get_user_model()
    if admin.site.is_registered(user_model) and isinstance(
        admin.site.get_model_admin(user_model), TakeoverUserAdminMixin
    ):
        return []
    return [W006]
