"""Invalidations the token cache missed, kept in the database until they reach it.

The database is the source of truth; the cache only repeats it. So an invalidation that cannot
reach the cache (stopped, unreachable, partitioned, restarting) is written to the database
(``PendingInvalidation``) before ``revoke`` returns, and the cache is trusted only while the
journal is known to be empty:

- each process checks the journal once a second in a thread of its own; a request finding the last
  clean check older than ``TRUST_SECONDS`` checks on its own (one query) rather than trust the cache;
- while a row exists, the process reads tokens from the database only, and the first process that
  reaches the cache again replays the rows there (new generations, entries dropped, the message
  to the other processes' layers published) and then deletes them.

A revocation is therefore refused by every process within ``TRUST_SECONDS`` of ``revoke``
returning, whatever the cache does, and stays refused when the cache comes back. A healthy cache
costs one small query per second per process and nothing on the request path.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections, router

from auth_token.models import PendingInvalidation

logger = logging.getLogger(__name__)
CHECK_SECONDS = 1.0  # how often each process reads the journal
TRUST_SECONDS = 1.9  # the cache is trusted only after a clean check started this recently
REPLAY_BATCH = 100

Replay = Callable[[list[Any], list[str]], bool]


class Journal:
    """This process's view of the journal and the thread that keeps it current."""

    def __init__(self, replay: Replay, on_distrust: Callable[[], None]) -> None:
        self.replay = replay  # applies one invalidation to the cache; False when it failed
        self.on_distrust = on_distrust
        self.lock = threading.Lock()
        self.checking = threading.Lock()
        self.checked_at: float | None = None  # start of the latest finished check (or recording)
        self.clean = False  # what it found: no row
        self.recorded = 0  # invalidations this process journaled: a check older than one is void
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def is_trusted(self, *, check: bool = True) -> bool:
        """Whether the cache may be used now; ``check`` allows one query when that is unknown."""
        if self._is_fresh():
            return self.clean
        self._watch()
        if not check or not self.checking.acquire(timeout=TRUST_SECONDS):
            return False
        try:
            if self._is_fresh():  # the thread has just checked
                return self.clean
            return self._check(replay=False)  # replaying is the thread's job, off the request path
        except Exception:
            logger.warning("Could not read the token cache journal", exc_info=True)
            return False
        finally:
            self.checking.release()

    def _is_fresh(self) -> bool:
        checked_at = self.checked_at
        return checked_at is not None and time.monotonic() - checked_at < TRUST_SECONDS

    def record(self, user_ids: Iterable[Any], digests: Iterable[str]) -> None:
        """Journal an invalidation the cache missed; this process stops trusting it at once."""
        with self.lock:
            self.recorded += 1
            self.clean, self.checked_at = False, time.monotonic()
        self.on_distrust()
        alias = router.db_for_write(PendingInvalidation)
        PendingInvalidation.of(user_ids, digests).save(using=alias)

    def stop(self) -> None:
        self.stopping.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _watch(self) -> None:
        with self.lock:
            if self.thread is None and not self.stopping.is_set():
                self.thread = threading.Thread(target=self._run, name="auth_token-journal", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        alias = router.db_for_write(PendingInvalidation)
        try:
            while not self.stopping.is_set():
                with self.checking:
                    try:
                        self._check()
                    except Exception:
                        logger.warning("Could not read the token cache journal", exc_info=True)
                        connections[alias].close()  # reconnect at the next check
                self.stopping.wait(CHECK_SECONDS)
        finally:
            connections[alias].close()  # this thread's own connection

    def _check(self, *, replay: bool = True) -> bool:
        """Read the journal (and replay what it holds); return whether it is now empty."""
        started, recorded = time.monotonic(), self.recorded
        alias = router.db_for_write(PendingInvalidation)
        rows = list(PendingInvalidation.objects.using(alias).order_by("pk")[:REPLAY_BATCH])
        if rows:
            self._distrust(started)
            if not replay:
                return False
            replayed = []
            for row in rows:  # in order, and no further than the cache lets us
                if not self.replay(row.user_ids, row.digests):
                    break
                replayed.append(row.pk)
            PendingInvalidation.objects.using(alias).filter(pk__in=replayed).delete()
            if len(replayed) < len(rows) or PendingInvalidation.objects.using(alias).exists():
                return False
            logger.info("Replayed %d token cache invalidations from the journal", len(rows))
        with self.lock:
            if self.recorded != recorded:
                return False  # this process journaled meanwhile: the next check must see it
            self.clean, self.checked_at = True, started
        return True

    def _distrust(self, started: float) -> None:
        with self.lock:
            was_clean = self.clean
            self.clean, self.checked_at = False, started
        if was_clean:
            logger.warning("The token cache missed invalidations; using the database until they are replayed")
        self.on_distrust()


_journal: Journal | None = None
_journal_lock = threading.Lock()


def get_journal(replay: Replay, on_distrust: Callable[[], None]) -> Journal:
    """Return this process's journal (its thread starts at the first trust check)."""
    global _journal  # one per process, on purpose
    journal = _journal
    if journal is None:
        with _journal_lock:
            if _journal is None:
                _journal = Journal(replay, on_distrust)
            journal = _journal
    return journal


def reset() -> None:
    """Stop this process's journal thread; the next use starts anew (settings changed, tests)."""
    global _journal
    with _journal_lock:
        if _journal is not None:
            _journal.stop()
        _journal = None


def _after_fork() -> None:
    # The child has no checking thread, and a lock may have been held at the fork.
    global _journal, _journal_lock
    _journal, _journal_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
