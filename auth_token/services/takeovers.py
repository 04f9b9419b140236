"""Takeover: staff act as another user on their own token, with an audit record.

Start and end are conditional UPDATEs of ``Token.active_takeover``, so a token has at most one
active takeover however requests race. The target's ``last_login`` is never touched and
``user_logged_in`` never sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from auth_token import cache as token_cache
from auth_token import rules, signals
from auth_token import state as request_state
from auth_token.client_ip import client_ip
from auth_token.conf import settings
from auth_token.exceptions import TakeoverNotAllowed
from auth_token.models import Token, UserTokenTakeover
from auth_token.reasons import TakeoverEndReason
from auth_token.services._ending import end_takeover
from auth_token.services._request import clean_user_agent

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


def takeover(request: HttpRequest, user: AbstractBaseUser, *, reason: str = "") -> UserTokenTakeover:
    """Make the request's token act as ``user`` until released; return the audit record.

    Raise ``TakeoverNotAllowed`` when the rules refuse it, the token already has a takeover, or
    ``TAKEOVER_REQUIRE_REASON`` is on and ``reason`` is blank. The reason goes to the audit record.
    """
    reason = " ".join(reason.split())[:255]
    if settings.TAKEOVER_REQUIRE_REASON and not reason:
        raise TakeoverNotAllowed(_("Give a reason for the takeover."))
    token = getattr(request, "token", None)
    if not isinstance(token, Token):
        raise TakeoverNotAllowed(_("Log in first."))
    if token.active_takeover_id is not None:
        raise TakeoverNotAllowed(_("Release the current takeover first."))
    # The actor is re-read: never trust permissions cached on the request's user object.
    actor = get_user_model()._default_manager.get(pk=token.user_id)
    reason_refused = rules.takeover_refusal(actor, user)
    if reason_refused:
        raise TakeoverNotAllowed(reason_refused)
    with transaction.atomic():
        # Lock the token row first: inserting the record takes a shared lock on it (the foreign
        # key), and two such locks upgraded by the UPDATE below deadlock on MariaDB.
        free = Token.objects.select_for_update().filter(
            pk=token.pk, is_active=True, active_takeover__isnull=True
        )
        if not list(free.values_list("pk", flat=True)):
            raise TakeoverNotAllowed(_("Release the current takeover first."))
        record = UserTokenTakeover.objects.create(
            token=token,
            actor=actor,
            user=user,
            actor_repr=str(actor)[:255],
            user_repr=str(user)[:255],
            session_auth_hash=rules.session_hash_of(user),
            reason=reason,
            ip=client_ip(request),
            user_agent=clean_user_agent(request),
        )
        started = Token.objects.filter(pk=token.pk, is_active=True, active_takeover__isnull=True).update(
            active_takeover=record
        )
        if not started:
            raise TakeoverNotAllowed(_("Release the current takeover first."))
    token_cache.invalidate_tokens([token.key], owners=[token.user_id])
    token.active_takeover = record
    request_state.act_as(request, token, user)
    signals.takeover_started.send(sender=UserTokenTakeover, request=request, takeover=record)
    return record


def release_takeover(request: HttpRequest, *, reason: str = TakeoverEndReason.RELEASED) -> bool:
    """End the request's takeover; always possible, even if the user taken over is gone."""
    token = getattr(request, "token", None)
    if not isinstance(token, Token) or token.active_takeover_id is None:
        return False
    ended = end_takeover(token, reason, request=request)
    request_state.act_as(request, token, token.user)
    return ended


def recheck_takeover(token: Token, *, request: HttpRequest | None = None) -> bool:
    """Apply the full rule to ``token``'s takeover (on renewal and permission changes).

    End it when it no longer holds; return whether it still does.
    """
    record = token.active_takeover
    if record is None:
        return False
    # The actor is re-read: never trust permissions cached on the request's user object.
    actor = get_user_model()._default_manager.get(pk=token.user_id)
    reason = rules.takeover_end_reason(record, actor)
    if reason is not None:
        end_takeover(token, reason, request=request)
        return False
    return True


def recheck_takeovers_of(user_ids: Any) -> None:
    """Re-apply the rule to the active takeovers by or of these users (their rights changed)."""
    user_ids = list(user_ids)
    tokens = Token.objects.select_related("active_takeover__user").filter(
        Q(user_id__in=user_ids) | Q(active_takeover__user_id__in=user_ids), active_takeover__isnull=False
    )
    for token in tokens:
        recheck_takeover(token)


async def atakeover(request: HttpRequest, user: AbstractBaseUser, *, reason: str = "") -> UserTokenTakeover:
    """See takeover()."""
    return await sync_to_async(takeover)(request, user, reason=reason)


async def arelease_takeover(request: HttpRequest, *, reason: str = TakeoverEndReason.RELEASED) -> bool:
    """See release_takeover()."""
    return await sync_to_async(release_takeover)(request, reason=reason)
