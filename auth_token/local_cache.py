"""A per-process layer in front of the shared token cache (``AUTH_TOKEN_LOCAL_CACHE``).

A warm request then costs no network round trip. Every invalidation is also published on a Redis
channel, and a daemon thread in each process drops what a message names. What keeps it coherent:

- the layer serves nothing until its thread is subscribed, and empties itself whenever the
  subscription is made or lost, so a message missed while disconnected cannot matter;
- the thread pings Redis four times a second, and the layer serves only while the subscription
  answered within the last ``HEARTBEAT_SECONDS``: a Redis that stopped answering (paused,
  partitioned, overloaded) cannot leave a process serving what it was never told to drop;
- a fill notes the epoch before its read and is discarded when an invalidation of its users or its
  digest (or a flush) came later, so a slow reader never stores what a message has just dropped;
- the process that invalidates applies it here, after the shared cache and before it publishes
  (and skips its own message when it comes back);
- entries live no longer than shared ones (``RENEWAL_INTERVAL``) and are handed out as copies, so
  a view that changes ``request.user`` changes only its own request's.

Messages only ever remove entries: whoever can publish on the channel can empty caches, nothing more.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from auth_token.conf import settings
from auth_token.lookup import Template

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

    from auth_token.models import Token

logger = logging.getLogger(__name__)
CHANNEL = "auth_token:invalidate"  # made per site with the cache's KEY_PREFIX and VERSION
MAX_ENTRIES = 10_000
MAX_MARKS = 100_000
PING_SECONDS = 0.25  # also how soon the thread notices stop()
HEARTBEAT_SECONDS = 1.0  # the layer serves only while the subscription answered this recently
DROP_SECONDS = 5.0  # a subscription silent this long is made again
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class _Entry:
    token: Template  # only copies leave the layer
    acting_as_target: bool
    marks: tuple[str, ...]  # the users whose changes make it stale
    deadline: float  # time.monotonic()


def _client_factory(cache: BaseCache) -> Any:
    """The ``get_client`` of Django's ``RedisCache`` or of django-redis, else None."""
    factory = getattr(getattr(cache, "_cache", None), "get_client", None)  # Django's RedisCache
    return factory or getattr(getattr(cache, "client", None), "get_client", None)  # django-redis


def redis_client(cache: BaseCache) -> Any:
    """Return the redis-py client behind a Django cache (Django's ``RedisCache`` or django-redis)."""
    factory = _client_factory(cache)
    if factory is None:
        raise TypeError(f"{type(cache).__name__} is not a Redis cache")
    return factory(write=True)


def is_redis_cache(alias: str) -> bool:
    try:
        return callable(_client_factory(caches[alias]))
    except Exception:
        return False


def user_mark(user_id: Any) -> str:
    return f"u:{user_id}"


def digest_mark(digest: str) -> str:
    return f"d:{digest}"


