from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from auth_token.models import Token
from tests.factories import issue_token

pytestmark = pytest.mark.django_db


def writes(queries):
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]


def test_header__authenticates(client, alice, alice_header):
    response = client.get("/me/", **alice_header)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["source"] == "header"


def test_header__scheme_is_case_insensitive(client, alice_token):
    response = client.get("/me/", HTTP_AUTHORIZATION=f"bEaReR {alice_token[1]}")
    assert response.json()["user"] == "alice"


def test_cookie__authenticates(alice_cookie_client):
    response = alice_cookie_client.get("/me/")
    assert response.json() == {
        "user": "alice",
        "token": str(Token.objects.get().public_id),
        "source": "cookie",
    }


def test_budget__steady_state_is_one_select(client, alice_header, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        response = client.get("/me/", **alice_header)
    assert response.json()["user"] == "alice"
    assert writes(captured.captured_queries) == []


def test_budget__cookie_steady_state_is_one_select(alice_cookie_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert alice_cookie_client.get("/me/").json()["user"] == "alice"


def test_budget__anonymous_untouched_user_costs_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/anonymous/").status_code == 200


def test_budget__valid_token_untouched_costs_nothing(client, alice_header, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/anonymous/", **alice_header)
    assert "Vary" not in response
    assert "X-Authorization-Expiration" not in response


def test_budget__malformed_token_costs_nothing(client, alice_token, django_assert_num_queries):
    raw = alice_token[1]
    typo = raw[:-1] + ("Y" if raw.endswith("X") else "X")  # a typo, never the token itself
    with django_assert_num_queries(0):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {typo}")
    assert response.json()["user"] is None


def test_renewal__after_interval_is_one_read_and_one_write(client, alice_token, alice_header):
    token, _ = alice_token
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/me/", **alice_header)
        now = timezone.now()
    assert response.json()["user"] == "alice"
    assert len(captured.captured_queries) == 2
    assert len(writes(captured.captured_queries)) == 1
    token.refresh_from_db()
    assert token.last_access == now
    assert token.expires_at == now + timedelta(hours=1)


def test_renewal__within_interval_writes_nothing(client, alice_token, alice_header):
    token, _ = alice_token
    later = timezone.now() + timedelta(seconds=59)
    with time_machine.travel(later, tick=False), CaptureQueriesContext(connection) as captured:
        client.get("/me/", **alice_header)
    assert writes(captured.captured_queries) == []
    assert Token.objects.get().expires_at == token.expires_at


def test_renewal__capped_by_absolute_age(client, settings, alice, alice_token, alice_header):
    token, _ = alice_token
    settings.AUTH_TOKEN_ABSOLUTE_TOKEN_AGE = 3600 + 30
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        client.get("/me/", **alice_header)
    token.refresh_from_db()
    assert token.expires_at == token.created_at + timedelta(seconds=3630)


def test_renewal__remember_me_uses_max_age(client, alice):
    token, raw = issue_token(alice, expiration=False)
    assert token.expires_at == token.created_at + timedelta(days=14)
    with time_machine.travel(timezone.now() + timedelta(days=13), tick=False):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        now = timezone.now()
    assert response.json()["user"] == "alice"
    token.refresh_from_db()
    assert token.expires_at == min(now + timedelta(days=14), token.created_at + timedelta(days=30))


def test_renewal__header_never_sets_cookie(client, alice_header):
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        response = client.get("/me/", **alice_header)
    assert "Authorization" not in response.cookies


def test_renewal__cookie_is_refreshed_with_secure_flags(alice, settings):
    from auth_token.test import Client

    settings.AUTH_TOKEN_COOKIE_SECURE = True
    _, raw = issue_token(alice, expiration=False)
    client = Client()
    client.cookies["Authorization"] = raw
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        response = client.get("/me/")
    morsel = response.cookies["Authorization"]
    assert morsel.value == raw
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert morsel["expires"]


def test_renewal__exempt_header(client, alice_token, alice_header):
    token, _ = alice_token
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        client.get("/me/", HTTP_X_AUTHORIZATION_RENEWAL_EXEMPT="1", **alice_header)
    assert Token.objects.get().last_access == token.last_access


def test_renewal__exempt_decorator(client, alice_token, alice_header):
    token, _ = alice_token
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        response = client.get("/exempt/", **alice_header)
    assert response.json()["user"] == "alice"
    assert Token.objects.get().last_access == token.last_access


def test_response__vary_and_expiration_when_consulted(client, alice_header):
    response = client.get("/me/", **alice_header)
    assert "Authorization" in response["Vary"]
    assert "Cookie" in response["Vary"]
    assert 3590 <= int(response["X-Authorization-Expiration"]) <= 3600


def test_response__no_expiration_header_when_anonymous(client):
    response = client.get("/me/")
    assert "X-Authorization-Expiration" not in response
    assert "Authorization" in response["Vary"]


def test_cookie__invalid_is_deleted(client, alice_token):
    token, raw = alice_token
    token.is_active = False
    token.save()
    client.cookies["Authorization"] = raw
    response = client.get("/me/")
    assert response.json()["user"] is None
    assert response.cookies["Authorization"].value == ""
    assert response.cookies["Authorization"]["max-age"] == 0


def test_allowed_header__false_refuses_header(client, alice):
    _, raw = issue_token(alice, allowed_header=False)
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] is None
    client.cookies["Authorization"] = raw
    assert client.get("/me/").json()["user"] == "alice"


def test_allowed_cookie__false_refuses_cookie(client, alice):
    _, raw = issue_token(alice, allowed_cookie=False)
    client.cookies["Authorization"] = raw
    assert client.get("/me/").json()["user"] is None
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] == "alice"


def test_settings__header_disabled(client, settings, alice_header):
    settings.AUTH_TOKEN_HEADER = False
    assert client.get("/me/", **alice_header).json()["user"] is None


def test_settings__cookie_disabled(settings, alice_cookie_client):
    settings.AUTH_TOKEN_COOKIE = False
    assert alice_cookie_client.get("/me/").json()["user"] is None


def test_settings__custom_header_and_scheme(client, settings, alice_token):
    settings.AUTH_TOKEN_HEADER_NAME = "X-Api-Key"
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = "Token"
    response = client.get("/me/", HTTP_X_API_KEY=f"Token {alice_token[1]}")
    assert response.json()["user"] == "alice"
    assert "X-Api-Key" in response["Vary"]


def test_token_required__header_client_gets_401(client):
    response = client.get("/protected/", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_token_required__browser_is_redirected(client):
    response = client.get("/protected/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/?next=/protected/")


def test_token_required__authenticated(client, alice_header):
    assert client.get("/protected/", **alice_header).content == b"secret"


@pytest.mark.parametrize("path", ["/me/", "/me-async/"])
def test_request__token_user_is_owner(client, path, alice_header):
    assert client.get(path, **alice_header).json()["user"] == "alice"


def test_renew__explicit_renewal_refreshes_the_cookie(alice):
    from auth_token.test import Client

    _, raw = issue_token(alice, expiration=False)
    client = Client()
    client.cookies["Authorization"] = raw
    with time_machine.travel(timezone.now() + timedelta(seconds=10), tick=False):
        response = client.post("/renew/")
        now = timezone.now()
    assert response.status_code == 200
    assert Token.objects.get().expires_at == now + timedelta(days=14)
    assert response.cookies["Authorization"].value == raw
    assert response.cookies["Authorization"]["expires"]
