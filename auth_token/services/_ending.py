"""Ending tokens and takeovers: the one place that deactivates rows, closes audit records,
invalidates the cache and sends ``token_revoked`` / ``takeover_ended``, each once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from auth_token import cache as token_cache
from auth_token import rules, signals
from auth_token.models import DeviceKey, Token, UserTokenTakeover
from auth_token.reasons import RevokeReason, TakeoverEndReason, takeover_end_reason

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest


def end_tokens(tokens: QuerySet[Token], reason: str, *, request: HttpRequest | None = None) -> list[Token]:
    """End the active tokens among ``tokens``, and their takeovers; return the tokens this call ended.

    ``token_revoked`` is sent once per token, ``takeover_ended`` once per takeover.
    """
    ended = end_rows(tokens, reason)
    announce_ended(ended, request)
    return ended.tokens


@dataclass
class _Ended:
    tokens: list[Token]
    reason: str
    takeovers: list[UserTokenTakeover]


def end_rows(tokens: QuerySet[Token], reason: str) -> _Ended:
    """Deactivate the active rows of ``tokens`` and close their takeovers, in one transaction.

    The rows are locked first, so each is ended (and announced) by exactly one caller.
    """
    with transaction.atomic(savepoint=False):
        rows = list(tokens.select_for_update().filter(is_active=True))
        ids = [token.pk for token in rows]
        takeovers = []
        if ids:
            Token.objects.filter(pk__in=ids).update(is_active=False, active_takeover=None)
            token_cache.invalidate_tokens(
                [token.key for token in rows], owners=[token.user_id for token in rows]
            )
            if any(token.active_takeover_id is not None for token in rows):
                takeovers = _close_takeovers(ids, reason)
    for token in rows:
        token.is_active = False
        token.active_takeover = None
    return _Ended(rows, reason, takeovers)


def _close_takeovers(token_ids: list[int], reason: str) -> list[UserTokenTakeover]:
    """Close the open takeovers of these ended tokens; return them."""
    now = timezone.now()
    end_reason = takeover_end_reason(reason)
    open_takeovers = UserTokenTakeover.objects.filter(token_id__in=token_ids, is_active=True)
    if not open_takeovers.update(is_active=False, ended_at=now, end_reason=end_reason):
        return []
    return list(UserTokenTakeover.objects.filter(token_id__in=token_ids, ended_at=now, end_reason=end_reason))


def announce_ended(ended: _Ended, request: HttpRequest | None) -> None:
    for token in ended.tokens:
        signals.token_revoked.send(sender=Token, request=request, token=token, reason=ended.reason)
    end_reason = takeover_end_reason(ended.reason)
    for record in ended.takeovers:
        signals.takeover_ended.send(
            sender=UserTokenTakeover, request=request, takeover=record, reason=end_reason
        )


def end_takeover(
    token: Token, reason: str, *, request: HttpRequest | None = None, ended_at: datetime | None = None
) -> bool:
    """End ``token``'s active takeover with ``reason`` (at ``ended_at``, default now); return
    whether this call ended it. ``takeover_ended`` is sent once per takeover."""
    takeover_id = token.active_takeover_id
    if takeover_id is None:
        return False
    with transaction.atomic():
        Token.objects.filter(pk=token.pk, active_takeover_id=takeover_id).update(active_takeover=None)
        closed = UserTokenTakeover.objects.filter(pk=takeover_id, is_active=True).update(
            is_active=False, ended_at=ended_at or timezone.now(), end_reason=reason
        )
    token_cache.invalidate_tokens([token.key], owners=[token.user_id])
    token.active_takeover = None
    if closed:
        record = UserTokenTakeover.objects.get(pk=takeover_id)
        signals.takeover_ended.send(sender=UserTokenTakeover, request=request, takeover=record, reason=reason)
    return bool(closed)


def end_stale_sessions(user: AbstractBaseUser, *, request: HttpRequest | None = None) -> int:
    """End what a password change of ``user`` invalidated; return how many tokens ended.

    Their tokens and device keys signed with another password, and takeovers of them begun before
    it. Without this they would stop working but stay listed as active.
    """
    if not hasattr(user, "get_session_auth_hash"):
        return 0
    stale = _signed_with_another_password(Token, user)
    if stale:
        stale = end_tokens(Token.objects.filter(pk__in=stale), RevokeReason.PASSWORD_CHANGED, request=request)
    devices = _signed_with_another_password(DeviceKey, user)
    if devices:
        DeviceKey.objects.filter(pk__in=devices).update(is_active=False)
    end_takeovers_of_changed_target(user, request=request)
    return len(stale)


def _signed_with_another_password(model: type[Token | DeviceKey], user: AbstractBaseUser) -> list[int]:
    rows = model.objects.filter(user=user, is_active=True).values_list("pk", "session_auth_hash")
    return [pk for pk, stored in rows if not rules.session_hash_matches(stored, user)]


def end_takeovers_of_changed_target(user: AbstractBaseUser, *, request: HttpRequest | None = None) -> None:
    """End the takeovers of ``user`` begun before their password changed."""
    tokens = Token.objects.select_related("active_takeover").filter(active_takeover__user=user)
    for token in tokens:
        if not rules.session_hash_matches(token.active_takeover.session_auth_hash, user):
            end_takeover(token, TakeoverEndReason.TARGET_CHANGED, request=request)


def delete_tokens(tokens: QuerySet[Token], *, request: HttpRequest | None = None) -> int:
    """End the active tokens among ``tokens`` (reason ``DELETED``), then delete them all; return how
    many were deleted. ``token_revoked`` and ``takeover_ended`` are sent once each, after commit."""
    with transaction.atomic():
        ended = end_rows(tokens, RevokeReason.DELETED)
        ids = list(tokens.values_list("pk", flat=True))
        Token.objects.filter(pk__in=ids).delete()
    announce_ended(ended, request)
    return len(ids)


def delete_stale_tokens(limit: int, *, before_delete: Callable[[list[Token]], object] | None = None) -> int:
    """Delete up to ``limit`` ended or expired tokens (oldest first); return how many.

    A takeover still open on one is closed first (``takeover_ended`` once each): at the token's
    expiry with ``EXPIRED``, or now with ``TOKEN_REVOKED`` for an ended token whose record a crash
    left open. The batch is invalidated in the cache with one call. ``before_delete`` sees the
    rows (``key``, ``user_id``) before they go.
    """
    now = timezone.now()
    stale = Token.objects.filter(Q(is_active=False) | Q(expires_at__lte=now)).order_by("pk")
    # Ids first, then by id: sliced deletes and LIMIT subqueries fail on MariaDB.
    rows = list(stale.only("pk", "key", "user_id", "is_active", "expires_at")[:limit])
    if not rows:
        return 0
    ids = [token.pk for token in rows]
    with transaction.atomic():
        closed = _close_takeovers_of_stale(rows, now)
        token_cache.invalidate_tokens([token.key for token in rows])
        if before_delete is not None:
            before_delete(rows)
        Token.objects.filter(pk__in=ids).delete()
    for record in closed:
        signals.takeover_ended.send(
            sender=UserTokenTakeover, request=None, takeover=record, reason=record.end_reason
        )
    return len(ids)


def _close_takeovers_of_stale(rows: list[Token], now: datetime) -> list[UserTokenTakeover]:
    ids = [token.pk for token in rows]
    open_records = list(
        UserTokenTakeover.objects.select_for_update().filter(token_id__in=ids, is_active=True).order_by("pk")
    )
    if not open_records:
        return []
    expired_at = {token.pk: token.expires_at for token in rows if token.is_active and token.expires_at <= now}
    for record in open_records:
        record.is_active = False
        if record.token_id in expired_at:
            record.ended_at, record.end_reason = expired_at[record.token_id], TakeoverEndReason.EXPIRED
        else:
            record.ended_at, record.end_reason = now, TakeoverEndReason.TOKEN_REVOKED
    UserTokenTakeover.objects.bulk_update(open_records, ["is_active", "ended_at", "end_reason"])
    Token.objects.filter(pk__in=ids, active_takeover__isnull=False).update(active_takeover=None)
    return open_records
