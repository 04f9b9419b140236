"""The fault drill: gunicorn (2 workers), the test database and a private Redis that is paused,
resumed, killed and restarted under a steady load while this process revokes tokens.

In every phase, with and without the local layer: no 5xx, no valid token refused, and every
revoked token refused by both workers within 2 s of its revocation returning and for the rest
of the drill. The propagation times are printed (they are quoted in the performance docs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from auth_token import cache as token_cache
from auth_token import local_cache, services
from tests.conftest import server_database
from tests.factories import UserFactory, issue_token
from tests.redis_server import RedisServer, cache_settings, require_redis_server

pytestmark = [pytest.mark.django_db(transaction=True), server_database()]

BOUND = 2.0  # seconds after a revocation returns by which every worker refuses the token
OBSERVE = 3.0  # seconds each phase lasts after its revocation
CLIENTS = 4
REPOSITORY = Path(__file__).resolve().parent.parent


def protected(port: int, raw: str) -> urllib.request.Request:
    """A request for the site's token-only page, carrying ``raw``."""
    return urllib.request.Request(
        f"http://127.0.0.1:{port}/protected/", headers={"Authorization": f"Bearer {raw}"}
    )


@dataclass
class Victim:
    raw: str
    revoking: float | None = None  # time.monotonic() when its revocation was called
    revoked: float | None = None  # ... and when it returned
    accepted_after: float | None = None  # the latest start, after ``revoked``, of a request that got 200
    refused_by: dict[str, float] = field(default_factory=dict)  # worker -> its first refusal's start


@dataclass
class Load:
    """Client threads asking the site about every token in turn and judging each answer."""

    port: int
    valid: list[str]
    victims: list[Victim]
    phase: str = "warming up"
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        tokens = [(raw, None) for raw in self.valid] + [(victim.raw, victim) for victim in self.victims]
        turn = 0
        while not self.stopping.is_set():
            raw, victim = tokens[turn % len(tokens)]
            turn += 1
            self._ask(raw, victim)
            time.sleep(0.002)

    def _ask(self, raw: str, victim: Victim | None) -> None:
        request = protected(self.port, raw)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, worker = response.status, response.headers["X-Worker"]
        except urllib.error.HTTPError as error:
            status, worker = error.code, error.headers["X-Worker"]
        except OSError as error:
            status, worker = f"no answer ({error})", None
        finished = time.monotonic()
        with self.lock:
            self.requests += 1
            self._judge(status, worker, started, finished, victim)

    def _judge(self, status, worker, started: float, finished: float, victim: Victim | None) -> None:
        """Refused is right only for a request that ended after its token's revocation began;
        accepted is wrong for one that began after the revocation returned (``BOUND`` applies)."""
        revoked = victim.revoked if victim is not None else None
        if status not in (200, 401):
            self.failures.append(f"{self.phase}: {status} from worker {worker}")
        elif status == 401 and (victim is None or victim.revoking is None or finished < victim.revoking):
            which = f"victim {self.victims.index(victim)}" if victim is not None else "a valid token"
            self.failures.append(f"{self.phase}: worker {worker} refused {which}")
        elif revoked is not None and started > revoked:
            if status == 200:
                victim.accepted_after = max(victim.accepted_after or 0.0, started - revoked)
            else:
                victim.refused_by.setdefault(worker, started - revoked)


