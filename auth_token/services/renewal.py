"""Renewal: a token's sliding expiry moves as it is used, at most once per RENEWAL_INTERVAL."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.db import DatabaseError
from django.utils import timezone

from auth_token import cache as token_cache
from auth_token import rules, signals
from auth_token import state as request_state
from auth_token.conf import settings
from auth_token.models import Client, Token
from auth_token.services._request import refuse_during_takeover
from auth_token.services.takeovers import recheck_takeover
from auth_token.state import get_state

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)


def expiry(now: datetime, created_at: datetime, expiration: bool, client: Client | None = None) -> datetime:
    """Return when a token idle from ``now`` expires: its idle lifetime, capped by the absolute
    one; an API client's lifetimes replace the settings' where it sets them."""
    idle = None if client is None else (client.idle_age if expiration else client.remember_age)
    if idle is None:
        idle = settings.DEFAULT_TOKEN_AGE if expiration else settings.MAX_TOKEN_AGE
    absolute = settings.ABSOLUTE_TOKEN_AGE
    if client is not None and client.absolute_age is not None:
        absolute = client.absolute_age
    expires_at = now + timedelta(seconds=idle)
    if absolute is not None:
        expires_at = min(expires_at, created_at + timedelta(seconds=absolute))
    return expires_at


def is_renewal_due(token: Token, *, now: datetime | None = None) -> bool:
    """Return whether the token's sliding expiry may move (no query)."""
    return token.last_access < (now or timezone.now()) - timedelta(seconds=settings.RENEWAL_INTERVAL)


def renew_if_due(request: HttpRequest, *, extend: bool = True) -> bool:
    """Slide the expiry of the request's token, at most once per RENEWAL_INTERVAL.

    One conditional UPDATE that can never revive a revoked or expired token; return whether it
    renewed. An active takeover is re-checked by the full rule at the same pace. Without
    ``extend`` (a renewal-exempt request) the expiry stays put, but a takeover is still re-checked:
    a client header must not keep a takeover alive that the rule has ended.
    """
    state = get_state(request)
    token = state.token if state is not None else None
    if not isinstance(token, Token) or not is_renewal_due(token):
        return False
    # A personal token keeps the expiry its owner chose; its last use is still recorded.
    personal = not rules.renews_by_use(token)
    extend = extend and not personal
    takeover = token.active_takeover_id is not None
    if not (extend or takeover or personal):
        return False
    if takeover and not recheck_takeover(token, request=request):
        request_state.act_as(request, token, token.user)
    now = timezone.now()
    changes = {"last_access": now}
    if extend:
        changes["expires_at"] = expiry(now, token.created_at, token.expiration, token.client)
    try:
        renewed = (
            Token.objects.filter(
                pk=token.pk,
                is_active=True,
                expires_at__gt=now,
                last_access__lt=now - timedelta(seconds=settings.RENEWAL_INTERVAL),
            ).update(**changes)
            == 1
        )
    except DatabaseError:
        # E.g. a serialization failure under REPEATABLE READ: the next request tries again.
        logger.warning("Could not renew token %s", token.public_id, exc_info=True)
        return False
    if not renewed:
        return False
    if not extend:
        token.last_access = now
        token_cache.invalidate_tokens([token.key])
        return False
    _renewed(request, token, now, changes["expires_at"])
    return True


def renew(request: HttpRequest) -> Token:
    """Slide the expiry of the request's token now, whatever the interval; return the token."""
    refuse_during_takeover(request)
    token = request.token
    if not rules.renews_by_use(token):
        return token
    now = timezone.now()
    expires_at = expiry(now, token.created_at, token.expiration, token.client)
    if Token.objects.filter(pk=token.pk, is_active=True, expires_at__gt=now).update(
        last_access=now, expires_at=expires_at
    ):
        _renewed(request, token, now, expires_at)
    return token


def _renewed(request: HttpRequest, token: Token, now: datetime, expires_at: datetime) -> None:
    token.last_access, token.expires_at = now, expires_at
    state = get_state(request)
    if state is not None:
        state.renewed = True  # the middleware re-sets a cookie credential
    token_cache.invalidate_tokens([token.key])
    signals.token_renewed.send(sender=Token, request=request, token=token)


async def arenew(request: HttpRequest) -> Token:
    """See renew()."""
    return await sync_to_async(renew)(request)
