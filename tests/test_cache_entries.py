"""Cache entries are plain data rebuilt with ``Model.from_db``: the same token, user and takeover
as the database lookup, and nothing a process running other code could misread."""

import pickle

import pytest

from auth_token import cache as token_cache
from auth_token import keys, lookup
from auth_token.models import Token, UserTokenTakeover
from tests.factories import UserFactory, issue_token, start_takeover
from tests.test_lookup import loaded

pytestmark = pytest.mark.django_db

PLAIN_MODULES = {"builtins", "datetime", "uuid", "decimal"}


def looked_up(raw):
    return lookup.fetch(keys.digest(raw))


def round_trip(token, acting_as_target=False):
    """Pack ``token`` as the cache stores it (pickled, as Django's cache backends do) and rebuild it."""
    stored = pickle.loads(pickle.dumps(token_cache.pack(token, acting_as_target, "generation")))
    return token_cache.unpack(stored, "generation")


def leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def state(token):
    """What a request reads of the token and its rows, but the passwords, which entries never hold."""
    return loaded(token, skip=("password",))


def test_entry__plain_values_only(alice):
    _, raw = issue_token(alice, related_objs=[alice])
    entry = token_cache.pack(looked_up(raw), False, "generation")
    assert {type(value).__module__ for value in leaves(entry) if value is not None} <= PLAIN_MODULES
    assert alice.password not in repr(entry)


def test_entry__rebuilds_what_the_lookup_loaded(alice):
    _, raw = issue_token(alice, name="Laptop")
    token = looked_up(raw)
    rebuilt, acting_as_target = round_trip(token)
    assert "password" not in rebuilt.user.__dict__  # deferred: loaded again on access
    assert acting_as_target is False
    assert state(rebuilt) == state(token)


def test_entry__rebuilds_a_takeover(alice, bob):
    token, raw = issue_token(alice)
    start_takeover(token, bob)
    found = looked_up(raw)
    rebuilt, acting_as_target = round_trip(found, True)
    assert acting_as_target is True
    assert state(rebuilt) == state(found)
    assert rebuilt.active_takeover.user == bob


def test_entry__rebuilds_a_takeover_of_a_deleted_user(alice, bob):
    token, raw = issue_token(alice)
    takeover = start_takeover(token, bob)
    UserTokenTakeover.objects.filter(pk=takeover.pk).update(user=None)
    rebuilt, _ = round_trip(looked_up(raw))
    assert rebuilt.active_takeover.user is None


def test_entry__null_fields(db):
    user = UserFactory(username="nulls")
    token, raw = issue_token(user)
    Token.objects.filter(pk=token.pk).update(ip=None, device=None)
    type(user).objects.filter(pk=user.pk).update(last_login=None)
    found = looked_up(raw)
    rebuilt, _ = round_trip(found)
    assert state(rebuilt) == state(found)


@pytest.mark.parametrize("generation", ["another generation", None])
def test_entry__another_generation_is_a_miss(alice, generation):
    _, raw = issue_token(alice)
    entry = token_cache.pack(looked_up(raw), False, "generation")
    assert token_cache.unpack(entry, generation) is None
