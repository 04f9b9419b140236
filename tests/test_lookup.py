"""The compiled token lookup: in use on every stack, and row for row what the ORM's query returns."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from auth_token import keys, lookup
from auth_token.models import Token, UserTokenTakeover
from tests.factories import UserFactory, issue_token, start_takeover

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_compiled_lookups():
    lookup._compiled.clear()
    yield
    lookup._compiled.clear()


def field_values(instance, skip=()):
    """Every concrete field's value and type (but ``skip``): what a request or the cache could read."""
    if instance is None:
        return None
    return {
        field.attname: (getattr(instance, field.attname), type(getattr(instance, field.attname)))
        for field in instance._meta.concrete_fields
        if field.attname not in skip
    }


def loaded(token, skip=()):
    """The token and the related rows the lookup must have loaded, read without a query."""
    if token is None:
        return None
    takeover = token.active_takeover
    return {
        "token": field_values(token, skip),
        "user": field_values(token.user, skip),
        "takeover": field_values(takeover, skip),
        "target": field_values(takeover.user, skip) if takeover is not None else None,
    }


def assert_same_as_orm(digest, django_assert_num_queries):
    """Compare the compiled lookup with the ORM's query; return the compiled result."""
    now = timezone.now()
    compiled = lookup.CompiledLookup(connection.alias)
    with django_assert_num_queries(1):
        fast = compiled.fetch(digest, now)
        fast_loaded = loaded(fast)
    expected = lookup.lookup_queryset(digest, now).first()
    assert fast_loaded == loaded(expected)
    return fast


def test_same_as_orm__plain_token(alice, django_assert_num_queries):
    token, raw = issue_token(alice, name="Laptop", related_objs=[alice])
    found = assert_same_as_orm(keys.digest(raw), django_assert_num_queries)
    assert found.pk == token.pk
    assert found.user == alice
    assert found.active_takeover is None


def test_same_as_orm__active_takeover(alice, bob, django_assert_num_queries):
    token, raw = issue_token(alice)
    takeover = start_takeover(token, bob, reason="support")
    Token.objects.filter(pk=token.pk).update(active_takeover=takeover)
    found = assert_same_as_orm(keys.digest(raw), django_assert_num_queries)
    assert found.active_takeover.pk == takeover.pk
    assert found.active_takeover.user == bob


def test_same_as_orm__takeover_of_a_deleted_user(alice, bob, django_assert_num_queries):
    token, raw = issue_token(alice)
    takeover = start_takeover(token, bob)
    UserTokenTakeover.objects.filter(pk=takeover.pk).update(user=None)
    found = assert_same_as_orm(keys.digest(raw), django_assert_num_queries)
    assert found.active_takeover.user is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="revoked"),
        pytest.param({"expires_at": timezone.now() - timedelta(seconds=1)}, id="expired"),
    ],
)
def test_same_as_orm__nothing_for_an_unusable_token(alice, change, django_assert_num_queries):
    token, raw = issue_token(alice)
    Token.objects.filter(pk=token.pk).update(**change)
    assert assert_same_as_orm(keys.digest(raw), django_assert_num_queries) is None


def test_same_as_orm__unknown_digest(alice, django_assert_num_queries):
    issue_token(alice)
    assert assert_same_as_orm(keys.digest(keys.generate()), django_assert_num_queries) is None


def test_same_as_orm__null_fields(django_assert_num_queries):
    user = UserFactory(username="nulls")
    token, raw = issue_token(user)
    Token.objects.filter(pk=token.pk).update(ip=None, device=None)
    type(user).objects.filter(pk=user.pk).update(last_login=None)
    found = assert_same_as_orm(keys.digest(raw), django_assert_num_queries)
    assert found.ip is None
    assert found.user.last_login is None


def test_compiled_lookup__is_the_path_in_use(client, alice_token):
    """A request runs the compiled SQL, not the ORM's: the fast path cannot be silently off."""
    executed = []

    def record(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}")
    assert response.json()["user"] == "alice"
    compiled = lookup.compiled_lookup(connection.alias)
    assert isinstance(compiled, lookup.CompiledLookup)
    assert executed == [compiled.sql]


def test_compiled_lookup__a_failure_is_loud_and_the_orm_answers(alice, monkeypatch, caplog):
    token, raw = issue_token(alice)

    def broken(*args, **kwargs):
        raise RuntimeError("an unforeseen backend")

    monkeypatch.setattr(lookup, "CompiledLookup", broken)
    with caplog.at_level(logging.ERROR, logger="auth_token.lookup"):
        assert lookup.fetch(keys.digest(raw)).pk == token.pk
        assert lookup.fetch(keys.digest(raw)).pk == token.pk
    assert [record.levelname for record in caplog.records] == ["ERROR"]  # once per process
    assert "compiled token lookup is off" in caplog.records[0].getMessage()
    assert lookup.compiled_lookup(connection.alias) is None


def test_compiled_lookup__refuses_a_user_model_with_multi_table_inheritance(monkeypatch):
    """Its fields span two tables; the ORM answers instead (loudly, as above)."""
    monkeypatch.setattr(UserTokenTakeover._meta, "parents", {object: None})
    with pytest.raises(ValueError, match="inherits from a concrete model"):
        lookup.CompiledLookup(connection.alias)
