"""The per-process layer (``AUTH_TOKEN_LOCAL_CACHE``) against a real Redis.

Another process is played by switching off this process's own invalidation: only the published
message can then drop the entry, as in a process that did not make the change. Locally a missing
Redis skips these tests; in CI (``CI`` set) it fails them.
"""

import json
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.utils import timezone

from auth_token import cache as token_cache
from auth_token import checks, local_cache, lookup, services
from auth_token.models import Token
from tests.conftest import REDIS_URL, require_redis
from tests.factories import UserFactory, issue_token, start_takeover

pytestmark = pytest.mark.django_db(transaction=True)  # invalidations run on commit


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.fixture
def layer(settings):
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "tokens": {**backend, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"},
    }
    require_redis("tokens")
    settings.AUTH_TOKEN_CACHE = "tokens"
    settings.AUTH_TOKEN_LOCAL_CACHE = True
    token_cache._paused_until = 0.0
    layer = local_cache.get_layer()
    wait_for(lambda: layer.ready)
    yield layer
    caches["tokens"].clear()
    local_cache.reset()


def get_me(client, raw):
    return client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"]


@pytest.fixture
def warm(layer, client, alice_token):
    token, raw = alice_token
    for _ in range(3):  # the shared cache learns the owner; the local layer keeps the token
        assert get_me(client, raw) == "alice"
    assert token.key in layer.entries
    return alice_token


def as_other_process(monkeypatch, change):
    """Make ``change`` as a process without our layer: only its message can reach us."""
    with monkeypatch.context() as patch:
        patch.setattr(local_cache, "_layer", None)
        patch.setattr(local_cache, "_origin", "another-process")
        change()


def test_local_cache__warm_request_costs_no_sql_and_no_round_trip(
    warm, client, monkeypatch, django_assert_num_queries
):
    cache = caches["tokens"]
    calls = []
    for name in ("get", "get_many", "add", "set", "set_many"):
        monkeypatch.setattr(cache, name, lambda *args, _name=name, **kwargs: calls.append(_name))
    with django_assert_num_queries(0):
        assert get_me(client, warm[1]) == "alice"
    assert calls == []


def test_local_cache__entry_has_no_password(warm, layer, client):
    assert "password" not in layer.entries[warm[0].key].token.build().user.__dict__
    request = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {warm[1]}").wsgi_request
    assert request.user.check_password("password")  # loaded again on demand


def test_local_cache__each_request_gets_its_own_copy(warm, client):
    first = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {warm[1]}").wsgi_request
    first.user.first_name = "Mallory"
    first.token.name = "changed in a view"
    second = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {warm[1]}").wsgi_request
    assert second.user.first_name != "Mallory"
    assert second.token.name != "changed in a view"
    assert second.user._wrapped is not first.user._wrapped


CHANGES = [
    pytest.param(lambda token, alice: services.revoke(token), id="revoke"),
    pytest.param(lambda token, alice: services.logout_all(alice), id="logout-all"),
    pytest.param(lambda token, alice: (alice.set_password("new"), alice.save()), id="password"),
    pytest.param(lambda token, alice: (setattr(alice, "is_active", False), alice.save()), id="deactivate"),
    pytest.param(lambda token, alice: alice.delete(), id="delete-user"),
]


@pytest.mark.parametrize("change", CHANGES)
def test_local_cache__own_changes_apply_at_once(warm, client, change):
    token, raw = warm
    change(token, token.user)
    assert get_me(client, raw) is None


@pytest.mark.parametrize("change", CHANGES)
def test_local_cache__other_processes_changes_apply_when_the_message_arrives(
    warm, layer, client, monkeypatch, change
):
    token, raw = warm
    as_other_process(monkeypatch, lambda: change(token, token.user))
    wait_for(lambda: token.key not in layer.entries)
    assert get_me(client, raw) is None


def test_local_cache__takeover_target_change_reaches_the_entry(layer, client, alice, monkeypatch):
    staff = UserFactory(username="staff", is_staff=True)
    token, raw = issue_token(staff)
    start_takeover(token, alice)
    for _ in range(3):
        assert get_me(client, raw) == "alice"
    assert token.key in layer.entries
    alice.is_active = False
    as_other_process(monkeypatch, alice.save)  # a change of the target, not of the owner
    wait_for(lambda: token.key not in layer.entries)
    assert get_me(client, raw) == "staff"


def test_local_cache__invalidate_users_for_queryset_updates(warm, client, alice):
    Token.objects.filter(user=alice).update(is_active=False)  # no signal: still cached
    assert get_me(client, warm[1]) == "alice"
    token_cache.invalidate_users([alice.pk])
    assert get_me(client, warm[1]) is None


def test_local_cache__fill_that_raced_an_invalidation_is_discarded(layer, alice_token):
    token = Token.objects.select_related("user").get(pk=alice_token[0].pk)
    since = layer.epoch  # a reader starts ...
    layer.invalidate([token.user_id])  # ... a change lands while it reads ...
    layer.put(token, False, since, 60)  # ... and what it read is not stored
    assert token.key not in layer.entries
    layer.put(token, False, layer.epoch, 60)
    assert token.key in layer.entries


