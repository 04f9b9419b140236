"""API errors, and the service exceptions that have no HTTP status of their own mapped to them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed, PermissionDenied, ValidationError
from rest_framework.settings import api_settings

from auth_token import scopes
from auth_token.exceptions import (
    DeviceKeyAlreadyExists,
    InvalidClient,
    InvalidPersonalToken,
    PersonalTokenRefused,
    SessionEnded,
    TakeoverActive,
)
from auth_token.scopes import UnknownScope


class TakeoverActiveError(PermissionDenied):
    default_detail = _("This action is not allowed while you act as another user.")
    default_code = "takeover_active"


class InsufficientScope(PermissionDenied):
    """403 for a token that lacks a scope, with the ``WWW-Authenticate`` of RFC 6750 (3.1): DRF's
    exception handler sends an exception's ``auth_header``."""

    default_code = "insufficient_scope"

    def __init__(self, required: tuple[str, ...], missing: list[str]) -> None:
        super().__init__(scopes.refusal(missing))
        self.auth_header = scopes.challenge(required)


class DeviceKeyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This device is already registered.")
    default_code = "device_key_exists"


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


def to_api_exception(exc: Exception) -> Exception:
    """Return the API error for a service exception, or ``exc`` unchanged.

    Views apply it themselves, so the codes hold whatever ``EXCEPTION_HANDLER`` a project uses.
    """
    if isinstance(exc, TakeoverActive):
        return TakeoverActiveError()
    if isinstance(exc, DeviceKeyAlreadyExists):
        return DeviceKeyConflict()
    if isinstance(exc, PersonalTokenRefused):
        return PermissionDenied(str(exc), code="tokens_write_required")
    if isinstance(exc, InvalidPersonalToken):
        return ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]}, code="invalid")
    if isinstance(exc, InvalidClient):
        return ValidationError({"client": [str(exc)]}, code="invalid_client")
    if isinstance(exc, UnknownScope):
        return ValidationError({"scopes": [str(exc)]}, code="invalid_scope")
    if isinstance(exc, SessionEnded):
        return AuthenticationFailed(_("Invalid or expired token."), code="invalid_token")
    return exc
