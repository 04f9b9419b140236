"""A password change: the current browser or client gets a new token, and every other session ends.

Once, a stolen copy of the current cookie survived the victim's password change.
And the other tokens stopped working but stayed active and listed.
"""

import pytest

from auth_token import services
from auth_token.models import DeviceKey, Token
from auth_token.test import Client
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "N3w-secret-pass"


def cookie_client(raw):
    client = Client()
    client.cookies["Authorization"] = raw
    return client


def whoami(client, **headers):
    return client.get("/me/", **headers).json()["user"]


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_password_view__rotates_the_cookie(alice, revocations):
    """Replays the attack: a copy of the victim's cookie taken before the change."""
    token, raw = issue_token(alice, allowed_header=False)
    stolen = cookie_client(raw)
    victim = cookie_client(raw)

    response = victim.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    new_raw = response.cookies["Authorization"].value
    assert new_raw != raw
    assert whoami(victim) == "alice"  # still signed in, on the new cookie
    assert whoami(stolen) is None
    token.refresh_from_db()
    assert not token.is_active
    new = Token.objects.get(is_active=True)
    assert (new.user, new.allowed_cookie, new.allowed_header, new.expiration) == (alice, True, False, True)
    assert revocations == [(token.pk, "password_changed")]


def test_password_view__keeps_remember_me(alice):
    _, raw = issue_token(alice, expiration=False)
    client = cookie_client(raw)
    response = client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.cookies["Authorization"]["expires"]  # a persistent cookie again
    assert not Token.objects.get(is_active=True).expiration


def test_update_session_auth_hash__returns_new_token_for_header_client(client, alice):
    _, raw = issue_token(alice, allowed_cookie=False, name="cli")
    request = client.get("/me/", **bearer(raw)).wsgi_request
    alice.set_password(NEW_PASSWORD)
    alice.save()

    new, new_raw = services.update_session_auth_hash(request, alice)

    assert request.token == new and request.user == alice
    assert (new.name, new.allowed_cookie) == ("cli", False)
    assert whoami(client, **bearer(new_raw)) == "alice"
    assert whoami(client, **bearer(raw)) is None


def test_update_session_auth_hash__without_a_token_of_the_user(client, alice, bob):
    _, raw = issue_token(bob)
    request = client.get("/me/", **bearer(raw)).wsgi_request
    assert services.update_session_auth_hash(request, alice) is None
    assert Token.objects.get(user=bob).is_active


def test_django_update_session_auth_hash__bridged_rotation(alice):
    """A third-party view calling Django's update_session_auth_hash() gets the rotation too."""
    _, raw = issue_token(alice)
    client = cookie_client(raw)

    response = client.post("/django-password/", {"password": NEW_PASSWORD})

    assert response.status_code == 204
    new_raw = response.cookies["Authorization"].value
    assert new_raw != raw
    assert whoami(client) == "alice"
    assert whoami(cookie_client(raw)) is None


def test_password_change__other_sessions_end_at_once(client, alice, bob, revocations):
    current, raw = issue_token(alice)
    other, _ = issue_token(alice)
    bobs, _ = issue_token(bob)
    device, _ = services.register_device(None, alice, "phone")
    client.cookies["Authorization"] = raw

    client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    listed = client.get("/api/sessions/").json()
    assert [session["is_current"] for session in listed] == [True]
    assert not Token.objects.get(pk=other.pk).is_active
    assert not DeviceKey.objects.get(pk=device.pk).is_active
    assert Token.objects.get(pk=bobs.pk).is_active
    assert sorted(revocations) == sorted([(current.pk, "password_changed"), (other.pk, "password_changed")])


def test_password_change__outside_a_request_ends_every_session(alice, revocations):
    """The admin, a shell or a reset form: no request token to keep."""
    tokens = [issue_token(alice)[0], issue_token(alice)[0]]
    alice.set_password(NEW_PASSWORD)
    alice.save()
    assert not Token.objects.filter(user=alice, is_active=True).exists()
    assert sorted(revocations) == sorted((token.pk, "password_changed") for token in tokens)


def test_password_change__other_saves_end_nothing(alice, revocations):
    token, _ = issue_token(alice)
    alice.first_name = "Alice"
    alice.save()
    alice.save(update_fields=["last_login"])
    assert Token.objects.get(pk=token.pk).is_active
    assert revocations == []


def test_password_change__secret_key_fallback_keeps_sessions(settings, alice):
    token, _ = issue_token(alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-tests-only"
    alice.first_name = "Alice"
    alice.save()  # the hash differs under the new key but matches a fallback: still valid
    assert Token.objects.get(pk=token.pk).is_active
