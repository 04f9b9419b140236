"""API clients: looking one up for a login, and changing one, which revokes what it no longer allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from auth_token import scopes, throttling
from auth_token.exceptions import InvalidClient
from auth_token.models import Client, Token
from auth_token.reasons import RevokeReason
from auth_token.services._ending import announce_ended, end_rows

if TYPE_CHECKING:
    from django.http import HttpRequest


def get_client(name: str) -> Client:
    """The active client named ``name``; ``InvalidClient`` for an unknown or inactive one."""
    client = Client.objects.filter(name=name, is_active=True).first() if isinstance(name, str) else None
    if client is None:
        raise InvalidClient.unknown(name)
    return client


def save_client(client: Client, *, request: HttpRequest | None = None) -> int:
    """Save ``client``; when it no longer allows what its tokens have (deactivated, a transport or
    a scope withdrawn), revoke them at once. Return how many ended.

    New lifetimes apply from each token's next renewal, as a changed setting's would. An
    undeclared scope (``UnknownScope``) or a malformed rate (``ValueError``) is refused before
    anything is written: the throttle would fail on every request of the client.
    """
    if client.allowed_scopes is not None:
        client.allowed_scopes = scopes.clean(client.allowed_scopes)
    if client.throttle_rate:
        throttling.parse_rate(client.throttle_rate)
    with transaction.atomic():
        before = Client.objects.select_for_update().filter(pk=client.pk).first() if client.pk else None
        client.save()
        if before is None:
            return 0
        ended = end_rows(_no_longer_allowed(before, client), RevokeReason.CLIENT_CHANGED)
    announce_ended(ended, request)
    return len(ended.tokens)


def _no_longer_allowed(before: Client, after: Client):
    tokens = Token.objects.filter(client=after, is_active=True)
    if not after.is_active or (
        before.allow_cookie and not after.allow_cookie and before.allow_header and not after.allow_header
    ):
        return tokens
    narrowed = Token.objects.none()
    if before.allow_cookie and not after.allow_cookie:
        narrowed = narrowed | tokens.filter(allowed_cookie=True, allowed_header=False)
    if before.allow_header and not after.allow_header:
        narrowed = narrowed | tokens.filter(allowed_header=True, allowed_cookie=False)
    if after.allowed_scopes is not None and after.allowed_scopes != before.allowed_scopes:
        ids = [
            token.pk
            for token in tokens.only("pk", "scopes")
            if scopes.outside(token.scopes, after.allowed_scopes)
        ]
        narrowed = narrowed | tokens.filter(pk__in=ids)
    return narrowed
