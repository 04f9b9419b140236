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
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from auth_token import cache as token_cache
from auth_token import rules, signals
from auth_token import state as request_state
from auth_token.client_ip import client_ip
from auth_token.conf import settings
from auth_token.exceptions import TakeoverNotAllowed
from auth_token.models import Token, UserTokenTakeover
from auth_token.reasons import TakeoverEndReason
from auth_token.services.tokens import clean_user_agent

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

PERMISSION = "auth_token.takeover_user"
TOKEN_REVOKED = TakeoverEndReason.TOKEN_REVOKED


def default_takeover_permission(*, actor: AbstractBaseUser, target: AbstractBaseUser) -> bool:
    """Staff with the ``auth_token.takeover_user`` permission, over users with no more rights.

    Acting as a user who holds a permission or flag the actor lacks would lend it to the actor
    (and Django's admin history would blame the target).
    """
    return actor.has_perm(PERMISSION) and not lends_privileges(actor=actor, target=target)


def lends_privileges(*, actor: AbstractBaseUser, target: AbstractBaseUser) -> bool:
    """Return whether ``target`` holds a flag or a permission (direct, by group or by backend) that
    ``actor`` lacks."""
    if getattr(actor, "is_superuser", False):
        return False  # an active superuser holds every permission
    for flag in ("is_staff", "is_superuser"):
        if getattr(target, flag, False) and not getattr(actor, flag, False):
            return True
    if not hasattr(target, "get_all_permissions"):
        return False
    return not target.get_all_permissions() <= actor.get_all_permissions()


def refusal(actor: AbstractBaseUser, target: AbstractBaseUser) -> str | None:
    """Return why ``actor`` may not take over ``target`` (None: allowed).

    The fixed rules (active staff, not oneself, an active target, a superuser target only for a
    superuser) come first; ``TAKEOVER_PERMISSION`` replaces the rest: the permission, and the
    target holding no right the actor lacks.
    """
    if actor.pk == target.pk:
        return _("You cannot take over yourself.")
    if not (getattr(actor, "is_active", True) and getattr(actor, "is_staff", False)):
        # Also checked on every request, from the columns the token lookup returns.
        return _("Only active staff can take over users.")
    if not getattr(target, "is_active", True):
        return _("An inactive user cannot be taken over.")
    if getattr(target, "is_superuser", False) and not getattr(actor, "is_superuser", False):
        return _("Only a superuser can take over a superuser.")
    rule = settings.TAKEOVER_PERMISSION
    if rule:
        check = import_string(rule) if isinstance(rule, str) else rule
        allowed = check(actor=actor, target=target)
    else:
        allowed = actor.has_perm(PERMISSION)
        if allowed and lends_privileges(actor=actor, target=target):
            return _("This user has permissions that you do not have.")
    if not allowed:
        return _("You do not have permission to take over this user.")
    return None


def takeover(request: HttpRequest, user: AbstractBaseUser, *, reason: str = "") -> UserTokenTakeover:
    """Make the request's token act as ``user`` until released; return the audit record.

    Raise ``TakeoverNotAllowed`` when the rules refuse it or the token already has a takeover.
    """
    token = getattr(request, "token", None)
    if not isinstance(token, Token):
        raise TakeoverNotAllowed(_("Log in first."))
    if token.active_takeover_id is not None:
        raise TakeoverNotAllowed(_("Release the current takeover first."))
    # The actor is re-read: never trust permissions cached on the request's user object.
    actor = get_user_model()._default_manager.get(pk=token.user_id)
    reason_refused = refusal(actor, user)
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
            session_auth_hash=user.get_session_auth_hash(),
            reason=reason[:255],
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


def recheck_takeover(token: Token, *, request: HttpRequest | None = None) -> bool:
    """Apply the full rule to ``token``'s takeover (on renewal and permission changes).

    End it when it no longer holds; return whether it still does.
    """
    record = token.active_takeover
    if record is None:
        return False
    target = record.user
    target_unchanged = (
        target is not None
        and getattr(target, "is_active", True)
        and rules.session_hash_matches(record.session_auth_hash, target)
    )
    if not target_unchanged:
        end_takeover(token, TakeoverEndReason.TARGET_CHANGED, request=request)
        return False
    actor = get_user_model()._default_manager.get(pk=token.user_id)
    if refusal(actor, target):
        end_takeover(token, TakeoverEndReason.PERMISSION, request=request)
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


def end_takeovers_of_changed_target(user: AbstractBaseUser, *, request: HttpRequest | None = None) -> None:
    """End the takeovers of ``user`` begun before their password changed."""
    tokens = Token.objects.select_related("active_takeover").filter(active_takeover__user=user)
    for token in tokens:
        if not rules.session_hash_matches(token.active_takeover.session_auth_hash, user):
            end_takeover(token, TakeoverEndReason.TARGET_CHANGED, request=request)


def close_takeovers_of_stale_tokens(token_ids: list[int]) -> int:
    """Close the takeovers still open on these ended or expired tokens (before ``cleartokens``
    deletes them); an expired token's takeover ends when the token expired. Return how many."""
    now = timezone.now()
    tokens = Token.objects.select_related("active_takeover").filter(
        pk__in=token_ids, active_takeover__isnull=False
    )
    closed = 0
    for token in tokens:
        if token.is_active and token.expires_at <= now:
            closed += end_takeover(token, TakeoverEndReason.EXPIRED, ended_at=token.expires_at)
        else:
            closed += end_takeover(token, TakeoverEndReason.TOKEN_REVOKED)
    # Rows left open by a crash after their token was ended (revoke() ends the token row first).
    closed += UserTokenTakeover.objects.filter(token_id__in=token_ids, is_active=True).update(
        is_active=False, ended_at=now, end_reason=TakeoverEndReason.TOKEN_REVOKED
    )
    return closed


async def atakeover(request: HttpRequest, user: AbstractBaseUser, *, reason: str = "") -> UserTokenTakeover:
    """See takeover()."""
    return await sync_to_async(takeover)(request, user, reason=reason)


async def arelease_takeover(request: HttpRequest, *, reason: str = TakeoverEndReason.RELEASED) -> bool:
    """See release_takeover()."""
    return await sync_to_async(release_takeover)(request, reason=reason)
