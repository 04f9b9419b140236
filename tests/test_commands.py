"""The cleartokens command: what it deletes, what it keeps, how it batches and what it prints."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from auth_token import services
from auth_token.models import Token, TokenRelatedObject, UserTokenTakeover
from tests.factories import UserFactory, end_takeover, issue_token, start_takeover

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
# Matches the DELETE of the token table itself, not of auth_token_tokenrelatedobject.
TOKEN_DELETE = re.compile(r'^DELETE FROM [`"]?auth_token_token[`"]? WHERE .* IN \(([^)]*)\)')


class TTY(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self):
        return True


def _cleartokens(*args, stdout=None):
    out = stdout if stdout is not None else io.StringIO()
    call_command("cleartokens", *args, stdout=out)
    return out.getvalue()


def _stale(user, count=1, *, revoked=False):
    """Return ``count`` tokens of ``user`` that are revoked or, by default, expired."""
    tokens = [issue_token(user)[0] for _ in range(count)]
    changes = {"is_active": False} if revoked else {"expires_at": timezone.now() - timedelta(seconds=1)}
    Token.objects.filter(pk__in=[token.pk for token in tokens]).update(**changes)
    return tokens


def _token_deletes(queries):
    """Return the number of ids in each DELETE of the token table."""
    sizes = []
    for query in queries:
        match = TOKEN_DELETE.match(query["sql"])
        if match:
            sizes.append(len(match.group(1).split(",")))
    return sizes


@pytest.mark.parametrize(
    ("is_active", "expires_in", "deleted"),
    [
        pytest.param(False, timedelta(hours=1), True, id="revoked"),
        pytest.param(False, -timedelta(hours=1), True, id="revoked-and-expired"),
        pytest.param(True, -timedelta(hours=1), True, id="expired"),
        pytest.param(True, timedelta(0), True, id="expires-now"),
        pytest.param(True, timedelta(microseconds=1), False, id="expires-in-a-microsecond"),
        pytest.param(True, timedelta(hours=1), False, id="active"),
    ],
)
def test_cleartokens__which_tokens(alice, is_active, expires_in, deleted):
    with time_machine.travel(NOW, tick=False):
        token, _ = issue_token(alice)
        Token.objects.filter(pk=token.pk).update(is_active=is_active, expires_at=NOW + expires_in)
        output = _cleartokens()
    assert Token.objects.filter(pk=token.pk).exists() is not deleted
    assert output == f"{int(deleted)} tokens deleted.\n"


def test_cleartokens__expired_by_time_passing(alice, bob):
    with time_machine.travel(NOW, tick=False):
        issue_token(alice, expiration=True)
        preserved, _ = issue_token(bob, expiration=False)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert _cleartokens() == "1 tokens deleted.\n"
    assert list(Token.objects.all()) == [preserved]
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        assert _cleartokens() == "1 tokens deleted.\n"
    assert not Token.objects.exists()


def test_cleartokens__keeps_active_unexpired_of_every_user(alice, bob):
    kept = [issue_token(alice)[0], issue_token(bob)[0], issue_token(bob, expiration=False)[0]]
    services.revoke(issue_token(alice)[0])
    _stale(bob, 2)
    _stale(alice, 1, revoked=True)
    assert _cleartokens() == "4 tokens deleted.\n"
    assert sorted(Token.objects.values_list("pk", flat=True)) == sorted(token.pk for token in kept)
    assert _cleartokens() == "0 tokens deleted.\n"


def test_cleartokens__cascades_related_objects(alice, bob):
    _stale(alice)
    stale_related = issue_token(alice, related_objs=[bob, alice])[0]
    Token.objects.filter(pk=stale_related.pk).update(is_active=False)
    kept = issue_token(alice, related_objs=[bob])[0]
    assert TokenRelatedObject.objects.count() == 3
    _cleartokens()
    assert list(TokenRelatedObject.objects.values_list("token_id", "object_id")) == [(kept.pk, str(bob.pk))]


def test_cleartokens__keeps_takeover_audit_rows(alice, bob):
    [stale] = _stale(alice)
    kept, _ = issue_token(alice)
    ended = start_takeover(stale, bob)
    end_takeover(stale)
    current = start_takeover(kept, bob)
    _cleartokens()
    ended.refresh_from_db()
    current.refresh_from_db()
    assert ended.token_id is None
    assert (ended.actor_id, ended.user_id, ended.actor_repr, ended.user_repr) == (
        alice.pk,
        bob.pk,
        "alice",
        "bob",
    )
    assert ended.end_reason == "released"
    assert current.token_id == kept.pk
    assert UserTokenTakeover.objects.count() == 2


def test_cleartokens__ends_takeover_of_deleted_token(alice, bob):
    [stale] = _stale(alice)
    takeover = start_takeover(stale, bob)
    _cleartokens()
    assert not Token.objects.filter(pk=stale.pk).exists()
    takeover.refresh_from_db()
    assert takeover.token_id is None
    assert not takeover.is_active
    assert takeover.ended_at is not None


@pytest.mark.parametrize(
    ("batch_size", "sizes"),
    [
        (1, [1, 1, 1, 1, 1]),
        (2, [2, 2, 1]),
        (4, [4, 1]),
        (5, [5]),
        (1000, [5]),
    ],
)
def test_cleartokens__batches(alice, batch_size, sizes):
    kept, _ = issue_token(alice)
    _stale(alice, 3)
    _stale(alice, 2, revoked=True)
    with CaptureQueriesContext(connection) as queries:
        output = _cleartokens("--batch-size", str(batch_size))
    assert _token_deletes(queries.captured_queries) == sizes
    assert output == "5 tokens deleted.\n"
    assert list(Token.objects.all()) == [kept]


def test_cleartokens__batches_with_related_rows(alice, bob):
    tokens = [issue_token(alice, related_objs=[bob])[0] for _ in range(5)]
    for token in tokens:
        start_takeover(token, bob)
        end_takeover(token)
    Token.objects.update(is_active=False)
    assert _cleartokens("--batch-size", "2") == "5 tokens deleted.\n"
    assert not Token.objects.exists()
    assert not TokenRelatedObject.objects.exists()
    assert list(UserTokenTakeover.objects.values_list("token_id", flat=True)) == [None] * 5


def test_cleartokens__dry_run(alice):
    kept, _ = issue_token(alice)
    _stale(alice, 2)
    _stale(alice, 1, revoked=True)
    with CaptureQueriesContext(connection) as queries:
        output = _cleartokens("--dry-run")
    assert output == "3 tokens would be deleted.\n"
    assert Token.objects.count() == 4
    assert not [query for query in queries.captured_queries if not query["sql"].startswith("SELECT")]
    assert _cleartokens() == "3 tokens deleted.\n"
    assert list(Token.objects.all()) == [kept]


def test_cleartokens__dry_run_nothing_stale(alice):
    issue_token(alice)
    assert _cleartokens("--dry-run") == "0 tokens would be deleted.\n"


@pytest.mark.parametrize("batch_size", ["0", "-1"])
def test_cleartokens__bad_batch_size(alice, batch_size):
    _stale(alice, 2)
    with pytest.raises(CommandError, match="--batch-size must be a positive number"):
        _cleartokens("--batch-size", batch_size)
    assert Token.objects.count() == 2


def test_cleartokens__batch_size_not_a_number(db):
    with pytest.raises(CommandError, match="invalid int value"):
        _cleartokens("--batch-size", "ten")


@pytest.mark.parametrize(
    ("stdout", "verbosity", "expected"),
    [
        pytest.param(io.StringIO, 1, "3 tokens deleted.\n", id="pipe"),
        pytest.param(io.StringIO, 0, "", id="pipe-quiet"),
        pytest.param(
            TTY,
            1,
            "\r2 tokens deleted\r3 tokens deleted\n3 tokens deleted.\n",
            id="tty",
        ),
        pytest.param(
            TTY,
            2,
            "\r2 tokens deleted\r3 tokens deleted\n3 tokens deleted.\n",
            id="tty-verbose",
        ),
        pytest.param(TTY, 0, "", id="tty-quiet"),
    ],
)
def test_cleartokens__output(alice, stdout, verbosity, expected):
    _stale(alice, 3)
    output = _cleartokens("--batch-size", "2", "--verbosity", str(verbosity), stdout=stdout())
    assert output == expected
    assert not Token.objects.exists()


def test_cleartokens__progress_only_on_tty(alice):
    _stale(alice, 4)
    assert "\r" not in _cleartokens("--batch-size", "1")
    _stale(alice, 4)
    assert _cleartokens("--batch-size", "1", stdout=TTY()).count("\r") == 4


def test_cleartokens__many_users(db):
    users = UserFactory.create_batch(3)
    for user in users:
        _stale(user, 2)
        issue_token(user)
    assert _cleartokens("--batch-size", "4") == "6 tokens deleted.\n"
    assert sorted(Token.objects.values_list("user_id", flat=True)) == sorted(user.pk for user in users)


def test_cleartokens__closes_open_takeovers_through_the_service(
    staff, alice, bob, takeover_ends, monkeypatch
):
    expired, _ = issue_token(staff)
    revoked, _ = issue_token(staff)
    first = start_takeover(expired, alice)
    second = start_takeover(revoked, bob)
    expires_at = timezone.now() - timedelta(minutes=5)
    Token.objects.filter(pk=expired.pk).update(expires_at=expires_at)
    # A revoked token whose record a crash left open.
    Token.objects.filter(pk=revoked.pk).update(is_active=False)
    invalidations = []
    monkeypatch.setattr("auth_token.cache.invalidate_tokens", lambda keys, **kw: invalidations.append(keys))
    assert _cleartokens() == "2 tokens deleted.\n"
    assert sorted(takeover_ends) == sorted([(first.pk, "expired"), (second.pk, "token_revoked")])
    first.refresh_from_db()
    assert (first.is_active, first.ended_at) == (False, expires_at)
    assert invalidations == [[expired.key, revoked.key]]  # once for the batch
