"""The DRF device endpoints: devices/ (register, list), devices/<id>/ (deactivate), devices/login/."""

import uuid

import pytest
from django.contrib.auth import user_login_failed
from django.test import override_settings

from auth_token import keys, services
from auth_token.models import DeviceKey, Token
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db

PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
INVALID_DEVICE = {"non_field_errors": ["Unable to log in with these device credentials."]}
REALM = 'Bearer realm="api"'


@pytest.fixture
def phone(alice):
    """Alice's registered phone and its raw secret."""
    return services.register_device(None, alice, PHONE, name="Alice's phone")


def post_json(client, url, data=None, **extra):
    return client.post(url, data if data is not None else {}, content_type="application/json", **extra)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- devices/ POST -----------------------------------------------------------------------------


def test_register__shows_secret_once(client, alice, alice_header):
    response = post_json(
        client, "/api/devices/", {"uuid": PHONE, "name": "Phone"}, HTTP_USER_AGENT="App/2", **alice_header
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "uuid", "name", "device_token"}
    device = DeviceKey.objects.get()
    assert (body["id"], body["uuid"], body["name"]) == (device.pk, uuid.UUID(PHONE).hex, "Phone")
    assert device.user == alice
    assert device.user_agent == "App/2"
    assert device.login_token == keys.digest(body["device_token"])
    # Never shown again.
    assert body["device_token"] not in client.get("/api/devices/", **alice_header).content.decode()


def test_register__already_registered_409(client, phone, alice_header):
    response = post_json(client, "/api/devices/", {"uuid": PHONE.lower()}, **alice_header)
    assert response.status_code == 409
    assert response.json() == {"detail": "This device is already registered."}
    assert DeviceKey.objects.count() == 1


def test_register__reactivates_deactivated_device(client, phone, alice_header):
    services.deactivate_device(phone[0])
    response = post_json(client, "/api/devices/", {"uuid": PHONE}, **alice_header)
    assert response.status_code == 201
    assert response.json()["id"] == phone[0].pk
    assert response.json()["name"] == "Alice's phone"
    assert DeviceKey.objects.get().is_active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "uuid"),
        ({"uuid": ""}, "uuid"),
        ({"uuid": "   "}, "uuid"),
        ({"uuid": "x" * 65}, "uuid"),
        ({"uuid": None}, "uuid"),
        ({"uuid": 123}, "uuid"),
        ({"uuid": ["a"]}, "uuid"),
        ({"uuid": {"a": 1}}, "uuid"),
        ({"uuid": "a\x00b"}, "uuid"),
        ({"uuid": "ok", "name": "n" * 101}, "name"),
        ({"uuid": "ok", "name": 5}, "name"),
    ],
)
def test_register__invalid_400(client, alice_header, body, field):
    response = post_json(client, "/api/devices/", body, **alice_header)
    assert response.status_code == 400
    assert field in response.json()
    assert not DeviceKey.objects.exists()


def test_register__unauthenticated(client):
    response = post_json(client, "/api/devices/", {"uuid": PHONE})
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)


def test_register__during_takeover_403(client, alice, bob, alice_token):
    start_takeover(alice_token[0], bob)
    response = post_json(client, "/api/devices/", {"uuid": PHONE}, **bearer(alice_token[1]))
    assert response.status_code == 403
    assert not DeviceKey.objects.exists()


def test_register__budget(client, alice_header, django_assert_num_queries):
    # SELECT the token; SELECT an existing key for (uuid, user); SAVEPOINT, INSERT, RELEASE;
    # SELECT ... FOR UPDATE the request's token, still active.
    with django_assert_num_queries(6):
        assert post_json(client, "/api/devices/", {"uuid": PHONE}, **alice_header).status_code == 201


# --- devices/ GET ------------------------------------------------------------------------------


def test_list__own_devices_only(client, alice, bob, phone, alice_header):
    tablet, _ = services.register_device(None, alice, "tablet")
    services.deactivate_device(tablet)
    services.register_device(None, bob, "bobs-phone")
    response = client.get("/api/devices/", **alice_header)
    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [tablet.pk, phone[0].pk]
    assert all(set(item) == {"id", "uuid", "name", "is_active", "created_at", "last_login"} for item in items)
    assert [item["is_active"] for item in items] == [False, True]
    assert phone[1] not in response.content.decode()


