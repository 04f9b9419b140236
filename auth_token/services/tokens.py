"""Logging in and out and revoking: the token actions, and the per-user token limit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, user_logged_in, user_logged_out
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.middleware.csrf import rotate_token
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from auth_token import keys, rules, signals
from auth_token import scopes as token_scopes
from auth_token import state as request_state
from auth_token.client_ip import client_ip
from auth_token.conf import settings
from auth_token.exceptions import InvalidClient
from auth_token.models import Client, DeviceKey, Token, TokenKind
from auth_token.reasons import RevokeReason, TakeoverEndReason
from auth_token.services._ending import announce_ended, end_rows, end_stale_sessions, end_tokens
from auth_token.services._request import clean_user_agent, in_service, refuse_during_takeover, service_call
from auth_token.services.renewal import expiry
from auth_token.services.takeovers import release_takeover
from auth_token.state import get_state

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest


@sensitive_variables("raw")  # kept out of error reports, as Django's authenticate() does
def login(
    request: HttpRequest | None,
    user: AbstractBaseUser,
    *,
    expiration: bool = True,
    name: str | None = None,
    auth_slug: str | None = None,
    related_objs: Iterable[Model] = (),
    backend: str | None = None,
    allowed_cookie: bool = True,
    allowed_header: bool = True,
    device: DeviceKey | None = None,
    scopes: Iterable[str] | None = None,
    client: Client | None = None,
) -> tuple[Token, str]:
    """Create a token for ``user`` and return it with its raw value, which is never seen again.

    With a request, the request acts as ``user`` from now on and, for a cookie-allowed token, the
    middleware sets the cookie and the request's previous cookie token is revoked. ``scopes``
    (None: every scope) narrow what the token may call; ``scopes.UnknownScope`` (a ``ValueError``)
    refuses an undeclared one. An API ``client`` brings its policy: its transports, scopes,
    lifetimes and token limit; ``InvalidClient`` refuses an inactive one, or one that would leave
    the token no transport. Every refusal comes before anything is written.
    """
    refuse_during_takeover(request)
    if client is not None:
        if not client.is_active:
            raise InvalidClient.unknown(client.name)
        allowed_cookie, allowed_header = (
            allowed_cookie and client.allow_cookie,
            allowed_header and client.allow_header,
        )
        if not (allowed_cookie or allowed_header):
            raise InvalidClient(
                _("The client %(name)s does not accept this kind of login.") % {"name": client.name}
            )
    granted = token_scopes.clean(scopes, within=None if client is None else client.allowed_scopes)
    token, raw = _new_token(
        request,
        user,
        name=name or "",
        auth_slug=auth_slug or "",
        backend=_backend_path(user, backend),
        expiration=expiration,
        allowed_cookie=allowed_cookie,
        allowed_header=allowed_header,
        device=device,
        kind=TokenKind.DEVICE if device is not None else TokenKind.SESSION,
        scopes=granted,
        client=client,
    )
    _insert_within_limit(token, related_objs, request)
    state = get_state(request)
    sets_cookie = state is not None and allowed_cookie and settings.COOKIE
    if sets_cookie:
        previous = state.get_token()
        if isinstance(previous, Token) and previous.is_from_cookie:
            revoke(previous, request=request, reason=RevokeReason.REPLACED)
        rotate_token(request)
    if request is not None:
        _cycle_session(request, user)
    request_state.issue(request, token, user, raw)
    signals.token_created.send(sender=Token, request=request, token=token)
    if not in_service(state):
        with service_call(state):
            user_logged_in.send(sender=user.__class__, request=request, user=user)
    return token, raw


@sensitive_variables("raw")
def _new_token(request: HttpRequest | None, user: AbstractBaseUser, **fields: Any) -> tuple[Token, str]:
    """Return an unsaved token of ``user`` and its raw value."""
    raw = keys.generate()
    now = timezone.now()
    token = Token(
        key=keys.digest(raw),
        user=user,
        created_at=now,
        last_access=now,
        expires_at=expiry(now, now, fields["expiration"], fields.get("client")),
        ip=client_ip(request),
        user_agent=clean_user_agent(request),
        session_auth_hash=rules.session_hash_of(user),
        **fields,
    )
    return token, raw


def _backend_path(user: AbstractBaseUser, backend: str | None) -> str:
    """Return the dotted path to store, as Django's login() picks it (a class would never load)."""
    path = backend or getattr(user, "backend", None)
    if path:
        if not isinstance(path, str):
            raise TypeError(f"backend must be a dotted import path string (got {path!r}).")
        return path
    backends = django_settings.AUTHENTICATION_BACKENDS
    if len(backends) == 1:
        return backends[0]
    raise ValueError(
        "You have multiple authentication backends configured and therefore must provide the "
        "`backend` argument or set the `backend` attribute on the user."
    )


