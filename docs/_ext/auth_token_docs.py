"""Sphinx extension of the manual: the settings table, generated from ``auth_token.conf.DEFAULTS``.

``.. auth-token-settings::`` renders one entry per setting: its name, its default (read from
``DEFAULTS``, so the list cannot drift) and the type and meaning kept in ``SETTINGS`` below. A
setting without an entry here, or an entry for a setting that no longer exists, fails the build
(and ``tests/test_docs.py``).
"""

from __future__ import annotations

import sys

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

# name -> (type, meaning). Meanings are reStructuredText.
SETTINGS: dict[str, tuple[str, str]] = {
    "HEADER": ("bool", "Accept a token in the ``HEADER_NAME`` header."),
    "HEADER_NAME": (
        "str",
        "Request header read for the token. No underscores: ASGI servers and most proxies drop such "
        "headers (check ``auth_token.E003``).",
    ),
    "HEADER_TOKEN_TYPE": (
        "str",
        "Scheme of our header, compared case-insensitively: ``<scheme> <token>``, one space, one "
        "token. A header of another scheme is ignored as if absent.",
    ),
    "LEGACY_HEADER_TOKEN_TYPES": (
        "tuple[str, ...]",
        "Extra schemes whose 40-hex value is looked up among tokens imported from DRF's authtoken, "
        'e.g. ``("Token",)`` during a migration (:doc:`/howto/migrate-drf`).',
    ),
    "COOKIE": ("bool", "Accept a token in the ``COOKIE_NAME`` cookie (CSRF is then enforced)."),
    "COOKIE_NAME": ("str", "Name of the token cookie. A ``__Host-`` name is checked (``auth_token.E004``)."),
    "COOKIE_HTTPONLY": ("bool", "HttpOnly flag of the cookie: scripts cannot read the token."),
    "COOKIE_SECURE": ("bool", "Secure flag of the cookie. ``False`` only for plain-HTTP development."),
    "COOKIE_SAMESITE": ("str | None", 'SameSite attribute: ``"Lax"``, ``"Strict"``, ``"None"`` or ``None``.'),
    "COOKIE_DOMAIN": ("str | None", "Domain attribute of the cookie; ``None`` for the host only."),
    "COOKIE_PATH": ("str", "Path attribute of the cookie."),
    "DEFAULT_TOKEN_AGE": ("int (seconds)", "Idle lifetime of a token (``expiration=True``): one hour."),
    "MAX_TOKEN_AGE": (
        "int (seconds)",
        'Idle lifetime of a "remember me" token (``expiration=False``), device and imported tokens: 14 days.',
    ),
    "ABSOLUTE_TOKEN_AGE": (
        "int (seconds) | None",
        "Cap counted from ``created_at`` that renewal never passes: 30 days. ``None``: no cap.",
    ),
    "RENEWAL_INTERVAL": (
        "int (seconds)",
        "At most one renewal write per token per interval; also the longest a cache entry lives.",
    ),
    "RENEWAL_EXEMPT_HEADER": (
        "str",
        "A request carrying this header does not renew its token (polling clients, health checks).",
    ),
    "MAX_TOKENS_PER_USER": (
        "int | None",
        'Active tokens a user may hold; a login over the limit revokes the oldest (reason ``"limit"``).',
    ),
    "KEY_PREFIX": (
        "str",
        (
            "Prefix of new tokens, ``[a-z][a-z0-9]{0,9}``; device secrets use it followed by ``d``. "
            "Tokens and secrets issued under an earlier prefix keep working."
        ),
    ),
    "CACHE": (
        "str | None",
        "Alias in ``CACHES`` of the token cache; ``None``: no cache (:doc:`/howto/redis-cache`).",
    ),
    "LOCAL_CACHE": (
        "bool",
        "Keep recently used tokens in each process too, in front of a Redis ``CACHE``: a warm "
        "request makes no round trip. Invalidations reach the other processes as Redis messages "
        "(:doc:`/howto/redis-cache`).",
    ),
    "CLIENT_IP": (
        "dict | None",
        "``None``: the client address is ``REMOTE_ADDR``. Behind proxies, "
        '``{"header": "X-Forwarded-For", "trusted_proxies": ["10.0.0.1", "10.1.0.0/16"]}`` (or '
        '``"X-Real-IP"``): when ``REMOTE_ADDR`` is a trusted proxy, the right-most address of the header '
        "that is not one (:doc:`/howto/reverse-proxy`).",
    ),
    "TAKEOVER_PERMISSION": (
        "callable | str | None",
        'Rule ``f(*, actor, target) -> bool`` (or its dotted path) replacing "staff with '
        '``auth_token.takeover_user``" (:doc:`/howto/takeover-permission`).',
    ),
    "TAKEOVER_REDIRECT_URL": (
        "str",
        "Where the admin sends the actor once a takeover has started, and where Release lands "
        "without a ``next``. When nothing serves that path: the sessions page of a user taken "
        "over, the admin's index for staff.",
    ),
    "TAKEOVER_REQUIRE_REASON": (
        "bool",
        "Refuse a takeover started without a reason. The reason, optional by default, is kept in "
        "the audit record (``UserTokenTakeover.reason``).",
    ),
    "TAKEOVER_USER_ADMIN": (
        "bool",
        "Add ``TakeoverUserAdminMixin`` to the user admin registered on ``admin.site``.",
    ),
    "EXPIRATION_HEADER": (
        "str | None",
        "Response header giving the whole seconds left on the token, when a valid token was resolved.",
    ),
    "LOGIN_THROTTLE_RATE": (
        "str | None",
        'One budget for every password and device login (browser, admin, API, device), e.g. ``"30/min"``: '
        "all attempts per client address, and failed attempts per username (device uuid). Needs "
        "``auth_token.throttling.ThrottledModelBackend`` (or the ``LoginThrottleBackend`` guard) "
        "first in ``AUTHENTICATION_BACKENDS`` (:ref:`login-throttle`); ``None`` turns it off.",
    ),
    "SCOPES": (
        "dict[str, str]",
        'Your project\'s scopes, each with a description, e.g. ``{"orders:write": "Place orders"}``, '
        "declared next to the library's own (``sessions:read``, ``sessions:write``, ``devices:read``, "
        "``devices:write``, ``tokens:write``). A token can hold only declared scopes "
        "(:doc:`/reference/scopes`).",
    ),
    "PAT_MAX_AGE": (
        "int (seconds)",
        "The longest lifetime of a personal access token, and its lifetime when none is asked: 90 days. "
        "``ABSOLUTE_TOKEN_AGE`` does not apply to them.",
    ),
    "PAT_ALLOW_NO_EXPIRY": (
        "bool",
        "Allow personal access tokens that never expire (stored as expiring on 9999-12-31).",
    ),
    "PAT_NOTIFY_DAYS": (
        "int",
        "Days before expiry when ``notify_expiring_tokens`` (without ``--days``) sends ``token_expiring``.",
    ),
}


