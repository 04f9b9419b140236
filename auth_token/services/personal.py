"""Personal access tokens: named, scoped, header-only tokens that a user creates for a script or
a tool, with the expiry they choose; never renewed by use."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from auth_token import rules, signals
from auth_token import scopes as token_scopes
from auth_token.backends import default_backend
from auth_token.conf import settings
from auth_token.exceptions import InvalidPersonalToken, PersonalTokenRefused
from auth_token.models import Token, TokenKind
from auth_token.services._request import refuse_during_takeover
from auth_token.services.tokens import _backend_path, _insert_within_limit, _new_token

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

# "Never expires" (with AUTH_TOKEN_PAT_ALLOW_NO_EXPIRY): expires_at stays a date, far ahead.
NO_EXPIRY = datetime(9999, 12, 31, tzinfo=UTC)


@sensitive_variables("raw")
def create_personal_token(
    request: HttpRequest | None,
    *,
    name: str,
    scopes: Iterable[str] | None,
    expires_at: datetime | None = None,
    user: AbstractBaseUser | None = None,
) -> tuple[Token, str]:
    """Create a personal access token and return it with its raw value, shown once.

    With a request, for its user: refused during a takeover, unless the request comes with a
    browser session or a token holding ``tokens:write``, and for a scope the request's own token
    lacks. Without one (a management command), for ``user``. The name must differ from the user's
    other active personal tokens. ``expires_at`` None: the longest
    allowed, ``PAT_MAX_AGE``; ``NO_EXPIRY`` only with ``PAT_ALLOW_NO_EXPIRY``. Every refusal
    (``PersonalTokenRefused``, ``InvalidPersonalToken``, ``UnknownScope``) comes before anything
    is written.
    """
    refuse_during_takeover(request)
    within = None
    if request is not None:
        creator = getattr(request, "token", None)
        if not rules.may_create_personal_token(creator, getattr(creator, "source", None)):
            raise PersonalTokenRefused(_("Creating a personal access token needs the tokens:write scope."))
        user = creator.user
        within = creator.scopes
    if user is None:
        raise TypeError("create_personal_token() needs a request or a user.")
    name = " ".join(str(name or "").split())[:100]
    if not name:
        raise InvalidPersonalToken(_("Give the token a name."))
    # A name tells a user's tokens apart; a form submitted twice (a reload) must not mint twice.
    if Token.objects.active().personal().filter(user=user, name=name).exists():
        raise InvalidPersonalToken(
            _("You already have a personal access token named “%(name)s”.") % {"name": name}
        )
    granted = token_scopes.clean(scopes, within=within, cap=token_scopes.CREATOR_CAP)
    expires_at = personal_token_expiry(expires_at)
    token, raw = _new_token(
        request,
        user,
        name=name,
        auth_slug="",
        # The creator's backend; from the command line, the first that loads users.
        backend=_backend_path(
            user, getattr(getattr(request, "token", None), "backend", None) or default_backend()
        ),
        expiration=False,
        allowed_cookie=False,
        allowed_header=True,
        device=None,
        kind=TokenKind.PERSONAL,
        scopes=granted,
        client=None,
    )
    token.expires_at = expires_at
    _insert_within_limit(token, (), request)
    signals.token_created.send(sender=Token, request=request, token=token)
    return token, raw


def personal_token_expiry(expires_at: datetime | None, *, now: datetime | None = None) -> datetime:
    """The expiry to store for a personal token asked to expire at ``expires_at``."""
    now = timezone.now() if now is None else now
    longest = now + timedelta(seconds=settings.PAT_MAX_AGE)
    if expires_at is None:
        return longest
    if expires_at == NO_EXPIRY:
        if not settings.PAT_ALLOW_NO_EXPIRY:
            raise InvalidPersonalToken(_("This site does not allow tokens that never expire."))
        return NO_EXPIRY
    if expires_at <= now:
        raise InvalidPersonalToken(_("The expiry must be in the future."))
    if expires_at > longest:
        raise InvalidPersonalToken(
            _("A personal access token lives at most %(days)d days.")
            % {"days": settings.PAT_MAX_AGE // 86400}
        )
    return expires_at


async def acreate_personal_token(request: HttpRequest | None, **options) -> tuple[Token, str]:
    """See create_personal_token()."""
    return await sync_to_async(create_personal_token)(request, **options)


def notify_expiring_tokens(days: int | None = None, *, now: datetime | None = None) -> int:
    """Send ``token_expiring`` for each active personal access token that expires within ``days``
    (``PAT_NOTIFY_DAYS``) and was not told yet; return how many. Once per token: the conditional
    UPDATE of ``notified_at`` lets only one run (or process) send it."""
    now = timezone.now() if now is None else now
    days = settings.PAT_NOTIFY_DAYS if days is None else days
    due = (
        Token.objects.personal()
        .filter(
            is_active=True,
            notified_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .select_related("user")
    )
    sent = 0
    for token in due:
        if Token.objects.filter(pk=token.pk, notified_at__isnull=True).update(notified_at=now):
            token.notified_at = now
            days_left = (token.expires_at - now).days
            signals.token_expiring.send(sender=Token, token=token, days_left=days_left)
            sent += 1
    return sent
