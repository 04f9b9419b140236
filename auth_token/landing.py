"""Where a login, a takeover and its release send the browser, and where Release posts."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

from auth_token.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.base_user import AbstractBaseUser


def takeover_landing_url(user: AbstractBaseUser | None = None) -> str:
    """``TAKEOVER_REDIRECT_URL``, unless that is a path this site does not serve (a new project has
    no ``/``): then the admin's index for a ``user`` who may use the admin, else our sessions page
    (whose banner offers Release), so a takeover never lands on a 404 or the admin's refusal."""
    staff = user is not None and user.is_active and getattr(user, "is_staff", False)
    fallbacks = ("admin:index", "auth_token:sessions") if staff else ("auth_token:sessions", "admin:index")
    return _served_or(resolve_url(settings.TAKEOVER_REDIRECT_URL), *fallbacks)


def after_login_url() -> str:
    """``LOGIN_REDIRECT_URL``; our sessions page instead when that is a path this site does not
    serve (Django's default, ``/accounts/profile/``, in most projects)."""
    return _served_or(resolve_url(django_settings.LOGIN_REDIRECT_URL), "auth_token:sessions")


def _served_or(url: str, *fallbacks: str) -> str:
    """``url``, unless it is a local path that no URL pattern serves: then the first of
    ``fallbacks`` that reverses."""
    if not url.startswith("/") or url.startswith("//") or _served(url):
        return url
    return _first_reversed(fallbacks) or url


def _served(url: str) -> bool:
    path = urlsplit(url).path
    prefix = get_script_prefix()
    if path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def release_url(admin_site_name: str = "admin") -> str | None:
    """``auth_token:release``, else the user admin's own release URL (a project that includes
    only the admin); None when neither is served."""
    opts = get_user_model()._meta
    names = ("auth_token:release", f"{admin_site_name}:{opts.app_label}_{opts.model_name}_release")
    return _first_reversed(names, current_app=admin_site_name)


def _first_reversed(names: Iterable[str], current_app: str | None = None) -> str | None:
    """The URL of the first of ``names`` this site serves, or None."""
    for name in names:
        try:
            return reverse(name, current_app=current_app)
        except NoReverseMatch:
            continue
    return None