def _insert_within_limit(token: Token, related_objs: Iterable[Model], request: HttpRequest | None) -> None:
    """Insert ``token`` and end the user's oldest tokens over MAX_TOKENS_PER_USER, and over its
    client's ``max_tokens_per_user`` among the tokens of that client.

    The user row lock serialises concurrent logins of one user; the locking read of the ids sees
    rows committed by them even under REPEATABLE READ.
    """
    limits = [({}, settings.MAX_TOKENS_PER_USER)]
    if token.client is not None:
        limits.append(({"client": token.client}, token.client.max_tokens_per_user))
    # Personal access tokens neither count against a login's limit nor are evicted by one.
    limits = [(among, limit) for among, limit in limits if limit and token.kind != TokenKind.PERSONAL]
    user = token.user
    with transaction.atomic():
        if limits and connection.features.has_select_for_update:
            list(type(user)._default_manager.select_for_update().filter(pk=user.pk).values_list("pk"))
        token.save(force_insert=True)
        related = [
            token.related_objects.model(
                token=token,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
            )
            for obj in related_objs
        ]
        if related:
            token.related_objects.model.objects.bulk_create(related)
        if not limits:
            return
        over = set()
        for among, limit in limits:
            ids = list(
                Token.objects.select_for_update()
                .sessions()
                .filter(user=user, is_active=True, expires_at__gt=token.created_at, **among)
                .order_by("-created_at", "-pk")
                .values_list("pk", flat=True)
            )
            over.update(ids[limit:])
        # Explicit ids: MariaDB rejects LIMIT inside IN (subquery).
        evicted = end_rows(Token.objects.filter(pk__in=over), RevokeReason.LIMIT)
    announce_ended(evicted, request)


def _cycle_session(request: HttpRequest, user: AbstractBaseUser) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.get(SESSION_KEY, str(user.pk)) != str(user.pk):
        session.flush()
    elif not session.is_empty():
        session.cycle_key()


def logout(request: HttpRequest) -> None:
    """End the request's token and session; the middleware deletes the cookie.

    During a takeover it ends the takeover only; a second logout ends the token.
    """
    state = get_state(request)
    token = state.get_token() if state is not None else getattr(request, "token", None)
    if isinstance(token, Token) and token.active_takeover_id is not None:
        release_takeover(request, reason=TakeoverEndReason.LOGOUT)
        return
    user = token.user if isinstance(token, Token) else None
    if isinstance(token, Token):
        revoke(token, request=request, reason=RevokeReason.LOGOUT)
    if not in_service(state):
        with service_call(state):
            user_logged_out.send(sender=user.__class__, request=request, user=user)
    if hasattr(request, "session"):
        request.session.flush()
    request_state.end(request)


def logout_all(
    user: AbstractBaseUser,
    *,
    keep: Token | None = None,
    devices: bool = True,
    request: HttpRequest | None = None,
) -> int:
    """Revoke every active token of ``user`` except ``keep``; return how many were revoked.

    With ``devices``, the user's device keys are deactivated too.
    """
    refuse_during_takeover(request)
    others = Token.objects.filter(user=user).exclude(pk=keep.pk if keep is not None else None)
    with transaction.atomic():
        if devices:
            # Lock the devices, then the tokens, before changing either: a device login or
            # registration racing this re-checks its row after writing (devices.py), and these
            # locks make that re-check wait for this commit.
            list(DeviceKey.objects.select_for_update().filter(user=user, is_active=True).values_list("pk"))
        ended = end_rows(others, RevokeReason.LOGOUT_ALL)
        if devices:
            DeviceKey.objects.filter(user=user, is_active=True).update(is_active=False)
    announce_ended(ended, request)
    return len(ended.tokens)