def check_settings_documented() -> None:
    from auth_token.conf import DEFAULTS

    missing = sorted(set(DEFAULTS) - set(SETTINGS))
    stale = sorted(set(SETTINGS) - set(DEFAULTS))
    if missing or stale:
        raise ExtensionError(
            f"docs/_ext/auth_token_docs.py SETTINGS is out of date: missing {missing}, stale {stale}"
        )


class SettingsTable(SphinxDirective):
    """Render every setting of ``auth_token.conf.DEFAULTS`` as a definition list."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from auth_token.conf import DEFAULTS, PREFIX

        check_settings_documented()
        # Rebuild this page when the defaults or this file change (incremental builds).
        self.env.note_dependency(sys.modules["auth_token.conf"].__file__)
        self.env.note_dependency(__file__)
        # A definition per setting, not a table: the meanings stay readable at any width.
        lines = []
        for name, default in DEFAULTS.items():
            kind, meaning = SETTINGS[name]
            lines += [
                f".. _setting-{name}:",
                "",
                f"``{PREFIX}{name}``",
                f"    *{kind}*, default ``{default!r}``.",
                "",
                f"    {meaning}",
                "",
            ]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="auth_token.conf.DEFAULTS"), 0, container)
        return container.children


class ModelFields(SphinxDirective):
    """Render the fields of a model of ``auth_token.models`` (name, type, description)."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        from django.apps import apps
        from django.db import models

        model = apps.get_model("auth_token", self.arguments[0])
        self.env.note_dependency(sys.modules[model.__module__].__file__)
        self.env.note_dependency(__file__)
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 30 50", ""]
        lines += ["   * - Field", "     - Type", "     - Description"]
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations
            kind = type(field).__name__
            if field.is_relation and field.related_model is not None:
                kind += f" to ``{field.related_model._meta.label}``"
            text = str(getattr(field, "verbose_name", "") or "")
            text = text[:1].upper() + text[1:]
            if getattr(field, "help_text", ""):
                text += f": {field.help_text}"
            options = []
            if getattr(field, "null", False):
                options.append("nullable")
            if getattr(field, "unique", False) and not field.primary_key:
                options.append("unique")
            if getattr(field, "db_index", False) and not getattr(field, "unique", False):
                options.append("indexed")
            if isinstance(field, models.CharField):
                options.append(f"max {field.max_length}")
            if options:
                text += f" ({', '.join(options)})"
            lines += [f"   * - ``{field.name}``", f"     - {kind}", f"     - {text or '-'}"]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"auth_token.models.{model.__name__}"), 0, container)
        return container.children


def setup(app):
    app.add_directive("auth-token-settings", SettingsTable)
    app.add_directive("auth-token-model-fields", ModelFields)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
