"""Moving from DRF's authtoken: imported keys keep working under the legacy scheme, and only there."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token as DrfToken

from auth_token import keys
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
