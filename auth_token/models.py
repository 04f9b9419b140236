from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from user_agents import parse as parse_user_agent
from user_agents.parsers import UserAgent

from auth_token.reasons import TakeoverEndReason

USER_AGENT_LENGTH = 512
DEVICE_UUID_LENGTH = 64
HEADER, COOKIE = "header", "cookie"


@lru_cache(maxsize=1024)
def parsed_user_agent(value: str) -> UserAgent:
    """Return the parsed user agent; memoised because parsing is slow and strings repeat."""
    return parse_user_agent(value)


class UserAgentMixin:
    """Display helpers over the stored ``user_agent``, parsed lazily and never on the request path."""

    @property
    def user_agent_info(self) -> UserAgent:
        return parsed_user_agent(self.user_agent or "")

    @property
    def browser(self) -> str:
        return self.user_agent_info.browser.family

    @property
    def os(self) -> str:
        return self.user_agent_info.os.family

    @property
    def device_type(self) -> str:
        info = self.user_agent_info
        for kind in ("mobile", "tablet", "pc", "bot"):
            if getattr(info, f"is_{kind}"):
                return kind
        return "other"

    @property
    def client_name(self) -> str:
        """The browser and system, as a person names them: "Chrome on macOS"."""
        browser = _known(self.browser)
        system = _known(self.os)
        system = OS_NAMES.get(system, system)
        if browser and system:
            return _("%(browser)s on %(os)s") % {"browser": browser, "os": system}
        return browser or system or str(_("Unknown browser"))

    @property
    def display_name(self) -> str:
        """The name given at login, else ``client_name``: derived for display, never stored."""
        return self.name or self.client_name


# How user-agents names systems, and how people do.
OS_NAMES = {"Mac OS X": "macOS"}


def _known(family: str) -> str:
    return "" if family in ("", "Other") else family


class Client(models.Model):
    """An API client (the web app, a CLI, a mobile app, a kiosk): a policy for the tokens its
    logins get. Every field left empty falls back to the settings."""

    name = models.SlugField(_("name"), max_length=50, unique=True)
    idle_age = models.PositiveIntegerField(
        _("idle lifetime"),
        null=True,
        blank=True,
        help_text=_("Seconds; empty: AUTH_TOKEN_DEFAULT_TOKEN_AGE."),
    )
    remember_age = models.PositiveIntegerField(
        _("“remember me” idle lifetime"),
        null=True,
        blank=True,
        help_text=_("Seconds; empty: AUTH_TOKEN_MAX_TOKEN_AGE."),
    )
    absolute_age = models.PositiveIntegerField(
        _("absolute lifetime"),
        null=True,
        blank=True,
        help_text=_("Seconds from login that renewal never passes; empty: AUTH_TOKEN_ABSOLUTE_TOKEN_AGE."),
    )
    allow_cookie = models.BooleanField(_("allow the cookie"), default=True)
    allow_header = models.BooleanField(_("allow the header"), default=True)
    throttle_rate = models.CharField(
        _("throttle rate"),
        max_length=32,
        blank=True,
        help_text=_("Requests per user of this client, as DRF writes rates: “100/hour”. Empty: none."),
    )
    max_tokens_per_user = models.PositiveIntegerField(
        _("tokens per user"),
        null=True,
        blank=True,
        help_text=_("Active tokens a user may hold with this client; 1: a new login replaces the old token."),
    )
    allowed_scopes = models.JSONField(
        _("allowed scopes"),
        null=True,
        blank=True,
        help_text=_(
            "The widest scopes a token of this client may hold, as a list; empty: every declared scope."
        ),
    )
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class TokenKind(models.TextChoices):
    SESSION = "session", _("Session")  # a password login, in a browser or an API client
    PERSONAL = "personal", _("Personal access token")
    DEVICE = "device", _("Device")  # minted by a device login
    IMPORT = "import", _("Imported")  # a DRF authtoken key, imported


def every_scope() -> list[str]:
    """The default of ``Token.scopes``: every declared scope."""
    return ["*"]


