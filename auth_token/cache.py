"""Optional token cache (``AUTH_TOKEN_CACHE``): a warm authenticated request costs no SQL.

Entries are keyed by the token's digest and tagged with a generation of the token's owner. Every
invalidation replaces generations (or drops entries) after the transaction commits, and a writer
reads the generation *before* its database read, so an entry built from stale rows is never
accepted.

An entry is plain data, never a pickled model instance: each row's field values, in the order of
the model's concrete fields, rebuilt with ``Model.from_db`` as a query would. Its key carries the
format's version and the entry the field names it was made with, so processes running another
version of this code (or of Django, or of the user model) during a rolling upgrade ignore each
other's entries instead of misreading them. The user's ``password`` is never stored: it is left
deferred, and Django loads it again if asked.

With ``AUTH_TOKEN_LOCAL_CACHE`` a per-process layer (``local_cache``) sits in front and every
invalidation is also published to the other processes. An invalidation the cache misses is
journaled in the database and the cache is not trusted until it is replayed (``journal``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from auth_token import journal, local_cache
from auth_token.conf import settings
from auth_token.lookup import from_plain_values, plain_values, stored_fields
from auth_token.models import Client, Token, UserTokenTakeover

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache


logger = logging.getLogger(__name__)
PAUSE_AFTER_ERROR = 5.0  # seconds without the cache after it failed
_paused_until = 0.0
OWNERS_REMEMBERED = 10_000
_owners: dict[str, Any] = {}  # token digest -> owner id, immutable facts


ENTRY_FORMAT = 2  # version 1 pickled model instances


def entry_key(digest: str) -> str:
    return f"auth_token:entry:v{ENTRY_FORMAT}:{digest}"


def owner_key(digest: str) -> str:
    return f"auth_token:owner:{digest}"


def generation_key(user_id: Any) -> str:
    return f"auth_token:generation:{user_id}"


def get_cache() -> BaseCache | None:
    alias = settings.CACHE
    if not alias or time.monotonic() < _paused_until:
        return None
    return caches[alias]


def _failed(action: str) -> None:
    global _paused_until  # one flag per process, on purpose
    _paused_until = time.monotonic() + PAUSE_AFTER_ERROR
    logger.warning("Token cache failed to %s; using the database for a while", action, exc_info=True)


def resolve(
    digest: str, load: Callable[[], tuple[Token, bool] | None], is_usable: Callable[[Token], bool]
) -> tuple[Token, bool] | None:
    """Return ``(token, acting_as_target)`` from the cache, or from ``load()`` (the database).

    ``is_usable`` re-checks in memory what may have changed without an invalidation (expiry,
    configured backends, the credential's source).
    """
    if not settings.CACHE or not _journal().is_trusted():
        return load()
    local = local_cache.get_layer()
    if local is None:
        return _resolve_shared(digest, load, is_usable)
    found = _from_layer(local, digest, is_usable)
    if found is not None:
        return found
    since = local.epoch  # before any read: a later invalidation makes this fill stale
    result = _resolve_shared(digest, load, is_usable)
    if result is not None:
        token = result[0]
        local.put(token, result[1], since, min(settings.RENEWAL_INTERVAL, _seconds_until(token.expires_at)))
    return result


def resolve_in_memory(digest: str, is_usable: Callable[[Token], bool]) -> tuple[Token, bool] | None:
    """Return ``(token, acting_as_target)`` from this process's layer, or None: no I/O at all."""
    local = local_cache.get_layer()
    if local is None or not _journal().is_trusted(check=False):
        return None
    return _from_layer(local, digest, is_usable)


def _from_layer(
    local: local_cache.LocalCache, digest: str, is_usable: Callable[[Token], bool]
) -> tuple[Token, bool] | None:
    found = local.get(digest)
    return found if found is not None and is_usable(found[0]) else None


def _resolve_shared(
    digest: str, load: Callable[[], tuple[Token, bool] | None], is_usable: Callable[[Token], bool]
) -> tuple[Token, bool] | None:
    cache = get_cache()
    if cache is None:
        return load()
    owner = _owners.get(digest)
    try:
        # Steady state: one round trip, the entry and its owner's generation together.
        key = entry_key(digest)
        found = cache.get_many([key, owner_key(digest) if owner is None else generation_key(owner)])
        entry = found.get(key)
        if owner is None and owner_key(digest) in found:
            owner = _remember_owner(digest, found[owner_key(digest)])
        generation = None
        if owner is not None:
            generation = found.get(generation_key(owner)) or _generation(cache, owner)
    except Exception:  # any cache failure falls back to the database
        _failed("read")
        return load()
    cached = unpack(entry, generation) if entry is not None else None
    if cached is not None and is_usable(cached[0]):
        return cached
    result = load()
    if result is not None:
        _store(cache, result, generation)
    return result


def _remember_owner(digest: str, owner: Any) -> Any:
    # A token's owner never changes, so this process may remember it for good (bounded).
    if len(_owners) >= OWNERS_REMEMBERED:
        _owners.clear()
    _owners[digest] = owner
    return owner


def _generation(cache: BaseCache, user_id: Any) -> str:
    key = generation_key(user_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, secrets.token_hex(8), timeout=None)
        value = cache.get(key)
    return value


def _store(cache: BaseCache, result: tuple[Token, bool], generation: str | None) -> None:
    token, acting_as_target = result
    timeout = _seconds_until(token.expires_at)
    try:
        if generation is None:
            # First sight of this token: remember its owner (it never changes); the next request
            # reads the owner's generation before the database and can then store an entry.
            cache.set(owner_key(token.key), token.user_id, timeout=timeout)
            _remember_owner(token.key, token.user_id)
            return
        cache.set(
            entry_key(token.key),
            pack(token, acting_as_target, generation),
            timeout=min(settings.RENEWAL_INTERVAL, timeout),
        )
    except Exception:
        _failed("write")


@lru_cache(maxsize=1)
def _layout() -> str:
    """The fingerprint of the entry layout (stored in each entry): each model's field names."""
    user_model = Token._meta.get_field("user").related_model
    layout = tuple(stored_fields(model) for model in (Token, user_model, UserTokenTakeover, Client))
    return hashlib.sha256(repr(layout).encode()).hexdigest()[:16]


def pack(token: Token, acting_as_target: bool, generation: str) -> dict[str, Any]:
    """The entry of ``token``: plain values only (no instance, no password hash)."""
    token_values, user_values, takeover_values, target_values, client_values = plain_values(token)
    return {
        "layout": _layout(),
        "generation": generation,
        "acting_as_target": acting_as_target,
        "db": token._state.db,
        "token": token_values,
        "user": user_values,
        "takeover": takeover_values,
        "target": target_values,
        "client": client_values,
    }


def unpack(entry: Any, generation: str | None) -> tuple[Token, bool] | None:
    """Rebuild ``(token, acting_as_target)`` from an entry of this format and ``generation``;
    None for anything else (stale, another format or layout, not an entry at all)."""
    if not isinstance(entry, dict) or entry.get("generation") != generation or generation is None:
        return None
    if entry.get("layout") != _layout():
        return None
    values = (entry["token"], entry["user"], entry["takeover"], entry["target"], entry["client"])
    return from_plain_values(entry["db"], values), entry["acting_as_target"]


def _seconds_until(moment: datetime) -> int:
    return max(1, int((moment - timezone.now()).total_seconds()))


def invalidate_users(user_ids: Iterable[Any]) -> None:
    """Make every cached token of these users stale, once the current transaction commits.

    Use it after changing users with ``QuerySet.update()`` or raw SQL, which send no signals.
    """
    user_ids = list(dict.fromkeys(user_ids))
    if user_ids and settings.CACHE:
        transaction.on_commit(lambda: _invalidate(user_ids, []))


def invalidate_tokens(digests: Iterable[str], *, owners: Iterable[Any] = ()) -> None:
    """Drop the cached entries of these token digests, once the current transaction commits.

    Pass the tokens' ``owners`` when the change must never be undone by a racing fill (a
    revocation, a takeover starting or ending): their generations are replaced too, so an entry
    built from rows read before the commit is refused even if it is written after the delete.
    """
    digests, user_ids = list(digests), list(dict.fromkeys(owners))
    if digests and settings.CACHE:
        transaction.on_commit(lambda: _invalidate(user_ids, digests))


def _new_generations(user_ids: Iterable[Any]) -> dict[str, str]:
    """A fresh generation for each user: every entry tagged with the old one becomes stale."""
    return {generation_key(user_id): secrets.token_hex(8) for user_id in user_ids}


def _invalidate(user_ids: list[Any], digests: list[str]) -> None:
    # Even while reads are paused after an error: a lost invalidation would outlive the pause.
    if _deliver(user_ids, digests):
        return
    try:
        _journal().record(user_ids, digests)
    except Exception:
        logger.error(
            "Could not journal a token cache invalidation that the cache missed; cached tokens of "
            "users %s may be accepted for up to RENEWAL_INTERVAL",
            user_ids,
            exc_info=True,
        )


def _deliver(user_ids: list[Any], digests: list[str], *, replaying: bool = False) -> bool:
    """Apply an invalidation to the shared cache, then this process, then the others."""
    try:
        cache = caches[settings.CACHE]
        if user_ids:
            cache.set_many(_new_generations(user_ids), timeout=None)
        if digests:
            cache.delete_many([entry_key(digest) for digest in digests])
    except Exception:
        if not replaying:  # a replay fails once a second for as long as the cache is away
            _failed("invalidate")
        return False
    try:
        local_cache.invalidate(user_ids, digests)
    except Exception:
        logger.warning("Could not publish a token cache invalidation to the other processes", exc_info=True)
        return False
    return True


def _replay(user_ids: list[Any], digests: list[str]) -> bool:
    return _deliver(user_ids, digests, replaying=True)


def _journal() -> journal.Journal:
    return journal.get_journal(_replay, local_cache.flush)