def revoke(token: Token, *, request: HttpRequest | None = None, reason: str = RevokeReason.REVOKED) -> bool:
    """Deactivate ``token`` and end its takeover; return whether this call did it.

    During a takeover, a request may end its own token only.
    """
    if token.pk != getattr(getattr(request, "token", None), "pk", None):
        refuse_during_takeover(request)
    revoked = bool(end_tokens(Token.objects.filter(pk=token.pk), reason, request=request))
    token.is_active = False
    if revoked:
        token.active_takeover = None
    return revoked


@sensitive_variables("raw")
def update_session_auth_hash(request: HttpRequest, user: AbstractBaseUser) -> tuple[Token, str] | None:
    """Keep ``user`` signed in on this request after they changed their own password.

    The request's token is replaced by a new one (a stolen copy of the old one stops working, as
    Django's ``update_session_auth_hash`` cycles the session key); return it with its raw value,
    which a project's API view hands to its header client. A cookie token's cookie is re-set.
    Every other token and device key of the user ends. Return None when the request has no token
    of ``user``.
    """
    refuse_during_takeover(request)
    state = get_state(request)
    token = state.get_token() if state is not None else getattr(request, "token", None)
    end_stale_sessions(user, request=request)
    if not isinstance(token, Token) or token.user_id != user.pk:
        return None
    revoke(token, request=request, reason=RevokeReason.PASSWORD_CHANGED)
    new, raw = _new_token(
        request,
        user,
        name=token.name,
        auth_slug=token.auth_slug,
        backend=token.backend,
        expiration=token.expiration,
        allowed_cookie=token.allowed_cookie,
        allowed_header=token.allowed_header,
        device=token.device,
        kind=token.kind,
        scopes=list(token.scopes),
        client=token.client,
    )
    related = [obj.content_object for obj in token.related_objects.all()]
    _insert_within_limit(new, [obj for obj in related if obj is not None], request)
    new.source = token.source
    session = getattr(request, "session", None)
    if session is not None and not session.is_empty():
        session.cycle_key()
    request_state.issue(request, new, user, raw if token.is_from_cookie else None)
    signals.token_created.send(sender=Token, request=request, token=new)
    return new, raw


@sensitive_variables("pairs", "key")
def import_legacy_tokens(pairs: Iterable[tuple[str, AbstractBaseUser]], *, backend: str) -> int:
    """Create header-only tokens for DRF authtoken ``(key, user)`` pairs; return how many were new.

    Only the digest of each key is stored; keys imported before are skipped, so it can run again.
    """
    digests = {keys.legacy_digest(key): user for key, user in pairs}
    existing = set(Token.objects.filter(key__in=digests).values_list("key", flat=True))
    now = timezone.now()
    new = [
        Token(
            key=digest,
            user=user,
            name="Imported from DRF",
            auth_slug="drf-import",
            backend=backend,
            expiration=False,
            created_at=now,
            last_access=now,
            expires_at=expiry(now, now, expiration=False),
            allowed_cookie=False,
            kind=TokenKind.IMPORT,
            session_auth_hash=rules.session_hash_of(user),
        )
        for digest, user in digests.items()
        if digest not in existing
    ]
    Token.objects.bulk_create(new)
    return len(new)


async def alogin(request: HttpRequest | None, user: AbstractBaseUser, **options) -> tuple[Token, str]:
    """See login()."""
    return await sync_to_async(login)(request, user, **options)


async def alogout(request: HttpRequest) -> None:
    """See logout()."""
    await sync_to_async(logout)(request)


async def alogout_all(user: AbstractBaseUser, **options: Any) -> int:
    """See logout_all()."""
    return await sync_to_async(logout_all)(user, **options)


async def arevoke(
    token: Token, *, request: HttpRequest | None = None, reason: str = RevokeReason.REVOKED
) -> bool:
    """See revoke()."""
    return await sync_to_async(revoke)(token, request=request, reason=reason)


async def aupdate_session_auth_hash(request: HttpRequest, user: AbstractBaseUser) -> tuple[Token, str] | None:
    """See update_session_auth_hash()."""
    return await sync_to_async(update_session_auth_hash)(request, user)
