"""Session-style, per-device, revocable tokens for Django."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

    from auth_token.models import Token

__all__ = ["aupdate_session_auth_hash", "update_session_auth_hash"]


def update_session_auth_hash(request: HttpRequest, user: AbstractBaseUser) -> tuple[Token, str] | None:
    """See auth_token.services.update_session_auth_hash()."""
    from auth_token import services

    return services.update_session_auth_hash(request, user)


async def aupdate_session_auth_hash(request: HttpRequest, user: AbstractBaseUser) -> tuple[Token, str] | None:
    """See auth_token.services.update_session_auth_hash()."""
    from auth_token import services

    return await services.aupdate_session_auth_hash(request, user)
