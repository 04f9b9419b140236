"""Moving from DRF's authtoken: imported keys keep working under the legacy scheme, and only there."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token as DrfToken

from auth_token import keys, services
from auth_token.models import Token

pytestmark = pytest.mark.django_db


def import_drf(*args):
    out = io.StringIO()
    call_command("import_drf_tokens", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def drf_keys(alice, bob):
    return {user.username: DrfToken.objects.create(user=user).key for user in (alice, bob)}


@pytest.fixture
def legacy(settings):
    settings.AUTH_TOKEN_LEGACY_HEADER_TOKEN_TYPES = ("Token",)


def test_import__stores_digests_only(drf_keys):
    assert import_drf() == "2 tokens imported, 0 already imported.\n"
    tokens = Token.objects.order_by("user__username")
    assert [token.key for token in tokens] == [
        keys.legacy_digest(drf_keys[name]) for name in ("alice", "bob")
    ]
    for token in tokens:
        assert token.key.startswith("drf$")
        assert not token.expiration
        assert token.allowed_header and not token.allowed_cookie
        assert token.backend == "django.contrib.auth.backends.ModelBackend"
    assert not [key for key in drf_keys.values() if Token.objects.filter(key__contains=key).exists()]
    assert DrfToken.objects.count() == 2


def test_import__idempotent(drf_keys):
    import_drf()
    assert import_drf() == "0 tokens imported, 2 already imported.\n"
    assert Token.objects.count() == 2


def test_import__batches_and_delete(drf_keys, bob):
    assert import_drf("--batch-size", "1", "--delete-imported") == "2 tokens imported, 0 already imported.\n"
    assert not DrfToken.objects.exists()
    assert Token.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--batch-size", "0"], "positive"), (["--backend", "nope.Backend"], "AUTHENTICATION_BACKENDS")],
)
def test_import__bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        import_drf(*args)


def test_legacy_header__imported_token_works(client, drf_keys, legacy, django_assert_num_queries):
    import_drf()
    with django_assert_num_queries(1):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Token {drf_keys['alice']}")
    assert response.json()["user"] == "alice"
    assert response.json()["source"] == "header"


def test_legacy_header__off_by_default(client, drf_keys, alice_cookie_client):
    import_drf()
    response = alice_cookie_client.get("/me/", HTTP_AUTHORIZATION=f"Token {drf_keys['bob']}")
    assert response.json()["user"] == "alice"  # a foreign scheme: the cookie is used


def test_legacy_header__not_imported(client, drf_keys, legacy):
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Token {drf_keys['alice']}").json()["user"] is None


def test_legacy_header__our_token_in_legacy_scheme_fails(client, alice_token, legacy):
    response = client.get("/me/", HTTP_AUTHORIZATION=f"Token {alice_token[1]}")
    assert response.json()["user"] is None


def test_legacy_header__imported_key_under_our_scheme_fails(client, drf_keys, legacy):
    import_drf()
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {drf_keys['alice']}").json()["user"] is None


@pytest.mark.parametrize("value", ["Token", "Token  {key}", "Token {key} x", "Token {upper}", "Token {key}0"])
def test_legacy_header__malformed_is_anonymous_without_query(
    client, drf_keys, legacy, alice_cookie_client, value, django_assert_num_queries
):
    import_drf()
    key = drf_keys["alice"]
    with django_assert_num_queries(0):
        response = alice_cookie_client.get(
            "/me/", HTTP_AUTHORIZATION=value.format(key=key, upper=key.upper())
        )
    assert response.json()["user"] is None


def test_legacy_header__csrf_exempt(drf_keys, legacy, csrf_client):
    import_drf()
    response = csrf_client.post("/post/", HTTP_AUTHORIZATION=f"Token {drf_keys['alice']}")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"


def test_legacy_header__password_change_ends_it(client, alice, drf_keys, legacy):
    import_drf()
    alice.set_password("changed")
    alice.save()
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Token {drf_keys['alice']}").json()["user"] is None


# --- An ended imported key must not come back through DRF's own class ---------


def drf_view(client, key):
    """A request to a view with our class first and DRF's after it, as the migration guide says."""
    return client.get("/drf-migration/", HTTP_AUTHORIZATION=f"Token {key}")


def imported_token(key):
    return Token.objects.get(key=keys.legacy_digest(key))


@pytest.mark.parametrize(
    "end",
    [
        lambda client, key, alice: services.revoke(imported_token(key)),
        lambda client, key, alice: client.post("/api/logout/", HTTP_AUTHORIZATION=f"Token {key}"),
        lambda client, key, alice: services.logout_all(alice),
        lambda client, key, alice: (alice.set_password("changed"), alice.save()),
    ],
    ids=["revoke", "logout", "logout_all", "password"],
)
def test_legacy_key__ended_is_refused_before_drf(client, alice, drf_keys, legacy, end):
    """Replays the attack: the old key kept working through DRF's class after the token ended."""
    import_drf()
    key = drf_keys["alice"]
    assert drf_view(client, key).json() == {"user": "alice"}

    end(client, key, alice)

    response = drf_view(client, key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert not DrfToken.objects.filter(user=alice).exists()  # retired: cleartokens cannot revive it
    call_command("cleartokens", stdout=io.StringIO())
    assert drf_view(client, key).status_code == 401


def test_legacy_key__expired_then_cleared_is_refused(client, alice, drf_keys, legacy):
    import_drf()
    key = drf_keys["alice"]
    Token.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert drf_view(client, key).status_code == 401
    call_command("cleartokens", stdout=io.StringIO())
    assert not Token.objects.exists()
    assert drf_view(client, key).status_code == 401


def test_legacy_key__not_imported_still_works_with_drf(client, drf_keys, legacy):
    """Keys DRF created during the move are DRF's: our class leaves them to it."""
    assert drf_view(client, drf_keys["bob"]).json() == {"user": "bob"}


def test_legacy_key__other_users_drf_rows_stay(client, alice, bob, drf_keys, legacy):
    import_drf()
    services.revoke(imported_token(drf_keys["alice"]))
    assert DrfToken.objects.filter(user=bob).exists()
    assert drf_view(client, drf_keys["bob"]).json() == {"user": "bob"}
