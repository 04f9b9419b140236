"""The token lookup: one SELECT of a token, its user, its active takeover, that takeover's user
and the token's API client.

The ORM builds and compiles this five-table query anew for every request, which costs several
times what the database spends running it. Here the SQL is written once per database alias from
the models' ``_meta``, and rows become instances through ``Model.from_db``, as a ``QuerySet``
makes them: only Django's public model and field API, so a new Django cannot silently switch it
off (a test asserts it is the path in use, on every CI stack).
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.db.models import DEFERRED
from django.utils import timezone

from auth_token.conf import settings
from auth_token.models import Client, Token, UserTokenTakeover

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from django.db.models import Field, Model, QuerySet

logger = logging.getLogger(__name__)


def lookup_queryset(digest: str, now: datetime) -> QuerySet[Token]:
    """The ORM's form of the lookup: what ``CompiledLookup`` must return, row for row."""
    return Token.objects.select_related("user", "active_takeover__user", "client").filter(
        key=digest, is_active=True, expires_at__gt=now
    )


class _Table:
    """One table of the SELECT: its model's concrete fields, where they sit in a row, their converters."""

    def __init__(self, model: type[Model], alias: str, start: int, connection: Any) -> None:
        if model._meta.parents:  # multi-table inheritance: its fields span several tables
            raise ValueError(f"{model._meta.label} inherits from a concrete model")
        self.model = model
        self.alias = alias
        self.fields: list[Field] = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.row_slice = slice(start, start + len(self.fields))
        self.pk_position = start + self.fields.index(model._meta.pk)
        self.converters: list[tuple[int, list[Callable], Any]] = []
        for position, field in enumerate(self.fields, start):
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if converters:
                self.converters.append((position, converters, column))

    def columns(self, quote: Callable[[str], str]) -> list[str]:
        return [f"{quote(self.alias)}.{quote(field.column)}" for field in self.fields]

    def instance(self, db_alias: str, row: list[Any]) -> Model | None:
        if row[self.pk_position] is None:  # the outer join found nothing
            return None
        return self.model.from_db(db_alias, self.attnames, row[self.row_slice])


class CompiledLookup:
    """The lookup's SQL for one database alias, written once, run per request."""

    def __init__(self, db_alias: str) -> None:
        connection = connections[db_alias]
        quote = connection.ops.quote_name
        user_field = Token._meta.get_field("user")
        takeover_field = Token._meta.get_field("active_takeover")
        target_field = UserTokenTakeover._meta.get_field("user")
        client_field = Token._meta.get_field("client")
        user_model = user_field.related_model
        self.token = _Table(Token, "t", 0, connection)
        self.user = _Table(user_model, "u", self.token.row_slice.stop, connection)
        self.takeover = _Table(UserTokenTakeover, "k", self.user.row_slice.stop, connection)
        self.target = _Table(user_model, "v", self.takeover.row_slice.stop, connection)
        self.client = _Table(Client, "c", self.target.row_slice.stop, connection)
        tables = (self.token, self.user, self.takeover, self.target, self.client)

        def table(model: type[Model], alias: str) -> str:
            return f"{quote(model._meta.db_table)} {quote(alias)}"

        def on(left: str, left_column: str, right: str, right_column: str) -> str:
            return f"{quote(left)}.{quote(left_column)} = {quote(right)}.{quote(right_column)}"

        self.expires_at = Token._meta.get_field("expires_at")
        self.is_active = Token._meta.get_field("is_active").get_db_prep_value(True, connection)
        # Identifiers from _meta, quoted by the backend; every value is a parameter. Named ones:
        # SQLite's cursor wrapper turns them into its own with one %-format, where positional ones
        # cost a regular expression run over the whole statement, a quarter of the lookup.
        self.sql = (
            f"SELECT {', '.join(column for part in tables for column in part.columns(quote))} "  # noqa: S608
            f"FROM {table(Token, 't')} "
            f"INNER JOIN {table(user_model, 'u')} "
            f"ON {on('u', user_field.target_field.column, 't', user_field.column)} "
            f"LEFT OUTER JOIN {table(UserTokenTakeover, 'k')} "
            f"ON {on('k', takeover_field.target_field.column, 't', takeover_field.column)} "
            f"LEFT OUTER JOIN {table(user_model, 'v')} "
            f"ON {on('v', target_field.target_field.column, 'k', target_field.column)} "
            f"LEFT OUTER JOIN {table(Client, 'c')} "
            f"ON {on('c', client_field.target_field.column, 't', client_field.column)} "
            f"WHERE {quote('t')}.{quote(Token._meta.get_field('key').column)} "
            "= %(digest)s "
            f"AND {quote('t')}.{quote(Token._meta.get_field('is_active').column)} = %(active)s "
            f"AND {quote('t')}.{quote(self.expires_at.column)} > %(now)s"
        )
        self.db_alias = db_alias

    def fetch(self, digest: str, now: datetime) -> Token | None:
        connection = connections[self.db_alias]
        params = {
            "digest": digest,
            "active": self.is_active,
            "now": self.expires_at.get_db_prep_value(now, connection),
        }
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchone()
        if fetched is None:
            return None
        row = list(fetched)
        for part in (self.token, self.user, self.takeover, self.target, self.client):
            if row[part.pk_position] is None:  # an outer join that found nothing: no instance
                continue
            for position, converters, column in part.converters:
                for converter in converters:
                    row[position] = converter(row[position], column, connection)
        return assemble(
            self.token.instance(self.db_alias, row),
            self.user.instance(self.db_alias, row),
            self.takeover.instance(self.db_alias, row),
            self.target.instance(self.db_alias, row),
            self.client.instance(self.db_alias, row),
        )


