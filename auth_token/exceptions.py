from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class TakeoverActive(PermissionDenied):
    """The action would mint credentials or act account-wide while a takeover is active.

    Outside the API, the middleware answers it with a 403 page that says so and offers Release.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("This action is not allowed while you act as another user."))


class TakeoverNotAllowed(PermissionDenied):
    """The actor may not take over this user."""


class DeviceKeyAlreadyExists(Exception):
    """An active device key already exists for this (uuid, user)."""


class InvalidDeviceCredentials(PermissionDenied):
    """Unknown device, wrong secret, deactivated device or user: one answer for all of them."""


class SessionEnded(PermissionDenied):
    """The request's token was revoked while the request ran; what it began is undone."""


class DeviceLoginDisabled(Http404):
    """DeviceKeyBackend is not in AUTHENTICATION_BACKENDS (check E013): no device could log in.

    A 404 in views and the API: to a client, the site has no device login.
    """

    def __init__(self, message: str = "Device login is not enabled on this site.") -> None:
        super().__init__(message)


class InvalidClient(ValueError):
    """A login named an API client that is unknown or inactive, or whose policy refuses it."""

    @classmethod
    def unknown(cls, name: object) -> InvalidClient:
        return cls(_("Unknown or inactive client: %(name)s.") % {"name": name})


class PersonalTokenRefused(PermissionDenied):
    """The request may not create a personal access token (it needs ``tokens:write``)."""


class InvalidPersonalToken(ValueError):
    """A personal access token was asked without a name or with an expiry this site refuses."""
