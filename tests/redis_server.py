"""A private ``redis-server`` for the fault tests: paused, resumed, killed and restarted at will.

It listens on 127.0.0.1 on a port of its own and keeps an append-only file in a temporary
directory, so a restart brings back what it held, as a production Redis would. The machine's
shared Redis is never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis


class RedisServer:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="auth-token-redis-")
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on a port the OS just gave out; try another if someone took it meanwhile."""
        for _ in range(5):
            self.port = _unused_port()
            if self._launch():
                return
        raise RuntimeError("redis-server did not start")

    def restart(self) -> None:
        """Start again on the same port, from the append-only file."""
        for _ in range(5):
            if self._launch():
                return
            time.sleep(0.2)
        raise RuntimeError(f"redis-server did not start again on port {self.port}")

    def _launch(self) -> bool:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--dir", self.directory, "--save", "", "--appendonly", "yes"),
                *("--appendfsync", "always", "--protected-mode", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self._answers():
            return True
        self.process.kill()
        self.process.wait()
        return False

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers, as in a partition."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _answers(self, seconds: float = 10.0) -> bool:
        """Whether this server (not another one that took the port) answers."""
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    return client.info("server")["process_id"] == self.process.pid
                except redis.RedisError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_redis_server() -> None:
    """Skip without a ``redis-server`` program locally; fail in CI (``CI`` set)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")


def cache_settings(server: RedisServer, prefix: str) -> dict:
    """A token cache on ``server`` with the socket timeouts the docs ask for."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": server.url,
        "KEY_PREFIX": prefix,
        "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
    }
