from __future__ import annotations

import uuid as uuid_module
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.contrib.auth import load_backend
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from auth_token import keys, rules
from auth_token.models import DeviceKey

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


DEVICE_BACKEND = "auth_token.backends.DeviceKeyBackend"


def device_login_enabled() -> bool:
    """Return whether devices can log in here: only through this backend (check E013)."""
    return DEVICE_BACKEND in django_settings.AUTHENTICATION_BACKENDS


def normalize_device_uuid(value: str) -> str:
    """Return a UUID as 32 lowercase hex so hyphenated and plain forms match; else unchanged."""
    try:
        return uuid_module.UUID(str(value)).hex
    except ValueError:
        return str(value)


class DeviceKeyBackend(ModelBackend):
    """Authenticate a device by its UUID and the long secret it keeps in its keychain."""

    # No **kwargs: Django would otherwise call this backend for every password login. Every local
    # and callee is masked in error reports: the secret reaches them under other names.
    @sensitive_variables()
    def authenticate(
        self, request: HttpRequest | None, device_uuid: str | None = None, device_token: str | None = None
    ) -> AbstractBaseUser | None:
        if device_uuid is None or device_token is None:
            return None
        # Every wrong input costs one hash and one indexed query and gets the same answer.
        digest = keys.digest(str(device_token))
        device = (
            DeviceKey.objects.select_related("user")
            .filter(login_token=digest, uuid=normalize_device_uuid(device_uuid), is_active=True)
            .first()
        )
        if device is None or not keys.is_well_formed(device_token):
            return None
        user = device.user
        if not self.user_can_authenticate(user):
            return None
        if not rules.session_hash_matches(device.session_auth_hash, user):
            return None
        user.device_key = device
        return user


def default_backend() -> str:
    """Return the first of AUTHENTICATION_BACKENDS that loads users, as Django's test client picks one.

    A guard such as ``LoginThrottleBackend`` authenticates nobody: it must not be recorded on a token.
    """
    for path in django_settings.AUTHENTICATION_BACKENDS:
        if hasattr(load_backend(path), "get_user"):
            return path
    raise ImproperlyConfigured("No backend of AUTHENTICATION_BACKENDS can load users (get_user).")