def test_local_cache__renewal_writes_once_then_warms_again(warm, client, django_assert_num_queries):
    _, raw = warm
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with django_assert_num_queries(1):  # only the UPDATE
            assert get_me(client, raw) == "alice"
        with django_assert_num_queries(1):  # the renewal dropped the entries: one SELECT
            assert get_me(client, raw) == "alice"
        for _ in range(2):
            get_me(client, raw)
        with django_assert_num_queries(0):
            assert get_me(client, raw) == "alice"


def test_local_cache__unreadable_message_empties_the_layer(warm, layer):
    local_cache.redis_client(caches["tokens"]).publish(layer.channel, "not json")
    wait_for(lambda: not layer.entries)
    assert layer.ready


def test_local_cache__message_names_users_and_digests(warm, layer):
    message = {"users": [], "digests": [warm[0].key]}
    local_cache.redis_client(caches["tokens"]).publish(layer.channel, json.dumps(message))
    wait_for(lambda: warm[0].key not in layer.entries)


def test_local_cache__own_message_does_not_drop_the_refilled_entry(warm, layer, client):
    token, raw = warm
    token_cache.invalidate_tokens([token.key])  # e.g. a renewal in this process
    assert token.key not in layer.entries  # applied here at once
    get_me(client, raw)
    assert token.key in layer.entries  # refilled
    echo = {"users": [], "digests": [token.key], "origin": local_cache._origin}
    local_cache.redis_client(caches["tokens"]).publish(layer.channel, json.dumps(echo))
    other = {"users": [], "digests": ["1$not-this-one"]}
    local_cache.redis_client(caches["tokens"]).publish(layer.channel, json.dumps(other))
    wait_for(lambda: "d:1$not-this-one" in layer.marked)  # both messages were read, in order
    assert token.key in layer.entries


def test_local_cache__a_writing_process_publishes_without_starting_a_layer(warm, layer):
    listener = local_cache.redis_client(caches["tokens"]).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(layer.channel)
    local_cache.reset()  # this process now only writes, like a management command
    services.revoke(warm[0])
    assert local_cache._layer is None
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = listener.get_message(timeout=0.5)
    listener.close()
    assert json.loads(message["data"]) == {
        "users": [str(warm[0].user_id)],  # a revocation also replaces its owner's generation
        "digests": [warm[0].key],
        "origin": local_cache._origin,
    }


def test_local_cache__serves_nothing_until_subscribed(warm, layer, client, monkeypatch):
    layer.ready = False
    assert layer.get(warm[0].key) is None
    shared = caches["tokens"]
    calls = []
    original = shared.get_many
    monkeypatch.setattr(shared, "get_many", lambda *args: calls.append("get_many") or original(*args))
    assert get_me(client, warm[1]) == "alice"
    assert calls == ["get_many"]  # the shared cache was asked


def test_local_cache__a_forked_child_starts_its_own(layer):
    local_cache._after_fork()
    try:
        assert local_cache.get_layer() is not layer
    finally:
        layer.stop()


def test_local_cache__settings_change_stops_it(layer, settings):
    settings.AUTH_TOKEN_LOCAL_CACHE = False
    assert local_cache.get_layer() is None
    assert layer.stopping.is_set()


def test_local_cache__is_off_by_default(settings):
    settings.AUTH_TOKEN_CACHE = None
    assert local_cache.get_layer() is None


def test_local_cache__checks(settings):
    settings.AUTH_TOKEN_LOCAL_CACHE = True
    settings.AUTH_TOKEN_CACHE = None
    assert checks.check_settings() == [checks.E009]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.AUTH_TOKEN_CACHE = "default"
    assert checks.check_settings() == [checks.E009]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    assert checks.check_settings() == []


def test_local_cache__async_view_needs_no_thread(warm, monkeypatch, django_assert_num_queries):
    from asgiref.sync import async_to_sync

    from auth_token import state
    from auth_token.test import AsyncClient

    def no_thread(function):
        raise AssertionError(f"{function.__name__} ran in a thread")

    monkeypatch.setattr(state, "sync_to_async", no_thread)
    client = AsyncClient()
    with django_assert_num_queries(0):
        response = async_to_sync(client.get)("/me-async/", headers={"Authorization": f"Bearer {warm[1]}"})
    assert response.json()["user"] == "alice"


def test_local_cache__copies_are_independent(alice_token):
    token = Token.objects.select_related("user").get(pk=alice_token[0].pk)
    template = lookup.Template.of(token)
    token.user.first_name = "changed at the source"
    handed_out = template.build()
    handed_out.user.first_name = "changed by a request"
    again = template.build()
    assert again.user.first_name == "" and again.user is not handed_out.user
    assert (again.pk, again.user.pk, again.active_takeover) == (token.pk, token.user.pk, None)
    assert "password" not in again.user.__dict__