def test_list__unauthenticated(client):
    response = client.get("/api/devices/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)


@pytest.mark.parametrize("count", [1, 10])
def test_list__budget(client, alice, alice_header, count, django_assert_num_queries):
    for number in range(count):
        services.register_device(None, alice, f"device-{number}")
    # SELECT the token; SELECT the user's device keys. Constant in their number.
    with django_assert_num_queries(2):
        assert len(client.get("/api/devices/", **alice_header).json()) == count


# --- devices/<id>/ DELETE ----------------------------------------------------------------------


def test_delete__deactivates_and_revokes_its_tokens(client, alice, phone, alice_header):
    device_token, _ = services.login_device(None, PHONE, phone[1])
    response = client.delete(f"/api/devices/{phone[0].pk}/", **alice_header)
    assert response.status_code == 204
    phone[0].refresh_from_db()
    assert not phone[0].is_active
    assert not Token.objects.get(pk=device_token.pk).is_active
    # Kept for re-activation and listed; deleting it again changes nothing.
    assert client.get("/api/devices/", **alice_header).json()[0]["is_active"] is False
    assert client.delete(f"/api/devices/{phone[0].pk}/", **alice_header).status_code == 204


def test_delete__other_users_device_404(client, bob, alice_header):
    device, _ = services.register_device(None, bob, PHONE)
    assert client.delete(f"/api/devices/{device.pk}/", **alice_header).status_code == 404
    assert DeviceKey.objects.get().is_active


@pytest.mark.parametrize(
    "device_id",
    ["abc", "0", "-1", "1.0", "1_0", "%20" + "1", "\u0663", "9" * 19, "9" * 400, "01", "%00", "1e3", "99999"],
)
def test_delete__garbage_or_unknown_id_404(
    client, phone, alice_header, device_id, django_assert_max_num_queries
):
    # At most the token SELECT and one lookup; garbage never reaches the database.
    with django_assert_max_num_queries(2):
        response = client.delete(f"/api/devices/{device_id}/", **alice_header)
    assert response.status_code == 404
    assert DeviceKey.objects.get().is_active


def test_delete__unauthenticated(client, phone):
    response = client.delete(f"/api/devices/{phone[0].pk}/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)
    assert DeviceKey.objects.get().is_active


def test_delete__during_takeover_refused_without_writing(client, alice, bob, alice_token):
    device, secret = services.register_device(None, bob, PHONE)
    device_token, _ = services.login_device(None, PHONE, secret)
    start_takeover(alice_token[0], bob)
    response = client.delete(f"/api/devices/{device.pk}/", **bearer(alice_token[1]))
    assert response.status_code == 403
    assert Token.objects.get(pk=device_token.pk).is_active
    device.refresh_from_db()
    assert device.is_active


def test_delete__budget(client, alice, phone, alice_header, django_assert_num_queries):
    services.login_device(None, PHONE, phone[1])
    # SELECT the request's token; SELECT the device; UPDATE it inactive; SELECT ... FOR UPDATE its
    # active tokens; UPDATE them inactive (one query for all).
    with django_assert_num_queries(5):
        assert client.delete(f"/api/devices/{phone[0].pk}/", **alice_header).status_code == 204


# --- devices/login/ ----------------------------------------------------------------------------


def test_device_login__issues_header_only_token(client, alice, phone):
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": phone[1]})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "id", "user"}
    assert body["user"] == {"id": alice.pk, "username": "alice"}
    token = Token.objects.get(public_id=body["id"])
    assert token.key == keys.digest(body["token"])
    assert token.device == phone[0]
    assert token.name == "Alice's phone"
    assert token.allowed_header and not token.allowed_cookie
    assert "Authorization" not in response.cookies
    phone[0].refresh_from_db()
    assert phone[0].last_login is not None
    assert client.get("/api/sessions/", **bearer(body["token"])).status_code == 200


def test_device_login__name_and_plain_uuid(client, phone):
    body = {"uuid": uuid.UUID(PHONE).hex, "device_token": phone[1], "name": "Work phone"}
    response = post_json(client, "/api/devices/login/", body)
    assert response.status_code == 201
    assert Token.objects.get().name == "Work phone"


@pytest.mark.parametrize(
    "body",
    [
        {"uuid": PHONE, "device_token": "atd_wrong"},
        {"uuid": PHONE, "device_token": keys.generate("atd")},
        {"uuid": "other", "device_token": "{secret}"},
        {"uuid": "", "device_token": "{secret}"},
        {"uuid": PHONE, "device_token": ""},
        {"uuid": PHONE, "device_token": "{secret} "},
        {"uuid": "x" * 65, "device_token": "{secret}"},
        {"uuid": PHONE, "device_token": "a" * 10_000},
        {"uuid": PHONE, "device_token": "{access}"},
    ],
    ids=[
        "wrong",
        "unknown",
        "other-uuid",
        "blank-uuid",
        "blank-secret",
        "space",
        "long-uuid",
        "long",
        "access",
    ],
)
def test_device_login__wrong_input_one_answer(client, phone, body):
    _, access_raw = issue_token(phone[0].user)
    body = {key: value.format(secret=phone[1], access=access_raw) for key, value in body.items()}
    response = post_json(client, "/api/devices/login/", body)
    assert response.status_code == 400
    assert response.json() == INVALID_DEVICE
    assert Token.objects.count() == 1


def test_device_login__deactivated_device(client, phone):
    services.deactivate_device(phone[0])
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": phone[1]})
    assert (response.status_code, response.json()) == (400, INVALID_DEVICE)


def test_device_login__password_changed(client, alice, phone):
    alice.set_password("new")
    alice.save()
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": phone[1]})
    assert (response.status_code, response.json()) == (400, INVALID_DEVICE)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device_token": "x"}, "uuid"),
        ({"uuid": PHONE}, "device_token"),
        ({"uuid": 5, "device_token": "x"}, "uuid"),
        ({"uuid": PHONE, "device_token": ["x"]}, "device_token"),
        ({"uuid": PHONE, "device_token": None}, "device_token"),
        ({"uuid": PHONE, "device_token": "x", "name": "n" * 101}, "name"),
    ],
)
def test_device_login__malformed_400(client, phone, body, field):
    response = post_json(client, "/api/devices/login/", body)
    assert response.status_code == 400
    assert field in response.json()


