"""A fill that raced a change never stores a usable entry.

The reader is paused between its SELECT and its cache write (the pause sits in the reader
thread's own cache object: Django's caches are per thread), and another thread, with its own
database connection and cache, makes the change meanwhile. The paused fill then writes an entry
built from rows read before the change; the next request must not use it.

With the local layer, the change is made as another process would: only its published message
reaches this process's layer. Locally a missing Redis skips these tests; in CI (``CI`` set) it
fails them.
"""

import threading
import time

import pytest
from django.core.cache import caches
from django.db import connections

from auth_token import cache as token_cache
from auth_token import local_cache, services
from auth_token.models import DeviceKey, Token
from auth_token.reasons import TakeoverEndReason
from auth_token.services._ending import end_takeover
from auth_token.test import Client
from tests.conftest import use_two_process_caches
from tests.factories import UserFactory, issue_token, start_takeover

pytestmark = pytest.mark.django_db(transaction=True)  # invalidations run on commit

PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"


@pytest.fixture(params=["shared", "shared+local"])
def cache_mode(request, settings):
    use_two_process_caches(settings)
    token_cache._paused_until = 0.0
    local = request.param == "shared+local"
    if local:
        settings.AUTH_TOKEN_LOCAL_CACHE = True
        layer = local_cache.get_layer()
        deadline = time.monotonic() + 5
        while not layer.ready:
            assert time.monotonic() < deadline, "the local layer never subscribed"
            time.sleep(0.01)
    yield local
    caches["process_a"].clear()
    local_cache.reset()


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def get_me(client, raw):
    return client.get("/me/", **bearer(raw)).json()["user"]


def in_another_thread(change, *, as_other_process):
    """Run ``change`` in a thread of its own (its own connection and cache); re-raise its error."""
    errors = []

    def run():
        try:
            change()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    if as_other_process:
        # This process's layer must learn of the change from the published message alone.
        saved = local_cache._layer, local_cache._origin
        local_cache._layer, local_cache._origin = None, "another-process"
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
    finally:
        if as_other_process:
            started = local_cache._layer  # a request of the other "process" starts its own layer
            if started is not None:
                started.stop()
            local_cache._layer, local_cache._origin = saved
    assert not thread.is_alive() and not errors, errors


def race(monkeypatch, cache_mode, client, token, raw, change):
    """Make one request of ``raw`` that must fill the cache, paused before its entry write while
    ``change`` runs; return the user that request saw."""
    shared = caches["process_a"]  # this thread's instance only
    shared.delete(token_cache.entry_key(token.key))
    if cache_mode:
        local_cache.get_layer().invalidate(digests=[token.key])
    original_set = shared.set
    ran = []

    def paused_set(key, *args, **kwargs):
        if key.startswith(token_cache.entry_key("")) and not ran:
            ran.append(True)
            in_another_thread(change, as_other_process=cache_mode)
        return original_set(key, *args, **kwargs)

    monkeypatch.setattr(shared, "set", paused_set)
    seen = get_me(client, raw)
    monkeypatch.undo()
    assert ran, "the request wrote no entry: nothing raced"
    if cache_mode:  # the published message reaches this process's layer
        layer = local_cache.get_layer()
        deadline = time.monotonic() + 5
        while token.key in layer.entries and time.monotonic() < deadline:
            time.sleep(0.01)
    return seen


@pytest.fixture
def alice_raw(alice, client, cache_mode):
    """Alice's token, its owner known to the cache (the next request writes an entry)."""
    token, raw = issue_token(alice)
    assert get_me(client, raw) == "alice"
    return token, raw


@pytest.mark.parametrize(
    "kind",
    ["revoke", "logout", "logout_all", "device_deactivated", "password_changed"],
)
def test_race__revocation_is_never_undone_by_a_paused_fill(
    monkeypatch, cache_mode, client, alice, alice_raw, kind
):
    token, raw = alice_raw
    device = services.register_device(None, alice, PHONE)[0] if kind == "device_deactivated" else None
    if device is not None:
        Token.objects.filter(pk=token.pk).update(device=device)

    def change():
        if kind == "revoke":
            services.revoke(Token.objects.get(pk=token.pk))
        elif kind == "logout":
            response = Client().post("/api/logout/", content_type="application/json", **bearer(raw))
            assert response.status_code == 204
        elif kind == "logout_all":
            services.logout_all(alice)
        elif kind == "device_deactivated":
            services.deactivate_device(DeviceKey.objects.get(pk=device.pk))
        else:
            user = type(alice).objects.get(pk=alice.pk)
            user.set_password("another password")
            user.save()

    assert race(monkeypatch, cache_mode, client, token, raw, change) == "alice"
    assert get_me(client, raw) is None
    assert get_me(client, raw) is None


@pytest.fixture
def staff_raw(client, cache_mode):
    staff = UserFactory(username="staff", is_staff=True)
    token, raw = issue_token(staff)
    assert get_me(client, raw) == "staff"
    return token, raw


def test_race__takeover_start_is_seen(monkeypatch, cache_mode, client, alice, staff_raw):
    token, raw = staff_raw

    def change():
        start_takeover(token, alice)  # the service invalidates the cached token

    assert race(monkeypatch, cache_mode, client, token, raw, change) == "staff"
    assert get_me(client, raw) == "alice"


@pytest.mark.parametrize("kind", ["takeover_ended", "target_deleted"])
def test_race__an_ended_takeover_is_never_undone(monkeypatch, cache_mode, client, alice, staff_raw, kind):
    token, raw = staff_raw
    start_takeover(token, alice)

    def change():
        if kind == "takeover_ended":
            end_takeover(Token.objects.get(pk=token.pk), TakeoverEndReason.TOKEN_REVOKED)
        else:
            type(alice).objects.get(pk=alice.pk).delete()

    assert race(monkeypatch, cache_mode, client, token, raw, change) == "alice"
    assert get_me(client, raw) == "staff"


def test_deleted_target__a_warm_entry_is_dropped(cache_mode, client, alice, staff_raw):
    token, raw = staff_raw
    start_takeover(token, alice)
    token_cache.invalidate_tokens([token.key], owners=[token.user_id])
    assert get_me(client, raw) == "alice"
    assert get_me(client, raw) == "alice"  # from the cache now
    alice.delete()
    assert get_me(client, raw) == "staff"