class LocalCache:
    """One process's entries and the thread that keeps them coherent."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.channel = caches[alias].make_key(CHANNEL)
        self.origin = _origin
        self.lock = threading.Lock()
        self.entries: dict[str, _Entry] = {}
        self.by_mark: dict[str, set[str]] = {}
        self.epoch = 0
        self.marked: dict[str, int] = {}  # mark -> epoch of its latest invalidation
        self.flushed = 0  # epoch of the latest flush
        self.ready = False  # subscribed: messages reach this process
        self.heard = 0.0  # time.monotonic() of the subscription's latest answer
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="auth_token-local-cache", daemon=True)
        self.thread.start()

    def is_live(self, now: float) -> bool:
        """Subscribed, and heard from within ``HEARTBEAT_SECONDS``: no message can be missing."""
        return self.ready and now - self.heard < HEARTBEAT_SECONDS

    def get(self, digest: str) -> tuple[Token, bool] | None:
        now = time.monotonic()
        if not self.is_live(now):
            return None
        entry = self.entries.get(digest)
        if entry is not None and entry.deadline > now:
            return entry.token.build(), entry.acting_as_target
        return None

    def put(self, token: Token, acting_as_target: bool, since: int, seconds: float) -> None:
        """Store a copy of ``token`` unless something it depends on was invalidated after ``since``."""
        marks = [user_mark(token.user_id)]
        if token.active_takeover is not None and token.active_takeover.user_id is not None:
            marks.append(user_mark(token.active_takeover.user_id))
        template = Template.of(token)
        with self.lock:
            stale = self.flushed > since or any(
                self.marked.get(mark, -1) > since for mark in (*marks, digest_mark(token.key))
            )
            if stale or not self.is_live(time.monotonic()):
                return
            self._remove(token.key)
            while len(self.entries) >= MAX_ENTRIES:
                self._remove(next(iter(self.entries)))  # the oldest
            self.entries[token.key] = _Entry(
                template, acting_as_target, tuple(marks), time.monotonic() + seconds
            )
            for mark in marks:
                self.by_mark.setdefault(mark, set()).add(token.key)

    def invalidate(self, user_ids: Iterable[Any] = (), digests: Iterable[str] = ()) -> None:
        with self.lock:
            self.epoch += 1
            if len(self.marked) > MAX_MARKS:
                self._flush()
                return
            for mark in [user_mark(user_id) for user_id in user_ids]:
                self.marked[mark] = self.epoch
                for digest in list(self.by_mark.get(mark, ())):
                    self._remove(digest)
            for digest in digests:
                self.marked[digest_mark(digest)] = self.epoch
                self._remove(digest)

    def stop(self) -> None:
        self.stopping.set()
        self._set_ready(False)

    def _remove(self, digest: str) -> None:
        entry = self.entries.pop(digest, None)
        for mark in entry.marks if entry is not None else ():
            digests = self.by_mark.get(mark)
            if digests is not None:
                digests.discard(digest)
                if not digests:
                    del self.by_mark[mark]

    def _flush(self) -> None:
        self.epoch += 1
        self.flushed = self.epoch
        self.entries.clear()
        self.by_mark.clear()
        self.marked.clear()

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _set_ready(self, ready: bool) -> None:
        with self.lock:
            self._flush()
            self.ready = ready and not self.stopping.is_set()

    def _apply(self, data: bytes | str) -> None:
        try:
            message = json.loads(data)
            users, digests = list(message["users"]), list(message["digests"])
        except (ValueError, TypeError, KeyError):
            self._set_ready(True)  # not ours to read: drop everything, which is always safe
            return
        if message.get("origin") != self.origin:  # this process applied its own before publishing
            self.invalidate(users, digests)

    def _listen(self) -> None:
        while not self.stopping.is_set():
            pubsub = None
            try:
                pubsub = redis_client(caches[self.alias]).pubsub()
                pubsub.subscribe(self.channel)
                self._receive(pubsub)
            except Exception:
                if not self.stopping.is_set():
                    logger.warning("Token cache subscription lost; not using the local cache", exc_info=True)
            finally:
                self._set_ready(False)
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        logger.debug("Closing the token cache subscription failed", exc_info=True)
            self.stopping.wait(RETRY_SECONDS)

    def _receive(self, pubsub: Any) -> None:
        self.heard = pinged = time.monotonic()
        while not self.stopping.is_set():
            message = pubsub.get_message(timeout=PING_SECONDS)
            now = time.monotonic()
            if now - pinged >= PING_SECONDS:
                pubsub.ping()
                pinged = now
            if message is None:
                if now - self.heard > DROP_SECONDS:
                    raise ConnectionError("The token cache subscription does not answer")
                continue
            if not self.is_live(now):
                self.flush()  # it was silent: drop what a late or lost message may have named
            self.heard = now
            if message["type"] == "subscribe":
                self._set_ready(True)
            elif message["type"] == "message":
                self._apply(message["data"])


_layer: LocalCache | None = None
_layer_lock = threading.Lock()
_origin = uuid.uuid4().hex  # this process, in the messages it publishes


def get_layer() -> LocalCache | None:
    """Return this process's layer (started on first use), or None when it is not configured."""
    global _layer  # one per process, on purpose
    alias = settings.CACHE
    if not alias or not settings.LOCAL_CACHE:
        return None
    layer = _layer
    if layer is None or layer.alias != alias:
        with _layer_lock:
            if _layer is None or _layer.alias != alias:
                if _layer is not None:
                    _layer.stop()
                _layer = LocalCache(alias)
            layer = _layer
    return layer


def invalidate(user_ids: Iterable[Any], digests: Iterable[str]) -> None:
    """Apply an invalidation to this process's layer, then publish it to the other processes.

    Starts no layer: a process that only writes (a management command, a task worker) publishes.
    """
    alias = settings.CACHE
    if not alias or not settings.LOCAL_CACHE:
        return
    user_ids, digests = [str(user_id) for user_id in user_ids], list(digests)
    layer = _layer
    if layer is not None and layer.alias == alias:
        layer.invalidate(user_ids, digests)
    cache = caches[alias]
    message = json.dumps({"users": user_ids, "digests": digests, "origin": _origin})
    redis_client(cache).publish(cache.make_key(CHANNEL), message)


def flush() -> None:
    """Empty this process's layer, if it has one (the cache missed an invalidation)."""
    layer = _layer
    if layer is not None:
        layer.flush()


def reset() -> None:
    """Stop this process's layer; the next use starts a new one (settings changed, tests)."""
    global _layer
    with _layer_lock:
        if _layer is not None:
            _layer.stop()
        _layer = None


def _after_fork() -> None:
    # The child has no listening thread, and a lock may have been held at the fork.
    global _layer, _layer_lock, _origin
    _layer, _layer_lock, _origin = None, threading.Lock(), uuid.uuid4().hex


os.register_at_fork(after_in_child=_after_fork)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("AUTH_TOKEN_CACHE", "AUTH_TOKEN_LOCAL_CACHE", "CACHES"):
        reset()