def start_gunicorn(env: dict) -> tuple[subprocess.Popen, int, list[str]]:
    """Two workers on a port the OS picks (bound once, by gunicorn); return it and the log."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", "127.0.0.1:0"),
            *("--graceful-timeout", "2", "--log-level", "info", "tests.drill_app:application"),
        ],
        env=env,
        cwd=REPOSITORY,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    port = None
    for line in process.stderr:
        log.append(line)
        listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if listening:
            port = int(listening.group(1))
            break
    if port is None:
        raise RuntimeError("gunicorn did not start:\n" + "".join(log))
    threading.Thread(target=lambda: log.extend(process.stderr), daemon=True).start()
    return process, port, log


def both_workers_answer(port: int, raw: str) -> None:
    seen: set[str] = set()
    deadline = time.monotonic() + 20
    while len(seen) < 2:
        assert time.monotonic() < deadline, "the two workers did not both answer"
        with urllib.request.urlopen(protected(port, raw), timeout=10) as response:
            seen.add(response.headers["X-Worker"])


def run_drill(settings, local: bool) -> list[tuple[str, float, Victim]]:
    server = RedisServer()
    server.start()
    tokens = cache_settings(server, f"drill-{uuid.uuid4().hex}")
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "tokens": tokens}
    settings.CACHES = caches
    settings.AUTH_TOKEN_CACHE = "tokens"
    settings.AUTH_TOKEN_LOCAL_CACHE = local
    token_cache._paused_until = 0.0
    valid = [issue_token(UserFactory())[1] for _ in range(4)]
    victims_users = [UserFactory() for _ in range(5)]
    victims_tokens = [issue_token(user) for user in victims_users]
    victims = [Victim(raw) for _, raw in victims_tokens]

    def revoke(number):
        return lambda: services.revoke(victims_tokens[number][0])

    def logout_everywhere(number):
        return lambda: services.logout_all(victims_users[number])

    def change_password(number):
        def change():
            victims_users[number].set_password("a new password")
            victims_users[number].save()

        return change

    phases = [
        ("healthy", lambda: None, revoke(0)),
        ("paused (SIGSTOP)", server.pause, change_password(1)),
        ("resumed (SIGCONT)", server.resume, revoke(2)),
        ("killed", server.kill, logout_everywhere(3)),
        ("restarted from its file", server.restart, revoke(4)),
    ]
    env = {
        **os.environ,
        "TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "TEST_CACHES": json.dumps(caches),
        "TEST_LOCAL_CACHE": "1" if local else "0",
    }
    gunicorn, port, log = start_gunicorn(env)
    load = Load(port, valid, victims)
    clients = [threading.Thread(target=load.run) for _ in range(CLIENTS)]
    report = []
    try:
        both_workers_answer(port, valid[0])
        for thread in clients:
            thread.start()
        time.sleep(1.5)  # every token is now in every worker's cache
        for (name, fault, revocation), victim in zip(phases, victims, strict=True):
            load.phase = name
            fault()
            victim.revoking = time.monotonic()
            revocation()
            victim.revoked = time.monotonic()
            report.append((name, victim.revoked - victim.revoking, victim))
            time.sleep(OBSERVE)
    finally:
        load.stopping.set()
        for thread in clients:
            if thread.is_alive():
                thread.join()
        gunicorn.terminate()
        gunicorn.wait(10)
        server.stop()
        local_cache.reset()
    assert not load.failures, [*load.failures[:10], "".join(log[-40:])]
    assert load.requests > 2000
    for name, _, victim in report:
        assert (victim.accepted_after or 0.0) < BOUND, (name, victim.accepted_after)
        assert len(victim.refused_by) == 2, (name, victim.refused_by)
    return [(name, took, victim) for name, took, victim in report] + [("requests", load.requests, None)]


@pytest.mark.parametrize("local", [False, True], ids=["shared cache", "local layer"])
def test_fault_drill(settings, local, capsys):
    require_redis_server()
    report = run_drill(settings, local)
    requests = report.pop()[1]
    with capsys.disabled():  # the figures the docs and the closing note quote
        mode = "local layer" if local else "shared cache only"
        print(f"\n{mode}: gunicorn, 2 workers, {requests} requests, no 5xx, no valid token refused")
        print(f"  {'phase':<24}{'revoke took':>12}{'last accepted':>15}{'both refusing':>15}")
        for name, took, victim in report:
            accepted = "never" if victim.accepted_after is None else f"+{victim.accepted_after * 1000:.0f} ms"
            refusing = f"+{max(victim.refused_by.values()) * 1000:.0f} ms"
            print(f"  {name:<24}{took * 1000:>9.0f} ms{accepted:>15}{refusing:>15}")
