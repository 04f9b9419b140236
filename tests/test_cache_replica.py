"""A read replica that lags behind a revocation must not put the revoked token back in the cache.
"replica" is a database of its own here, so it lags until told otherwise."""

import pytest
from django.core.cache import caches

from auth_token import services
from auth_token.models import Token
from tests.factories import issue_token

pytestmark = pytest.mark.django_db(databases=["default", "replica"], transaction=True)


@pytest.fixture
def replica(settings):
    settings.DATABASE_ROUTERS = ["tests.routers.ReadReplicaRouter"]
    settings.CACHES = {
        **settings.CACHES,
        "tokens": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "replica"},
    }
    settings.AUTH_TOKEN_CACHE = "tokens"
    yield settings
    caches["tokens"].clear()


def get_me(client, raw):
    return client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"]


def replicated(alice):
    """Alice's token on the primary and, as of now, on the replica."""
    token, raw = issue_token(alice)
    for instance in (alice, Token.objects.using("default").get(pk=token.pk)):
        instance.save(using="replica", force_insert=True)
    return token, raw


def test_replica__a_lagging_replica_never_refills_the_cache(replica, client, alice):
    token, raw = replicated(alice)
    assert get_me(client, raw) == "alice"  # the cache learns the owner
    assert get_me(client, raw) == "alice"  # and keeps the entry
    services.revoke(Token.objects.using("default").get(pk=token.pk))
    assert Token.objects.using("replica").get(pk=token.pk).is_active  # the replica lags
    for _ in range(3):
        assert get_me(client, raw) is None


def test_replica__without_the_cache_reads_follow_the_router(replica, client, alice):
    """No cache, nothing kept: the lookup reads where the site's router sends reads."""
    replica.AUTH_TOKEN_CACHE = None
    token, raw = replicated(alice)
    services.revoke(Token.objects.using("default").get(pk=token.pk))
    assert get_me(client, raw) == "alice"  # until the replica catches up
    Token.objects.using("replica").filter(pk=token.pk).update(is_active=False)
    assert get_me(client, raw) is None
