"""Where a takeover, and its release, send the browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

from auth_token.conf import settings


def takeover_landing_url() -> str:
    """``TAKEOVER_REDIRECT_URL``; the admin's index instead when that is a path this site does not
    serve (a new project has no ``/``), so a takeover never lands on a 404."""
    url = resolve_url(settings.TAKEOVER_REDIRECT_URL)
    if not url.startswith("/") or url.startswith("//") or _served(url):
        return url
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return url


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
