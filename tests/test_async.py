"""The same behaviour through ASGI (AsyncClient runs the middleware's __acall__)."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.test import RequestFactory
from django.utils import timezone

from auth_token import resolver
from auth_token.credentials import get_credential
from auth_token.models import Token
from auth_token.state import RequestState
from auth_token.test import AsyncClient

pytestmark = pytest.mark.django_db


def get(client, path, **extra):
    """GET through ASGI; ``HTTP_X`` keywords become real headers (AsyncClient takes ``headers=``)."""
    headers = {key[5:].replace("_", "-"): value for key, value in extra.items()}
    return async_to_sync(client.get)(path, headers=headers)


def test_async__header(async_client, alice_header):
    response = get(async_client, "/me-async/", **alice_header)
    assert response.json()["user"] == "alice"
    assert response.json()["source"] == "header"
    assert "X-Authorization-Expiration" in response


def test_async__cookie(async_client, alice_token):
    async_client.cookies["Authorization"] = alice_token[1]
    assert get(async_client, "/me-async/").json()["source"] == "cookie"


def test_async__sync_view_under_asgi(async_client, alice_header):
    assert get(async_client, "/me/", **alice_header).json()["user"] == "alice"


def test_async__budget(async_client, alice_header, django_assert_num_queries):
    with django_assert_num_queries(1):
        get(async_client, "/me-async/", **alice_header)
    with django_assert_num_queries(0):
        get(async_client, "/anonymous/", **alice_header)


def test_async__renewal(async_client, alice_token, alice_header, django_assert_num_queries):
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with django_assert_num_queries(2):
            get(async_client, "/me-async/", **alice_header)
        now = timezone.now()
    assert Token.objects.get().last_access == now


def test_async__cookie_renewal_sets_cookie(async_client, alice_token):
    async_client.cookies["Authorization"] = alice_token[1]
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        response = get(async_client, "/me-async/")
    assert response.cookies["Authorization"].value == alice_token[1]


def test_async__invalid_cookie_deleted(async_client, alice_token):
    Token.objects.update(is_active=False)
    async_client.cookies["Authorization"] = alice_token[1]
    response = get(async_client, "/me-async/")
    assert response.json()["user"] is None
    assert response.cookies["Authorization"].value == ""


def test_async__test_client_force_login(alice):
    client = AsyncClient()
    async_to_sync(client.aforce_login)(alice)
    assert get(client, "/me-async/").json()["user"] == "alice"


def test_state__failed_lookup_is_not_cached(monkeypatch, alice_token):
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}")
    state = RequestState(get_credential(request), resolver)
    calls = []

    def flaky_lookup(credential):
        calls.append(credential)
        if len(calls) == 1:
            raise RuntimeError("e.g. SynchronousOnlyOperation")
        return alice_token[0], alice_token[0].user

    monkeypatch.setattr("auth_token.resolver.lookup", flaky_lookup)
    with pytest.raises(RuntimeError):
        state.get_user()
    assert state.get_user().get_username() == "alice"
    assert len(calls) == 2
