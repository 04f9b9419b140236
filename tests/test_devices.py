import json
import uuid

import pytest
from django.contrib.auth import user_login_failed
from django.db.models.signals import post_save

from auth_token import keys, services, signals
from auth_token.exceptions import (
    DeviceKeyAlreadyExists,
    DeviceLoginDisabled,
    InvalidDeviceCredentials,
    SessionEnded,
)
from auth_token.models import DeviceKey, Token
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"


@pytest.fixture
def phone(alice):
    """Alice's registered phone and its raw secret."""
    return services.register_device(None, alice, PHONE, name="Alice's phone", user_agent="App/1.0 (iOS)")


def test_register__stores_digest_only(phone, alice):
    device, secret = phone
    assert secret.startswith("atd_")
    assert keys.is_well_formed(secret)
    device.refresh_from_db()
    assert device.uuid == uuid.UUID(PHONE).hex
    assert device.login_token == keys.digest(secret)
    assert secret not in repr(device) + str(device)
    assert device.user == alice
    assert device.name == "Alice's phone"
    assert device.user_agent == "App/1.0 (iOS)"


def test_register__signal(alice):
    sent = []
    receiver = lambda sender, **kwargs: sent.append((sender, kwargs["device"], kwargs["request"]))  # noqa: E731
    signals.device_registered.connect(receiver)
    try:
        device, _ = services.register_device(None, alice, "abc")
    finally:
        signals.device_registered.disconnect(receiver)
    assert sent == [(DeviceKey, device, None)]


def test_register__twice_is_refused(phone, alice):
    with pytest.raises(DeviceKeyAlreadyExists):
        services.register_device(None, alice, PHONE.lower().replace("-", ""))
    assert DeviceKey.objects.count() == 1


def test_register__same_uuid_other_user(phone, bob):
    services.register_device(None, bob, PHONE)
    assert DeviceKey.objects.count() == 2


@pytest.mark.parametrize("bad", ["", "x" * 65])
def test_register__bad_uuid(alice, bad):
    with pytest.raises(ValueError):
        services.register_device(None, alice, bad)


def test_get_or_create_token__original_name(alice):
    secret = DeviceKey.objects.get_or_create_token(uuid.UUID(PHONE), alice, user_agent="App")
    assert DeviceKey.objects.get().login_token == keys.digest(secret)
    with pytest.raises(DeviceKeyAlreadyExists):
        DeviceKey.objects.get_or_create_token(uuid.UUID(PHONE), alice)


def test_reactivation__new_secret(phone, alice):
    device, old_secret = phone
    services.deactivate_device(device)
    new_secret = DeviceKey.objects.get_or_create_token(PHONE, alice)
    assert new_secret != old_secret
    assert DeviceKey.objects.get().is_active
    with pytest.raises(InvalidDeviceCredentials):
        services.login_device(None, PHONE, old_secret)
    assert services.login_device(None, PHONE, new_secret)[0].user == alice


def test_login__survives_a_secret_key_rotation_with_the_old_key_in_fallbacks(phone, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert services.login_device(None, PHONE, phone[1])[0].user.username == "alice"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidDeviceCredentials):
        services.login_device(None, PHONE, phone[1])


@pytest.mark.parametrize("form", [PHONE, PHONE.lower(), uuid.UUID(PHONE).hex, uuid.UUID(PHONE)])
def test_login__any_uuid_form(phone, alice, form, client):
    token, raw = services.login_device(None, form, phone[1])
    assert token.user == alice
    assert token.device == phone[0]
    assert token.backend == "auth_token.backends.DeviceKeyBackend"
    assert token.allowed_header and not token.allowed_cookie
    assert token.name == "Alice's phone"
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] == "alice"
    phone[0].refresh_from_db()
    assert phone[0].last_login is not None


@pytest.fixture
def failures():
    sent = []
    receiver = lambda sender, **kwargs: sent.append(kwargs["credentials"])  # noqa: E731
    user_login_failed.connect(receiver)
    yield sent
    user_login_failed.disconnect(receiver)


