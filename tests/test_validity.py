"""A token authenticates only while its user, backend and password still allow it."""

import pytest
from django.contrib.auth import get_user_model

from auth_token.models import Token
from tests.factories import UserFactory, issue_token, start_takeover

pytestmark = pytest.mark.django_db


def whoami(client, header):
    return client.get("/me/", **header).json()["user"]


def test_password_change__ends_every_token(client, alice, alice_header):
    _, other_raw = issue_token(alice)
    alice.set_password("new password")
    alice.save()
    assert whoami(client, alice_header) is None
    assert whoami(client, {"HTTP_AUTHORIZATION": f"Bearer {other_raw}"}) is None


def test_user__inactive(client, alice, alice_header):
    alice.is_active = False
    alice.save()
    assert whoami(client, alice_header) is None


def test_user__inactive_with_allow_all_backend(client, settings, alice):
    backend = "django.contrib.auth.backends.AllowAllUsersModelBackend"
    settings.AUTHENTICATION_BACKENDS = [backend]
    _, raw = issue_token(alice, backend=backend)
    alice.is_active = False
    alice.save()
    assert whoami(client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}) == "alice"


def test_user__deleted(client, alice, alice_header):
    alice.delete()
    assert whoami(client, alice_header) is None
    assert not Token.objects.exists()


def test_backend__removed(client, settings, alice_header):
    settings.AUTHENTICATION_BACKENDS = ["auth_token.backends.DeviceKeyBackend"]
    assert whoami(client, alice_header) is None


def test_secret_key__fallback_rewrites_hash(client, settings, alice, alice_header):
    old_hash = alice.get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert whoami(client, alice_header) == "alice"
    token = Token.objects.get()
    assert token.session_auth_hash != old_hash
    assert token.session_auth_hash == alice.get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = []
    assert whoami(client, alice_header) == "alice"


def test_secret_key__rotated_without_fallback(client, settings, alice_header):
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert whoami(client, alice_header) is None


@pytest.fixture
def staff():
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def staff_token(staff):
    return issue_token(staff)


def test_takeover__user_is_target_token_user_is_actor(client, staff_token, alice, django_assert_num_queries):
    token, raw = staff_token
    start_takeover(token, alice)
    with django_assert_num_queries(1):
        response = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.json()["user"] == "alice"
    request = response.wsgi_request
    assert request.token.user.get_username() == "staff"
    assert request.token.active_takeover.user == alice


def _save(user, **fields):
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda actor, target: _save(actor, is_staff=False), id="demoted"),
        pytest.param(lambda actor, target: _save(target, is_active=False), id="target-off"),
        pytest.param(lambda actor, target: _save(target, is_superuser=True), id="target-su"),
        pytest.param(lambda actor, target: target.set_password("x") or target.save(), id="target-password"),
        pytest.param(lambda actor, target: target.delete(), id="target-deleted"),
    ],
)
def test_takeover__no_longer_holds_falls_back_to_actor(client, staff_token, alice, change):
    token, raw = staff_token
    start_takeover(token, alice)
    change(get_user_model().objects.get(pk=token.user_id), alice)
    assert whoami(client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}) == "staff"


def test_takeover__superuser_actor_may_act_as_superuser(client, alice):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    token, raw = issue_token(root)
    alice.is_superuser = True
    alice.save()
    start_takeover(token, alice)
    assert whoami(client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}) == "alice"
