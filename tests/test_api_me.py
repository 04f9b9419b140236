"""``GET api/me/``: who the request acts as, its token, and the takeover, from the lookup alone."""

from datetime import datetime

import pytest

from auth_token import services
from auth_token.test import Client
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_me__header_token(client, alice, django_assert_num_queries):
    token, raw = issue_token(alice, name="CLI", expiration=False)
    with django_assert_num_queries(1):  # the lookup; nothing else
        response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": alice.pk, "username": "alice"}
    assert body["takeover"] is None
    assert body["token"] == {
        "id": str(token.public_id),
        "name": "CLI",
        "kind": "session",
        "client": None,
        "scopes": ["*"],
        "long_lived": True,
        "source": "header",
        "created_at": body["token"]["created_at"],
        "expires_at": body["token"]["expires_at"],
    }
    assert datetime.fromisoformat(body["token"]["expires_at"]) == token.expires_at


def test_me__cookie_session_from_the_test_client(alice):
    client = Client()
    client.force_login(alice)
    body = client.get("/api/me/").json()
    assert (body["user"]["username"], body["token"]["source"], body["token"]["long_lived"]) == (
        "alice",
        "cookie",
        False,
    )


def test_me__device_token(client, alice):
    services.register_device(None, alice, "phone")
    _, raw = issue_token(alice, device=alice.device_keys.get(), allowed_cookie=False)
    assert client.get("/api/me/", **bearer(raw)).json()["token"]["kind"] == "device"


def test_me__during_a_takeover(client, alice, bob):
    token, raw = issue_token(alice)
    record = start_takeover(token, bob)
    body = client.get("/api/me/", **bearer(raw)).json()
    assert body["user"] == {"id": bob.pk, "username": "bob"}
    assert body["takeover"]["actor"] == {"id": alice.pk, "username": "alice"}
    assert datetime.fromisoformat(body["takeover"]["started_at"]) == record.created_at


def test_me__without_a_token(client):
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (
            "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
            "Authentication credentials were not provided: this API expects the Bearer scheme "
            '("Authorization: Bearer <token>"), not Token.',
        ),
        (
            "Basic YWxpY2U6cGFzc3dvcmQ=",
            "Authentication credentials were not provided: this API expects the Bearer scheme "
            '("Authorization: Bearer <token>"), not Basic.',
        ),
        ("<script> x", "Authentication credentials were not provided."),  # not repeated back
        ("Bearer not-a-token", "Invalid or expired token."),
    ],
    ids=["drf-token", "basic", "garbage-scheme", "ours-malformed"],
)
def test_401__says_which_scheme_is_expected(client, header, detail):
    response = client.get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
