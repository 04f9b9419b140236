"""The core flows with a custom user model (``tests.settings_custom_user``; ``make test`` runs it)."""

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import connection

from auth_token import cache as token_cache
from auth_token import keys, lookup, services
from auth_token.models import Token
from auth_token.test import Client
from tests.test_lookup import assert_same_as_orm

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        settings.AUTH_USER_MODEL != "custom_user.EmailUser",
        reason="runs with DJANGO_SETTINGS_MODULE=tests.settings_custom_user",
    ),
]


BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def carol():
    return get_user_model().objects.create_user("carol@example.com", "password")


def test_custom_user__header(client, carol, django_assert_num_queries):
    _, raw = services.login(None, carol, backend=BACKEND)
    with django_assert_num_queries(1):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.json()["user"] == "carol@example.com"


def test_custom_user__login_view(client, carol):
    response = client.post("/auth/login/", {"username": "carol@example.com", "password": "password"})
    assert response.status_code == 302
    assert client.get("/me/").json()["user"] == "carol@example.com"
    client.post("/auth/logout/")
    assert not Token.objects.get().is_active


def test_custom_user__password_change_ends_tokens(client, carol):
    _, raw = services.login(None, carol, backend=BACKEND)
    carol.set_password("other")
    carol.save()
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] is None


def test_custom_user__test_client(carol):
    client = Client()
    client.force_login(carol)
    assert client.get("/me/").json()["user"] == "carol@example.com"


def test_custom_user__logout_all(carol):
    for _ in range(3):
        services.login(None, carol, backend=BACKEND)
    assert services.logout_all(carol) == 3


def test_custom_user__login_throttle_counts_the_username_field(client, carol, settings, login_window):
    """A view that authenticates by ``email=`` and our views (``username``) spend one budget."""
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert authenticate(None, email="Carol@example.com", password="wrong") is None
    assert authenticate(None, email="carol@example.com", password="password") is None  # the guard
    body = {"username": "carol@example.com", "password": "password"}
    assert client.post("/auth/login/", body, REMOTE_ADDR="10.0.0.2").status_code == 429
    assert not Token.objects.exists()


def test_custom_user__compiled_lookup_is_in_use_and_same_as_orm(client, carol, django_assert_num_queries):
    token, raw = services.login(None, carol, backend=BACKEND)
    found = assert_same_as_orm(keys.digest(raw), django_assert_num_queries)
    assert (found.pk, found.user) == (token.pk, carol)
    executed = []

    def record(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] == "carol@example.com"
    assert executed == [lookup.compiled_lookup(connection.alias).sql]


def test_custom_user__cache_entry_round_trip(carol):
    _, raw = services.login(None, carol, backend=BACKEND)
    found = lookup.fetch(keys.digest(raw))
    rebuilt, _ = token_cache.unpack(token_cache.pack(found, False, "generation"), "generation")
    assert "password" not in rebuilt.user.__dict__
    assert (rebuilt.pk, rebuilt.user.email, rebuilt.user.is_active) == (found.pk, "carol@example.com", True)


def test_custom_user__local_cache_copies_do_not_share_mutable_values(carol):
    carol.preferences = {"theme": "dark"}
    carol.save(update_fields=["preferences"])
    _, raw = services.login(None, carol, backend=BACKEND)
    found = lookup.fetch(keys.digest(raw))
    template = lookup.Template.of(found)
    found.user.preferences["theme"] = "changed at the source"
    handed_out = template.build()
    handed_out.user.preferences["theme"] = "changed by a request"
    again = template.build()
    assert again.user.preferences == {"theme": "dark"}
    assert again.user is not handed_out.user
    assert "password" not in again.user.__dict__
