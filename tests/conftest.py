import os
import time
import uuid

import pytest
import time_machine
from django.contrib.auth import user_logged_in, user_login_failed
from django.contrib.auth.models import Permission
from django.db import connection

from auth_token import journal, signals
from tests.factories import UserFactory, issue_token

pytest_plugins = ["auth_token.pytest_plugin"]


@pytest.fixture(autouse=True)
def _stop_cache_journal():
    """The journal's thread holds a database connection of its own: close it with each test."""
    yield
    journal.reset()


@pytest.fixture(autouse=True)
def _clear_default_cache():
    """The login throttles count in the default cache: every test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login_attempts():
    """The sender of each ``user_logged_in`` and ``user_login_failed`` sent during the test."""
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    user_logged_in.connect(receiver)
    user_login_failed.connect(receiver)
    yield seen
    user_logged_in.disconnect(receiver)
    user_login_failed.disconnect(receiver)


def _recorded(signal, record):
    """Yield the list that ``record(**kwargs)`` appends to for each ``signal`` sent meanwhile."""
    received = []

    def receiver(sender, **kwargs):
        received.append(record(**kwargs))

    signal.connect(receiver)
    yield received
    signal.disconnect(receiver)


@pytest.fixture
def revocations():
    """``(token pk, reason)`` for each ``token_revoked`` sent during the test."""
    yield from _recorded(signals.token_revoked, lambda token, reason, **kwargs: (token.pk, reason))


@pytest.fixture
def takeover_ends():
    """``(takeover pk, reason)`` for each ``takeover_ended`` sent during the test."""
    yield from _recorded(signals.takeover_ended, lambda takeover, reason, **kwargs: (takeover.pk, reason))


@pytest.fixture
def login_window():
    """Start at the beginning of a minute: the login budget's window cannot roll over midway."""
    now = time.time()
    with time_machine.travel(now - now % 60 + 60, tick=True):
        yield


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def staff(db):
    """Staff who may take over users (the ``auth_token.takeover_user`` permission)."""
    user = UserFactory(username="staff", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="takeover_user", content_type__app_label="auth_token")
    )
    return user


@pytest.fixture
def alice_token(alice):
    """Alice's token and raw value."""
    return issue_token(alice)


@pytest.fixture
def alice_header(alice_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {alice_token[1]}"}


@pytest.fixture
def alice_cookie_client(alice_token):
    from auth_token.test import Client

    client = Client()
    client.cookies["Authorization"] = alice_token[1]
    return client


@pytest.fixture
def csrf_client():
    from auth_token.test import Client

    return Client(enforce_csrf_checks=True)


def server_database():
    """Skip unless on a database server: SQLite cannot run these races."""
    return pytest.mark.skipif(
        connection.vendor == "sqlite", reason="needs PostgreSQL or MariaDB (DB=postgres|mariadb)"
    )


REDIS_URL = "redis://127.0.0.1:6379/15"  # db 15 is for the tests only


def use_two_process_caches(settings):
    """Point AUTH_TOKEN_CACHE at "process_a": it and "process_b" share one Redis (db 15) and a new
    key prefix, standing for two processes of one site. Return the prefix."""
    prefix = f"test-{uuid.uuid4().hex}"
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "process_a": {**backend, "KEY_PREFIX": prefix},
        "process_b": {**backend, "KEY_PREFIX": prefix},
    }
    require_redis("process_a")
    settings.AUTH_TOKEN_CACHE = "process_a"
    return prefix


def require_redis(alias):
    """Skip when the Redis behind ``alias`` is missing locally; fail in CI (``CI`` set)."""
    from django.core.cache import caches

    try:
        caches[alias].get("ping")
    except Exception as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
