import pytest

from auth_token.models import Token
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

CREDENTIALS = {"username": "alice", "password": "password"}


def test_login__form(client):
    response = client.get("/auth/login/")
    assert response.status_code == 200
    assert b'name="remember"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_login__sets_cookie_only_token(client, alice):
    response = client.post("/auth/login/", CREDENTIALS)
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    morsel = response.cookies["Authorization"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["expires"] == ""  # a browser-session cookie for a short-lived token
    token = Token.objects.get()
    assert token.allowed_cookie and not token.allowed_header
    assert token.expiration
    assert client.get("/me/").json()["user"] == "alice"
    # The cookie cannot be replayed as a header.
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {morsel.value}").json()["user"] is None


def test_login__remember_me(client, alice):
    response = client.post("/auth/login/", {**CREDENTIALS, "remember": "on"})
    token = Token.objects.get()
    assert not token.expiration
    assert response.cookies["Authorization"]["expires"]


def test_login__bad_credentials(client, alice):
    response = client.post("/auth/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "Authorization" not in response.cookies
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [("/protected/", "/protected/"), ("https://evil.example/", "/me/"), ("//evil.example/", "/me/")],
)
def test_login__next(client, alice, next_url, expected):
    response = client.post(f"/auth/login/?next={next_url}", CREDENTIALS)
    assert response["Location"] == expected


def test_login__requires_csrf(csrf_client, alice):
    response = csrf_client.post("/auth/login/", CREDENTIALS)
    assert response.status_code == 403
    assert not Token.objects.exists()


def test_login__again_replaces_cookie_token(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    client.post("/auth/login/", CREDENTIALS)
    assert Token.objects.count() == 2
    assert Token.objects.filter(is_active=True).count() == 1


def test_logout__post_revokes_and_deletes_cookie(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    response = client.post("/auth/logout/")
    assert response.status_code == 200
    assert response.cookies["Authorization"].value == ""
    assert not Token.objects.get().is_active
    assert client.get("/me/").json()["user"] is None


def test_logout__get_asks_to_confirm_and_changes_nothing(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    response = client.get("/auth/logout/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "You are signed in as alice" in content
    assert '<form method="post" action="/auth/logout/">' in content
    assert 'name="csrfmiddlewaretoken"' in content
    assert Token.objects.get().is_active
    assert "Authorization" not in response.cookies  # the cookie is neither deleted nor re-set
    client.post("/auth/logout/")  # the confirmation's button
    assert not Token.objects.get().is_active


def test_logout__get_when_signed_out(client, db):
    response = client.get("/auth/logout/")
    assert response.status_code == 200
    assert "You are not signed in." in response.content.decode()
    assert 'href="/auth/login/"' in response.content.decode()


def test_logout__header_request(client, alice_token, alice_header):
    response = client.post("/logout/", **alice_header)
    assert response.status_code == 204
    assert "Authorization" not in response.cookies
    assert not Token.objects.get().is_active


def test_csrf__cookie_post_is_checked(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    assert csrf_client.post("/post/").status_code == 403


def test_csrf__header_post_is_exempt(csrf_client, alice_header):
    response = csrf_client.post("/post/", **alice_header)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"


def test_csrf__bad_header_of_ours_is_exempt_but_anonymous(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    response = csrf_client.post("/post/", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_csrf__foreign_scheme_keeps_csrf(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    assert csrf_client.post("/post/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 403


def test_password_change__keeps_current_session(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    _, other_raw = issue_token(alice)
    response = client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": "n3w-Passw0rd!", "new_password2": "n3w-Passw0rd!"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/auth/password/done/"
    assert client.get("/auth/password/done/").status_code == 200
    assert client.get("/me/").json()["user"] == "alice"
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {other_raw}").json()["user"] is None


def test_password_change__requires_login(client):
    response = client.get("/auth/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


def test_test_client__force_login(token_client, alice):
    token_client.force_login(alice)
    assert token_client.get("/me/").json()["user"] == "alice"
    token_client.logout()
    assert token_client.get("/me/").json()["user"] is None
    assert not Token.objects.get().is_active


def test_test_client__login(token_client, alice):
    assert token_client.login(username="alice", password="password")
    assert token_client.get("/me/").json()["user"] == "alice"
    assert not token_client.login(username="alice", password="wrong")


def test_test_client__api_client_factory(api_client_factory, alice):
    assert api_client_factory(alice).get("/me/").json()["source"] == "header"


def test_password_change__django_function_is_bridged(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    _, other_raw = issue_token(alice)
    assert client.post("/django-password/", {"password": "n3w-Passw0rd!"}).status_code == 204
    assert client.get("/me/").json()["user"] == "alice"
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {other_raw}").json()["user"] is None


def test_password_change__django_function_under_asgi(async_client, alice):
    from asgiref.sync import async_to_sync

    async_to_sync(async_client.post)("/auth/login/", CREDENTIALS)
    response = async_to_sync(async_client.post)("/django-password/", {"password": "n3w-Passw0rd!"})
    assert response.status_code == 204
    assert async_to_sync(async_client.get)("/me/").json()["user"] == "alice"


def test_login__form_keeps_next(client):
    response = client.get("/auth/login/?next=/protected/")
    assert b'name="next" value="/protected/"' in response.content


def test_login_required_middleware__login_page_stays_reachable(client, settings, alice):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    assert client.get("/auth/login/").status_code == 200
    assert client.get("/me/").status_code == 302
    client.post("/auth/login/", CREDENTIALS)
    assert client.get("/me/").json()["user"] == "alice"