def test_device_login__failure_signal_masks_secret(client, phone):
    sent = []

    def receiver(sender, credentials, **kwargs):
        sent.append(credentials)

    user_login_failed.connect(receiver)
    try:
        post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": "atd_guess"})
    finally:
        user_login_failed.disconnect(receiver)
    [credentials] = sent
    assert "atd_guess" not in str(credentials)
    assert set(credentials["device_token"]) == {"*"}


def test_device_login__stale_token_is_ignored(client, phone):
    body = {"uuid": PHONE, "device_token": phone[1]}
    response = post_json(client, "/api/devices/login/", body, HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 201


@override_settings(AUTH_TOKEN_LOGIN_THROTTLE_RATE="2/min")
def test_device_login__throttled(client, phone, login_window):
    for _ in range(2):
        wrong = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": "x"})
        assert wrong.status_code == 400
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": phone[1]})
    assert response.status_code == 429
    assert not Token.objects.exists()


def test_device_login__budget(client, phone, django_assert_num_queries):
    # SELECT the device key (with its user); UPDATE its last_login; SAVEPOINT, INSERT the token,
    # RELEASE; UPDATE auth_user.last_login; SELECT ... FOR UPDATE the device, still active.
    with django_assert_num_queries(7):
        response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": phone[1]})
    assert response.status_code == 201


def test_device_login__failure_budget(client, phone, django_assert_num_queries):
    # SELECT the device key: one hash and one query whatever is wrong.
    with django_assert_num_queries(1):
        response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": "x"})
    assert response.status_code == 400
