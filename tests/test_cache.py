"""The optional token cache against a real Redis: 0 SQL when warm, revocation seen at once.

Two cache aliases on one Redis server stand for two processes. Locally a missing Redis skips
these tests; in CI (``CI`` set) it fails them.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from auth_token import cache as token_cache
from auth_token import checks, services
from auth_token.models import Client as ApiClient
from auth_token.models import Token
from tests.conftest import use_two_process_caches
from tests.factories import UserFactory, issue_token, start_takeover

pytestmark = pytest.mark.django_db(transaction=True)  # invalidations run on commit


@pytest.fixture
def redis(settings):
    use_two_process_caches(settings)
    token_cache._paused_until = 0.0
    yield settings
    caches["process_b"].clear()  # db 15 is for these tests only


def get_me(client, raw):
    return client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"]


def as_process_b(settings, action):
    settings.AUTH_TOKEN_CACHE = "process_b"
    try:
        return action()
    finally:
        settings.AUTH_TOKEN_CACHE = "process_a"


@pytest.fixture
def warm(redis, client, alice_token):
    """Alice's token, seen twice: the first request learns the owner, the second stores the entry."""
    raw = alice_token[1]
    assert get_me(client, raw) == "alice"
    assert get_me(client, raw) == "alice"
    return alice_token


def test_cache__warm_request_costs_no_sql(warm, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert get_me(client, warm[1]) == "alice"


def test_cache__warm_request_is_one_round_trip(warm, client, monkeypatch):
    cache = caches["process_a"]
    calls = []
    for name in ("get", "get_many", "add", "set", "set_many"):
        original = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *args, _call=original, _name=name, **kwargs: calls.append(_name) or _call(*args, **kwargs),
        )
    assert get_me(client, warm[1]) == "alice"
    assert calls == ["get_many"]


def test_cache__entry_has_no_password(warm, client):
    entry = caches["process_a"].get(token_cache.entry_key(warm[0].key))
    assert warm[0].user.password not in repr(entry)
    cached, _ = token_cache.unpack(entry, entry["generation"])
    assert "password" not in cached.user.__dict__
    assert warm[0].user.password  # the live object keeps it
    request = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {warm[1]}").wsgi_request
    with CaptureQueriesContext(connection) as captured:
        assert request.user.check_password("password")  # loaded again on demand
    assert len(captured) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda token, alice: services.revoke(token), id="revoke"),
        pytest.param(lambda token, alice: services.logout_all(alice), id="logout-all"),
        pytest.param(lambda token, alice: (alice.set_password("new"), alice.save()), id="password"),
        pytest.param(
            lambda token, alice: (setattr(alice, "is_active", False), alice.save()), id="deactivate"
        ),
        pytest.param(lambda token, alice: alice.delete(), id="delete-user"),
    ],
)
def test_cache__changes_in_another_process_apply_at_once(warm, client, redis, change):
    token, raw = warm
    as_process_b(redis, lambda: change(token, token.user))
    assert get_me(client, raw) is None


def test_cache__logout_through_the_view(warm, client):
    _, raw = warm
    client.post("/logout/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert get_me(client, raw) is None


def test_cache__invalidate_users_for_queryset_updates(warm, client, alice):
    Token.objects.filter(user=alice).update(is_active=False)  # no signal: still cached
    assert get_me(client, warm[1]) == "alice"
    token_cache.invalidate_users([alice.pk])
    assert get_me(client, warm[1]) is None


def test_cache__takeover_target_change_applies_at_once(redis, client, alice):
    staff = UserFactory(username="staff", is_staff=True)
    token, raw = issue_token(staff)
    start_takeover(token, alice)
    assert get_me(client, raw) == "alice"
    assert get_me(client, raw) == "alice"
    alice.is_active = False
    as_process_b(redis, alice.save)
    assert get_me(client, raw) == "staff"


def test_cache__renewal_writes_then_warms_again(warm, client, django_assert_num_queries):
    _, raw = warm
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with django_assert_num_queries(1):  # the cached entry is still fresh: only the UPDATE
            assert get_me(client, raw) == "alice"
        with django_assert_num_queries(1):  # the renewal dropped the entry: one SELECT refills it
            assert get_me(client, raw) == "alice"
        with django_assert_num_queries(0):
            assert get_me(client, raw) == "alice"


def test_cache__stale_writer_never_wins(redis, client, alice_token):
    token, raw = alice_token
    get_me(client, raw)  # owner known
    generation = token_cache._generation(caches["process_a"], token.user_id)
    token_cache.invalidate_users([token.user_id])  # a change lands after a reader's generation read
    services.revoke(token)
    stale = Token.objects.select_related("user").get(pk=token.pk)
    stale.is_active = True
    caches["process_a"].set(token_cache.entry_key(token.key), token_cache.pack(stale, False, generation))
    assert get_me(client, raw) is None


def test_cache__failure_falls_back_to_database(redis, client, alice_token, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "process_a": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    assert get_me(client, alice_token[1]) == "alice"
    assert "Token cache failed" in caplog.text
    assert token_cache.get_cache() is None  # paused


def test_cache__checks(settings):
    settings.AUTH_TOKEN_CACHE = "missing"
    assert [m.id for m in checks.check_settings()] == ["auth_token.E008"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.AUTH_TOKEN_CACHE = "default"
    assert checks.check_settings() == [checks.W005]


def test_cache__an_entry_of_the_first_format_is_never_read(warm, client, django_assert_num_queries):
    """Version 1 pickled instances under ``auth_token:entry:<digest>``: a process still running it
    during a rolling upgrade writes there, and this version never looks."""
    token, raw = warm
    services.revoke(token)
    old = Token.objects.select_related("user").get(pk=token.pk)
    old.is_active = True
    caches["process_a"].set(f"auth_token:entry:{token.key}", old)
    assert get_me(client, raw) is None


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param(lambda entry: {**entry, "layout": "another layout"}, id="another-layout"),
        pytest.param(lambda entry: ("an", "entry", "of", "another", "kind"), id="not-a-dict"),
        pytest.param(lambda entry: {"generation": entry["generation"]}, id="truncated"),
    ],
)
def test_cache__an_entry_it_cannot_use_is_a_miss(warm, client, foreign, django_assert_num_queries):
    """Another version's entry under this key (another user model, another field list): read the
    database, never misread the entry, never fail."""
    token, raw = warm
    key = token_cache.entry_key(token.key)
    entry = caches["process_a"].get(key)
    services.revoke(token)
    current = token_cache._generation(caches["process_a"], token.user_id)  # as if written just now
    caches["process_a"].set(key, foreign({**entry, "generation": current}))
    with django_assert_num_queries(1):
        assert get_me(client, raw) is None


def test_cache__deleting_an_active_token_by_query_applies_at_once(warm, client, redis):
    token, raw = warm
    as_process_b(redis, lambda: Token.objects.filter(pk=token.pk).delete())
    assert get_me(client, raw) is None


def test_cache__a_client_token_keeps_its_client_warm_and_ends_with_it(
    redis, client, alice, django_assert_num_queries
):
    cli = ApiClient.objects.create(name="cli", allowed_scopes=["sessions:read"])
    _, raw = issue_token(alice, client=cli)
    assert get_me(client, raw) == "alice"
    assert get_me(client, raw) == "alice"
    with django_assert_num_queries(0):
        assert client.get("/cli-only/", HTTP_AUTHORIZATION=f"Bearer {raw}").json() == {"client": "cli"}
    cli.is_active = False
    services.save_client(cli)
    assert get_me(client, raw) is None