@pytest.mark.parametrize(
    "case",
    ["unknown-uuid", "wrong-secret", "garbage-secret", "deactivated", "user-inactive", "password-changed"],
)
def test_login__every_failure_looks_the_same(phone, alice, case, failures, django_assert_num_queries):
    device, secret = phone
    uuid_, given = PHONE, secret
    if case == "unknown-uuid":
        uuid_ = str(uuid.uuid4())
    elif case == "wrong-secret":
        given = keys.generate("atd")
    elif case == "garbage-secret":
        given = "not a secret"
    elif case == "deactivated":
        services.deactivate_device(device)
    elif case == "user-inactive":
        alice.is_active = False
        alice.save()
    elif case == "password-changed":
        alice.set_password("changed")
        alice.save()
    with django_assert_num_queries(1), pytest.raises(InvalidDeviceCredentials):
        services.login_device(None, uuid_, given)
    assert failures == [{"device_uuid": uuid_, "device_token": "********************"}]
    assert not Token.objects.exists()


def test_deactivate__revokes_device_tokens(phone, alice, client):
    device, secret = phone
    _, device_raw = services.login_device(None, PHONE, secret)
    _, other_raw = issue_token(alice)
    assert services.deactivate_device(device) is True
    assert services.deactivate_device(device) is False
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {device_raw}").json()["user"] is None
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {other_raw}").json()["user"] == "alice"


def test_logout_all__ends_device_login(phone, alice):
    services.logout_all(alice)
    with pytest.raises(InvalidDeviceCredentials):
        services.login_device(None, PHONE, phone[1])


def test_backend__ignores_password_logins(alice):
    from django.contrib.auth import authenticate

    assert authenticate(None, username="alice", password="password") == alice
    assert authenticate(None, device_uuid=PHONE) is None


def test_register__needs_the_device_backend(alice, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    with pytest.raises(DeviceLoginDisabled, match="Device login is not enabled"):
        services.register_device(None, alice, PHONE)
    assert not DeviceKey.objects.exists()


# --- A device login or registration racing the end of the device or session ---


@pytest.fixture
def meanwhile():
    """Run ``action`` at the moment a racing writer would land: right after our write."""
    connected = []

    def run(signal, action, sender=None):
        def receiver(**kwargs):
            signal.disconnect(receiver, sender=sender)
            action()

        signal.connect(receiver, sender=sender, weak=False)
        connected.append((signal, receiver, sender))

    yield run
    for signal, receiver, sender in connected:
        signal.disconnect(receiver, sender=sender)


@pytest.mark.parametrize(
    "end",
    [lambda device: services.deactivate_device(device), lambda device: services.logout_all(device.user)],
    ids=["deactivate_device", "logout_all"],
)
def test_login_device__device_ended_meanwhile(phone, meanwhile, end):
    """Replays the race: the device ended after the backend accepted it, before the token was
    inserted; the token used to work for its whole life (the lookup never checks the device)."""
    device, secret = phone
    meanwhile(signals.token_created, lambda: end(device))

    with pytest.raises(InvalidDeviceCredentials):
        services.login_device(None, PHONE, secret)

    assert not Token.objects.filter(is_active=True).exists()


def test_register__session_ended_meanwhile(client, alice, alice_token, alice_header, meanwhile):
    """Replays the race: a request authenticated just before "log out everywhere" registered a
    device that outlived it."""
    meanwhile(post_save, lambda: services.logout_all(alice), sender=DeviceKey)

    response = client.post(
        "/api/devices/", json.dumps({"uuid": PHONE}), content_type="application/json", **alice_header
    )

    assert response.status_code == 401
    assert not DeviceKey.objects.filter(is_active=True).exists()
    assert not Token.objects.filter(is_active=True).exists()


def test_register__reactivation_with_session_ended_meanwhile(alice, alice_token, meanwhile, client):
    device, _ = services.register_device(None, alice, PHONE)
    services.deactivate_device(device)
    request = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}").wsgi_request
    services.revoke(alice_token[0])

    with pytest.raises(SessionEnded):
        services.register_device(request, alice, PHONE)

    assert not DeviceKey.objects.get().is_active
