from django.core.exceptions import PermissionDenied


class TakeoverActive(PermissionDenied):
    """The action would mint credentials or act account-wide while a takeover is active."""


class TakeoverNotAllowed(PermissionDenied):
    """The actor may not take over this user."""


class DeviceKeyAlreadyExists(Exception):
    """An active device key already exists for this (uuid, user)."""


class InvalidDeviceCredentials(PermissionDenied):
    """Unknown device, wrong secret, deactivated device or user: one answer for all of them."""


class SessionEnded(PermissionDenied):
    """The request's token was revoked while the request ran; what it began is undone."""
