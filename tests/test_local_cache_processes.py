"""The local cache across real processes: two servers, each with its own layer, and this process.

Needs a database server (the processes share the test database) and Redis.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from django.db import connection

from auth_token import cache as token_cache
from auth_token import services
from auth_token.models import Token
from tests.conftest import REDIS_URL, require_redis, server_database
from tests.factories import issue_token

pytestmark = [pytest.mark.django_db(transaction=True), server_database()]


def who(port, raw):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/me/", headers={"Authorization": f"Bearer {raw}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["user"]


def eventually(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def servers(settings):
    """Two server processes with the local cache on, and this process set up like them."""
    tokens = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "tokens": tokens}
    settings.CACHES = caches
    require_redis("tokens")
    settings.AUTH_TOKEN_CACHE = "tokens"
    settings.AUTH_TOKEN_LOCAL_CACHE = True
    env = {
        **os.environ,
        "TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "TEST_CACHES": json.dumps(caches),
    }
    command = [sys.executable, "-m", "tests.process_server"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        # Each binds port 0 and prints the port the OS gave it: no other process can take it first.
        ports = [int(process.stdout.readline()) for process in processes]
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def serving(ports, raw, user):
    def answers():
        try:
            return all(who(port, raw) == user for port in ports)
        except OSError:
            return False

    return answers


def test_processes__revocation_reaches_every_process(servers, alice):
    token, raw = issue_token(alice)
    assert eventually(serving(servers, raw, "alice"))
    services.revoke(token)
    assert eventually(serving(servers, raw, None))


def test_processes__they_serve_from_their_own_layer_until_told(servers, alice, settings):
    from django.core.cache import caches

    token, raw = issue_token(alice)
    assert eventually(serving(servers, raw, "alice"))
    Token.objects.filter(pk=token.pk).update(is_active=False)  # no signal, no message
    caches["tokens"].clear()  # and no shared entry: only the processes' own layers remain
    assert serving(servers, raw, "alice")()
    token_cache.invalidate_tokens([token.key])  # what a writer without signals calls
    assert eventually(serving(servers, raw, None))
