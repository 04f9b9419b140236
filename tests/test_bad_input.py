"""Every bad credential gives an anonymous request: never a 500, never a query it can avoid."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync

from auth_token import keys
from auth_token.models import Token

pytestmark = pytest.mark.django_db

GOOD = "{raw}"
UNKNOWN = keys.generate()
BAD_HEADERS = {
    "empty-scheme-only": "Bearer",
    "scheme-and-space": "Bearer ",
    "two-spaces": "Bearer  {raw}",
    "tab": "Bearer\t{raw}",
    "trailing-newline": "Bearer {raw}\n",
    "trailing-space": "Bearer {raw} ",
    "two-tokens": "Bearer {raw} {raw}",
    "comma-joined": "Bearer {raw},Bearer {raw}",
    "8kb": "Bearer " + "a" * 8192,
    "1mb": "Bearer " + "a" * 1024 * 1024,
    "nul-byte": "Bearer {raw}\x00",
    "non-ascii": "Bearer {raw}é",
    "latin-1": "Bearer " + "\xff\xfe" * 20,
    "bad-checksum": "Bearer {typo}",
    "other-prefix": "Bearer xx_{tail}",
}
# (query count, value): a well-formed but unknown token costs one SELECT, garbage none.
BAD_COOKIES = {
    "empty": "",
    "8kb": "a" * 8192,
    "1mb": "a" * 1024 * 1024,
    "nul-byte": "{raw}\x00",
    "non-ascii": "{raw}é",
    "bad-checksum": "{typo}",
    "bearer-prefixed": "Bearer {raw}",
}


def _fill(template, raw):
    typo = raw[:10] + ("A" if raw[10] != "A" else "B") + raw[11:]
    return template.format(raw=raw, typo=typo, tail=raw[3:])


@pytest.mark.parametrize("name", BAD_HEADERS)
def test_header__malformed_is_anonymous_without_query(
    name, alice_cookie_client, alice_token, django_assert_num_queries
):
    value = _fill(BAD_HEADERS[name], alice_token[1])
    with django_assert_num_queries(0):
        response = alice_cookie_client.get("/me/", HTTP_AUTHORIZATION=value)
    assert response.status_code == 200
    # The valid cookie is never a fallback for a header of our scheme.
    assert response.json()["user"] is None


@pytest.mark.parametrize("name", ["Basic", "Token", "Digest"])
def test_header__foreign_scheme_is_ignored(name, alice_cookie_client, alice_token):
    response = alice_cookie_client.get("/me/", HTTP_AUTHORIZATION=f"{name} {alice_token[1]}")
    assert response.json()["user"] == "alice"
    assert response.json()["source"] == "cookie"


def test_header__empty_counts_as_absent(alice_cookie_client):
    assert alice_cookie_client.get("/me/", HTTP_AUTHORIZATION="").json()["user"] == "alice"


def test_header__foreign_scheme_alone_is_anonymous(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/me/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.json()["user"] is None


@pytest.mark.parametrize("name", BAD_COOKIES)
def test_cookie__malformed_is_anonymous_and_deleted(name, client, alice_token, django_assert_num_queries):
    client.cookies["Authorization"] = _fill(BAD_COOKIES[name], alice_token[1])
    with django_assert_num_queries(0):
        response = client.get("/me/")
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_unknown_token__one_query(client, alice_cookie_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = alice_cookie_client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {UNKNOWN}")
    assert response.json()["user"] is None


def test_revoked_token__anonymous(client, alice_token, alice_header):
    Token.objects.update(is_active=False)
    assert client.get("/me/", **alice_header).json()["user"] is None


def test_expired__exactly_at_boundary(client, alice_token, alice_header):
    token, _ = alice_token
    with time_machine.travel(token.expires_at - timedelta(microseconds=1), tick=False):
        assert client.get("/me/", HTTP_X_AUTHORIZATION_RENEWAL_EXEMPT="1", **alice_header).json()["user"]
    with time_machine.travel(token.expires_at, tick=False):
        assert client.get("/me/", **alice_header).json()["user"] is None


@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "not-an-ip"},
        {"REMOTE_ADDR": ""},
        {"REMOTE_ADDR": "1.2.3.4\x00"},
        {"HTTP_USER_AGENT": "a\x00b\nc" + "x" * 2000},
        {"HTTP_USER_AGENT": "\xff\xfe"},
    ],
)
def test_login_view__odd_meta_never_500(client, alice, meta):
    response = client.post("/auth/login/", {"username": "alice", "password": "password"}, **meta)
    assert response.status_code == 302
    token = Token.objects.get()
    assert "\x00" not in token.user_agent
    assert len(token.user_agent) <= 512


@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer  x", "Basic abc", "Bearer " + "a" * 10000, "Bearer \xff"]
)
def test_async__bad_header_is_anonymous(async_client, value):
    response = async_to_sync(async_client.get)("/me-async/", headers={"Authorization": value})
    assert response.status_code == 200
    assert response.json()["user"] is None