class TokenQuerySet(models.QuerySet):
    def active(self) -> TokenQuerySet:
        """Return the tokens that still authenticate as far as the token row alone can tell."""
        return self.filter(is_active=True, expires_at__gt=timezone.now())

    def sessions(self) -> TokenQuerySet:
        """Every token but personal access tokens, which are listed and limited apart."""
        return self.exclude(kind=TokenKind.PERSONAL)

    def personal(self) -> TokenQuerySet:
        return self.filter(kind=TokenKind.PERSONAL)

    def sessions_of(self, user: Any) -> TokenQuerySet:
        """``user``'s active sessions as the page and the API list them: last used first."""
        return (
            self.active()
            .sessions()
            .filter(user=user)
            .select_related("client")
            .order_by("-last_access", "-pk")
        )

    def personal_tokens_of(self, user: Any) -> TokenQuerySet:
        """``user``'s active personal access tokens as the page and the API list them: newest first."""
        return self.active().personal().filter(user=user).order_by("-created_at")


class Token(UserAgentMixin, models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid4, unique=True, editable=False)
    key = models.CharField(_("key digest"), max_length=100, unique=True, editable=False)
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="authorization_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_access = models.DateTimeField(_("last access"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    is_active = models.BooleanField(_("is active"), default=True)
    expiration = models.BooleanField(
        _("expiration"),
        default=True,
        help_text=_("Short idle lifetime; unset for a preserved (“remember me”) token."),
    )
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_LENGTH, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # db_default as well: during a rolling upgrade, code that predates a column still inserts.
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=TokenKind.choices,
        default=TokenKind.SESSION,
        db_default=TokenKind.SESSION,
    )
    notified_at = models.DateTimeField(
        _("expiry notice sent at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When notify_expiring_tokens sent token_expiring for this token (once per token)."),
    )
    client = models.ForeignKey(
        Client,
        verbose_name=_("API client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tokens",
    )
    scopes = models.JSONField(
        _("scopes"),
        default=every_scope,
        db_default=Value(["*"], output_field=models.JSONField()),
        help_text=_('What the token may be used for: ["*"] for every declared scope, [] for none.'),
    )
    auth_slug = models.SlugField(_("authorization slug"), max_length=100, blank=True)
    backend = models.CharField(_("backend"), max_length=255)
    allowed_cookie = models.BooleanField(_("allowed in a cookie"), default=True)
    allowed_header = models.BooleanField(_("allowed in a header"), default=True)
    session_auth_hash = models.CharField(_("session auth hash"), max_length=128, blank=True)
    device = models.ForeignKey(
        "auth_token.DeviceKey",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tokens",
    )
    active_takeover = models.OneToOneField(
        "auth_token.UserTokenTakeover",
        verbose_name=_("active takeover"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TokenQuerySet.as_manager()

    # Where the resolver found the credential: HEADER, COOKIE or None (not from this request).
    source: str | None = None

    class Meta:
        verbose_name = _("authorization token")
        verbose_name_plural = _("authorization tokens")

    def __str__(self) -> str:
        return self.name or str(self.public_id)

    def __repr__(self) -> str:
        return f"<Token {self.public_id} user={self.user_id} active={self.is_active}>"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def time_to_expiration(self) -> timedelta:
        return self.time_left_at(timezone.now())

    def time_left_at(self, now: datetime) -> timedelta:
        """How long the token stays valid after ``now`` (zero once expired)."""
        return max(self.expires_at - now, timedelta(0))

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_from_header(self) -> bool:
        return self.source == HEADER

    @property
    def is_from_cookie(self) -> bool:
        return self.source == COOKIE


class TokenRelatedObject(models.Model):
    token = models.ForeignKey(
        Token, verbose_name=_("token"), on_delete=models.CASCADE, related_name="related_objects"
    )
    content_type = models.ForeignKey(ContentType, verbose_name=_("content type"), on_delete=models.CASCADE)
    object_id = models.CharField(_("object id"), max_length=255)
    content_object = GenericForeignKey("content_type", "object_id")

    class Meta:
        verbose_name = _("token related object")
        verbose_name_plural = _("token related objects")
        indexes = [models.Index(fields=["content_type", "object_id"], name="auth_token_related_obj")]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id}"


class UserTokenTakeover(UserAgentMixin, models.Model):
    """The audit record of one takeover; it outlives its token and both users."""

    token = models.ForeignKey(
        Token,
        verbose_name=_("token"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="takeovers",
    )
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("user taken over"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="user_token_takeovers",
    )
    actor_repr = models.CharField(_("actor"), max_length=255)
    user_repr = models.CharField(_("user taken over"), max_length=255)
    session_auth_hash = models.CharField(_("session auth hash of the user"), max_length=128)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_LENGTH, blank=True)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=32, blank=True, choices=TakeoverEndReason.choices
    )
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("user token takeover")
        verbose_name_plural = _("user token takeovers")
        permissions = [("takeover_user", _("Can take over another user"))]

    def __str__(self) -> str:
        return f"{self.actor_repr} → {self.user_repr}"


class DeviceKeyQuerySet(models.QuerySet):
    # ``services.register_device``, given by ``AuthTokenConfig.ready()``: the models sit below the
    # services and never import them.
    register_device: Callable[..., tuple[DeviceKey, str]]

    def get_or_create_token(self, uuid: str | UUID, user, user_agent: str = "") -> str:
        """Register the device (or re-activate it) and return its raw secret, shown this once.

        Raise ``DeviceKeyAlreadyExists`` when an active key exists for this (uuid, user).
        """
        return self.register_device(None, user, uuid, user_agent=user_agent)[1]


class DeviceKey(UserAgentMixin, models.Model):
    uuid = models.CharField(_("device UUID"), max_length=DEVICE_UUID_LENGTH)
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="device_keys",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    login_token = models.CharField(_("secret digest"), max_length=100, unique=True, editable=False)
    session_auth_hash = models.CharField(_("session auth hash"), max_length=128, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_LENGTH, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_login = models.DateTimeField(_("last login"), null=True, blank=True)

    objects = DeviceKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("device key")
        verbose_name_plural = _("device keys")
        constraints = [models.UniqueConstraint(fields=["uuid", "user"], name="auth_token_device_uuid_user")]

    def __str__(self) -> str:
        return self.name or self.uuid

    def __repr__(self) -> str:
        return f"<DeviceKey {self.pk} uuid={self.uuid} user={self.user_id} active={self.is_active}>"

    @property
    def display_name(self) -> str:
        """The name given at registration, else the app and system that registered it."""
        return self.name or (self.client_name if self.user_agent else str(_("Unnamed device")))


class PendingInvalidation(models.Model):
    """A token cache invalidation that could not reach the cache when it was made.

    Processes read tokens from the database while a row exists, and the first one that can reach
    the cache again replays it there and deletes it (``auth_token.journal``).
    """

    # JSON lists in text columns: no JSON support needed from the database (or a query to ask).
    users = models.TextField(_("user ids"), default="[]")
    tokens = models.TextField(_("token digests"), default="[]")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("pending cache invalidation")
        verbose_name_plural = _("pending cache invalidations")

    def __str__(self) -> str:
        return f"{len(self.user_ids)} users, {len(self.digests)} tokens, {self.created_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def of(cls, user_ids: Iterable[Any], digests: Iterable[str]) -> PendingInvalidation:
        return cls(users=json.dumps([str(user_id) for user_id in user_ids]), tokens=json.dumps(list(digests)))

    @property
    def user_ids(self) -> list[str]:
        return json.loads(self.users)

    @property
    def digests(self) -> list[str]:
        return json.loads(self.tokens)


class AnonymousToken:
    """Plays for tokens the role ``AnonymousUser`` plays for users."""

    pk = id = public_id = key = None
    name = auth_slug = backend = user_agent = session_auth_hash = browser = os = ""
    device_type = "other"
    created_at = last_access = expires_at = ip = device = active_takeover = source = None
    is_active = False
    is_expired = True
    is_authenticated = False
    is_from_header = is_from_cookie = False
    expiration = True
    allowed_cookie = allowed_header = False

    def __init__(self) -> None:
        self.user = AnonymousUser()

    def __str__(self) -> str:
        return "AnonymousToken"

    def __repr__(self) -> str:
        return "<AnonymousToken>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__)

    def __hash__(self) -> int:
        return 1

    @property
    def time_to_expiration(self) -> timedelta:
        return timedelta(0)

    def save(self, *args, **kwargs):
        raise NotImplementedError("An AnonymousToken cannot be saved.")

    def delete(self, *args, **kwargs):
        raise NotImplementedError("An AnonymousToken cannot be deleted.")