def assemble(
    token: Token, user: Model, takeover: UserTokenTakeover | None, target: Model | None, client: Client | None
) -> Token:
    """Attach what one lookup loads, as ``select_related("user", "active_takeover__user",
    "client")`` does."""
    token.user = user
    # An absent relation is left unset: its id is None, so reading it costs no query either.
    if takeover is not None:
        takeover.user = target
        token.active_takeover = takeover
    if client is not None:
        token.client = client
    return token


# What the caches keep of a looked-up token: plain values, never an instance or a password hash.
PlainValues = tuple[tuple[Any, ...] | None, ...]


@lru_cache(maxsize=16)
def stored_fields(model: type[Model]) -> tuple[str, ...]:
    """The attribute names the caches keep of ``model``: its concrete fields but a password (left
    deferred: Django loads it again if it is ever read)."""
    return tuple(field.attname for field in model._meta.concrete_fields if field.attname != "password")


def _values(instance: Model | None) -> tuple[Any, ...] | None:
    if instance is None:
        return None
    return tuple(getattr(instance, name) for name in stored_fields(type(instance)))


def plain_values(token: Token) -> PlainValues:
    """The field values of ``token``, its user, its takeover, that takeover's user and its client."""
    takeover = token.active_takeover
    target = takeover.user if takeover is not None else None
    return _values(token), _values(token.user), _values(takeover), _values(target), _values(token.client)


@lru_cache(maxsize=16)
def _left_out(model: type[Model]) -> int | None:
    """Where ``stored_fields`` leaves a field out of ``model``'s concrete fields (the password)."""
    names = [field.attname for field in model._meta.concrete_fields]
    return names.index("password") if "password" in names else None


def from_plain_values(db_alias: str, values: PlainValues) -> Token:
    """Rebuild what ``plain_values`` took apart, through ``Model.from_db`` as a ``QuerySet`` does.

    A field left out is passed as ``DEFERRED``, as Django's docs for ``from_db`` do, which spares
    ``from_db`` working out which fields are missing on every call.
    """
    token, user, takeover, target, client = values
    user_model = Token._meta.get_field("user").related_model

    def rebuilt(model: type[Model], fields: tuple[Any, ...] | None) -> Any:
        if fields is None:
            return None
        position = _left_out(model)
        if position is not None:
            fields = (*fields[:position], DEFERRED, *fields[position:])
        return model.from_db(db_alias, stored_fields(model), fields)

    return assemble(
        rebuilt(Token, token),
        rebuilt(user_model, user),
        rebuilt(UserTokenTakeover, takeover),
        rebuilt(user_model, target),
        rebuilt(Client, client),
    )


_compiled: dict[tuple[str, str], CompiledLookup | None] = {}


def fetch(digest: str) -> Token | None:
    """Return the active, unexpired token with ``digest``, its user and takeover loaded.

    With the token cache on, the read goes where writes go (the primary): what it finds is
    cached for every process, and a replica lagging behind a revocation must not put the revoked
    token back for a minute. Without the cache, reads follow the router.
    """
    db_alias = router.db_for_write(Token) if settings.CACHE else router.db_for_read(Token)
    key = (db_alias, connections[db_alias].vendor)
    if key not in _compiled:
        try:
            _compiled[key] = CompiledLookup(db_alias)
        except Exception:
            # Loud, once per process: the ORM still answers, several times slower.
            logger.error("The compiled token lookup is off; every lookup goes through the ORM", exc_info=True)
            _compiled[key] = None
    compiled = _compiled[key]
    if compiled is None:
        return lookup_queryset(digest, timezone.now()).first()
    return compiled.fetch(digest, timezone.now())


def compiled_lookup(db_alias: str) -> CompiledLookup | None:
    """Return the compiled lookup in use for ``db_alias`` (None: the ORM is), for tests and checks."""
    return _compiled.get((db_alias, connections[db_alias].vendor))


_MUTABLE = frozenset({dict, list, set, bytearray})


class Template:
    """A looked-up token as plain values, for the local cache: ``build()`` makes an independent
    copy through ``Model.from_db``. Which values need a deep copy (e.g. a JSONField of a custom
    user model) is worked out once, here, not per copy."""

    __slots__ = ("db", "mutable", "values")

    def __init__(self, token: Token) -> None:
        self.db = token._state.db
        parts = plain_values(token)
        # Per part, the positions of its lists and dicts and how to copy each: a list or dict of
        # immutable values (the token's scopes) needs only a shallow copy.
        self.mutable = tuple(
            (index, copiers)
            for index, part in enumerate(parts)
            if (
                copiers := tuple(
                    (position, type(value) if _flat(value) else copy.deepcopy)
                    for position, value in enumerate(part or ())
                    if type(value) in _MUTABLE
                )
            )
        )
        self.values = self._copied(parts)

    @classmethod
    def of(cls, token: Token) -> Template:
        return cls(token)

    def build(self) -> Token:
        """Return a new token with new related instances: nothing shared with other copies."""
        return from_plain_values(self.db, self._copied(self.values) if self.mutable else self.values)

    def _copied(self, values: PlainValues) -> PlainValues:
        """``values`` with a copy of each list or dict; the other parts shared (tuples)."""
        values = list(values)
        for index, copiers in self.mutable:
            part = list(values[index])
            for position, copier in copiers:
                part[position] = copier(part[position])
            values[index] = tuple(part)
        return tuple(values)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _flat(value: Any) -> bool:
    """Whether ``value`` (a list or a dict) holds immutable values only."""
    items = value.values() if isinstance(value, dict) else value
    return type(value) in (list, dict) and all(type(item) in _IMMUTABLE for item in items)
