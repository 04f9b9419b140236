"""Device keys: a mobile device logs in again with its UUID and a long secret from its keychain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from auth_token import keys, rules, signals
from auth_token.backends import DEVICE_BACKEND, device_login_enabled, normalize_device_uuid
from auth_token.exceptions import (
    DeviceKeyAlreadyExists,
    DeviceLoginDisabled,
    InvalidDeviceCredentials,
    SessionEnded,
)
from auth_token.models import DEVICE_UUID_LENGTH, DeviceKey, Token
from auth_token.reasons import RevokeReason
from auth_token.services._ending import announce_ended, end_rows, end_tokens
from auth_token.services._request import clean_user_agent, refuse_during_takeover
from auth_token.services.tokens import login, revoke

if TYPE_CHECKING:
    from uuid import UUID

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest


@sensitive_variables("raw")
def register_device(
    request: HttpRequest | None,
    user: AbstractBaseUser,
    uuid: str | UUID,
    *,
    name: str = "",
    user_agent: str = "",
) -> tuple[DeviceKey, str]:
    """Register a device of ``user`` (or re-activate a deactivated one); return it and its raw secret.

    Raise ``DeviceKeyAlreadyExists`` when an active key exists for this (uuid, user), also when two
    registrations race.
    """
    refuse_during_takeover(request)
    refuse_unless_device_login_enabled()
    normalized = normalize_device_uuid(uuid)
    if not normalized or len(normalized) > DEVICE_UUID_LENGTH:
        raise ValueError("A device UUID must have between 1 and 64 characters.")
    raw = keys.generate(keys.device_prefix())
    fields = {
        "login_token": keys.digest(raw),
        "session_auth_hash": rules.session_hash_of(user),
        "user_agent": clean_user_agent(request, user_agent),
        "is_active": True,
        "created_at": timezone.now(),
        "last_login": None,
    }
    existing = DeviceKey.objects.filter(uuid=normalized, user=user).first()
    if existing is None:
        try:
            with transaction.atomic():
                device = DeviceKey.objects.create(uuid=normalized, user=user, name=name, **fields)
        except IntegrityError as error:
            raise DeviceKeyAlreadyExists from error
    else:
        fields["name"] = name or existing.name
        if not DeviceKey.objects.filter(pk=existing.pk, is_active=False).update(**fields):
            raise DeviceKeyAlreadyExists
        device = DeviceKey.objects.get(pk=existing.pk)
    token = getattr(request, "token", None)
    if isinstance(token, Token) and not _still_active(Token.objects.filter(pk=token.pk)):
        # Logged out everywhere (or revoked) while registering: logout_all missed this device.
        DeviceKey.objects.filter(pk=device.pk).update(is_active=False)
        raise SessionEnded
    signals.device_registered.send(sender=DeviceKey, request=request, device=device)
    return device, raw


@sensitive_variables("secret", "raw")
def login_device(
    request: HttpRequest | None, uuid: str | UUID, secret: str, **options: Any
) -> tuple[Token, str]:
    """Log a registered device in with its secret; return a new header-only token and its raw value.

    Every wrong input raises the same ``InvalidDeviceCredentials`` and sends ``user_login_failed``
    with the secret masked.
    """
    refuse_unless_device_login_enabled()
    user = authenticate(request, device_uuid=uuid, device_token=secret)
    device = getattr(user, "device_key", None)
    if device is None:
        raise InvalidDeviceCredentials
    DeviceKey.objects.filter(pk=device.pk).update(last_login=timezone.now())
    options.setdefault("name", device.name)
    token, raw = login(request, user, backend=DEVICE_BACKEND, allowed_cookie=False, device=device, **options)
    if not _still_active(DeviceKey.objects.filter(pk=device.pk)):
        # Deactivated (or logged out everywhere) while logging in: it missed this token.
        revoke(token, request=request, reason=RevokeReason.DEVICE_DEACTIVATED)
        raise InvalidDeviceCredentials
    return token, raw


def refuse_unless_device_login_enabled() -> None:
    """Refuse device registration and login, before anything is written, when no device can log in."""
    if not device_login_enabled():
        raise DeviceLoginDisabled


def _still_active(rows: QuerySet) -> bool:
    """Return whether the row is active once the writers that hold its lock have committed.

    A locking read waits for them, and sees their commit even under REPEATABLE READ.
    """
    with transaction.atomic(savepoint=False):
        return bool(list(rows.select_for_update().filter(is_active=True).values_list("pk", flat=True)))


def deactivate_device(device: DeviceKey, *, request: HttpRequest | None = None) -> bool:
    """Deactivate ``device`` (kept for re-activation) and revoke the tokens it minted."""
    refuse_during_takeover(request)
    deactivated = DeviceKey.objects.filter(pk=device.pk, is_active=True).update(is_active=False) == 1
    device.is_active = False
    end_tokens(Token.objects.filter(device=device), RevokeReason.DEVICE_DEACTIVATED, request=request)
    return deactivated


def delete_devices(devices: QuerySet[DeviceKey], *, request: HttpRequest | None = None) -> int:
    """Deactivate ``devices`` and revoke the tokens they minted, then delete them; return how many.

    Deleting alone would leave their tokens working.
    """
    refuse_during_takeover(request)
    with transaction.atomic():
        ids = list(devices.values_list("pk", flat=True))
        ended = end_rows(Token.objects.filter(device_id__in=ids), RevokeReason.DEVICE_DEACTIVATED)
        DeviceKey.objects.filter(pk__in=ids).delete()
    announce_ended(ended, request)
    return len(ids)


async def aregister_device(
    request: HttpRequest | None, user: AbstractBaseUser, uuid: str | UUID, **options: Any
) -> tuple[DeviceKey, str]:
    """See register_device()."""
    return await sync_to_async(register_device)(request, user, uuid, **options)


@sensitive_variables("secret")
async def alogin_device(
    request: HttpRequest | None, uuid: str | UUID, secret: str, **options: Any
) -> tuple[Token, str]:
    """See login_device()."""

    # A closure, not arguments: asgiref's frames show, in an error report, the arguments they
    # carry to the thread.
    @sensitive_variables()
    def call() -> tuple[Token, str]:
        return login_device(request, uuid, secret, **options)

    return await sync_to_async(call)()


async def adeactivate_device(device: DeviceKey, *, request: HttpRequest | None = None) -> bool:
    """See deactivate_device()."""
    return await sync_to_async(deactivate_device)(device, request=request)
