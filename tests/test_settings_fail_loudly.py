"""Settings that used to crash or silently break: each fails loudly or works."""

import pytest
from django.contrib.auth import user_login_failed
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from auth_token import checks as auth_checks
from auth_token import keys, services
from auth_token.exceptions import DeviceLoginDisabled
from auth_token.models import DeviceKey, Token
from tests.factories import issue_token

# Django 6.1 runs the model checks against every database (JSONField asks each whether it can).
pytestmark = pytest.mark.django_db(databases="__all__")

PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEVICE_BACKEND = "auth_token.backends.DeviceKeyBackend"
NOT_ENABLED = {"detail": "Device login is not enabled on this site."}


def ids(messages):
    return [message.id for message in messages]


def post_json(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


# --- HEADER_TOKEN_TYPE = None: the original library's bare token -------------------------------


@pytest.mark.parametrize("value", [None, "", "Bearer token", "Bearer\t", 5, b"Bearer"])
def test_header_token_type__not_a_scheme_is_e011(settings, value):
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = value
    messages = auth_checks.check_settings()
    assert messages == [auth_checks.E011]
    assert messages[0].level == checks.ERROR
    assert '"Bearer"' in messages[0].hint


@pytest.mark.parametrize("value", ["Bearer", "Token", "JWT", "x-api.key"])
def test_header_token_type__a_scheme_passes(settings, value):
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = value
    assert auth_checks.check_settings() == []


def test_header_token_type__none_stops_manage_py_check(settings):
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = None
    with pytest.raises(SystemCheckError, match=r"auth_token\.E011"):
        call_command("check")


@pytest.mark.parametrize("scheme", ["", "Bearer ", "None ", "Token "])
def test_header_token_type__none_never_a_500(client, settings, alice_token, scheme):
    """Until the check is heeded, no header authenticates; the request is anonymous."""
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = None
    response = client.get("/me/", HTTP_AUTHORIZATION=scheme + alice_token[1])
    assert response.status_code == 200
    assert response.json() == {"user": None, "token": None, "source": None}
    api = client.get("/api/sessions/", HTTP_AUTHORIZATION=scheme + alice_token[1])
    assert api.status_code == 401


def test_header_token_type__none_keeps_the_cookie_working(client, settings, alice_token):
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = None
    client.cookies["Authorization"] = alice_token[1]
    assert client.get("/me/", HTTP_AUTHORIZATION="Bearer x").json()["user"] == "alice"


# --- KEY_PREFIX changed: earlier tokens and device secrets keep working --------------------------


def test_key_prefix__earlier_tokens_keep_working(client, settings, alice):
    header_token, header_raw = issue_token(alice)
    cookie_token, cookie_raw = issue_token(alice)
    settings.AUTH_TOKEN_KEY_PREFIX = "acme"
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {header_raw}").json() == {
        "user": "alice",
        "token": str(header_token.public_id),
        "source": "header",
    }
    client.cookies["Authorization"] = cookie_raw
    assert client.get("/me/").json()["token"] == str(cookie_token.public_id)


def test_key_prefix__new_tokens_and_secrets_use_the_current_one(settings, alice):
    settings.AUTH_TOKEN_KEY_PREFIX = "acme"
    _, raw = issue_token(alice)
    _, secret = services.register_device(None, alice, PHONE)
    assert raw.startswith("acme_")
    assert secret.startswith("acmed_")


def test_key_prefix__earlier_device_secrets_keep_working(client, settings, alice):
    _, secret = services.register_device(None, alice, PHONE)
    assert secret.startswith("atd_")
    settings.AUTH_TOKEN_KEY_PREFIX = "acme"
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": secret})
    assert response.status_code == 201
    assert response.json()["token"].startswith("acme_")


def test_key_prefix__the_digest_still_decides(client, settings, alice):
    """Accepting any prefix accepts no other token: the prefix is part of what is digested."""
    _, raw = issue_token(alice)
    settings.AUTH_TOKEN_KEY_PREFIX = "acme"
    body = raw.partition("_")[2][: -keys.CHECKSUM_LENGTH]
    renamed = f"acme_{body}"
    renamed += keys.checksum(renamed)
    assert keys.is_well_formed(renamed)
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {renamed}").json()["user"] is None


@pytest.mark.parametrize("prefix", ["a", "at", "atd", "acme2", "abcdefghij"])
def test_is_well_formed__any_valid_prefix(prefix):
    assert keys.is_well_formed(keys.generate(prefix))


@pytest.mark.parametrize("prefix", ["AT", "1a", "a-b", "abcdefghijkl", "TEST"])
def test_is_well_formed__refuses_what_check_e001_refuses(settings, prefix):
    assert not keys.is_well_formed(keys.generate(prefix))
    settings.AUTH_TOKEN_KEY_PREFIX = prefix
    assert ids(auth_checks.check_settings()) == ["auth_token.E001"]


def test_key_prefix__eleven_characters_is_e001(settings):
    """Eleven characters are well-formed (a ten-character prefix's device secrets), never a setting."""
    settings.AUTH_TOKEN_KEY_PREFIX = "abcdefghijk"
    assert ids(auth_checks.check_settings()) == ["auth_token.E001"]


def test_key_prefix__longest_allowed_prefix_still_logs_devices_in(client, settings, alice):
    """A ten-character prefix gives device secrets an eleven-character one (the prefix and ``d``)."""
    settings.AUTH_TOKEN_KEY_PREFIX = "abcdefghij"
    assert auth_checks.check_settings() == []
    _, secret = services.register_device(None, alice, PHONE)
    assert secret.startswith("abcdefghijd_")
    response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": secret})
    assert response.status_code == 201
    token = response.json()["token"]
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {token}").json()["user"] == "alice"


# --- DeviceKeyBackend missing: a check error at start-up, and a clear 404 ------------------------


@pytest.fixture
def without_device_backend(settings):
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND]


def test_device_backend_missing__e013_when_the_device_api_is_routed(without_device_backend):
    messages = auth_checks.check_device_login()
    assert messages == [auth_checks.E013]
    assert DEVICE_BACKEND in messages[0].msg
    assert "SILENCED_SYSTEM_CHECKS" in messages[0].hint
    with pytest.raises(SystemCheckError, match=r"auth_token\.E013"):
        call_command("check")


def test_device_backend_missing__no_e013_without_the_device_api(without_device_backend, settings):
    settings.ROOT_URLCONF = "auth_token.urls"
    assert auth_checks.check_device_login() == []


def test_device_backend_present__no_e013():
    assert auth_checks.check_device_login() == []


def test_device_backend_missing__register_is_404_and_writes_nothing(
    without_device_backend, client, alice_header
):
    response = post_json(client, "/api/devices/", {"uuid": PHONE, "name": "Phone"}, **alice_header)
    assert response.status_code == 404
    assert response.json() == NOT_ENABLED
    assert not DeviceKey.objects.exists()


def test_device_backend_missing__device_login_is_404_and_writes_nothing(client, alice, settings):
    _, secret = services.register_device(None, alice, PHONE)
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND]
    failures = []

    def record(**kwargs):
        failures.append(kwargs)

    user_login_failed.connect(record)
    try:
        response = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": secret})
    finally:
        user_login_failed.disconnect(record)
    assert response.status_code == 404
    assert response.json() == NOT_ENABLED
    assert not Token.objects.exists()
    assert DeviceKey.objects.get().last_login is None
    assert failures == []


def test_device_backend_missing__services_refuse(without_device_backend, alice):
    with pytest.raises(DeviceLoginDisabled, match="not enabled"):
        services.register_device(None, alice, PHONE)
    with pytest.raises(DeviceLoginDisabled):
        services.login_device(None, PHONE, keys.generate("atd"))
    assert not DeviceKey.objects.exists()


def test_device_backend_missing__listing_and_removing_devices_still_work(
    client, alice, settings, alice_header
):
    device, _ = services.register_device(None, alice, PHONE)
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND]
    assert [row["id"] for row in client.get("/api/devices/", **alice_header).json()] == [device.pk]
    assert client.delete(f"/api/devices/{device.pk}/", **alice_header).status_code == 204


# --- The original library's DeviceBackend ---------------------------------------------------------


def test_old_device_backend__e012_names_the_new_path(settings):
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND, "auth_token.backends.DeviceBackend"]
    messages = auth_checks.check_device_login()
    assert ids(messages) == ["auth_token.E012", "auth_token.E013"]
    assert messages[0].level == checks.ERROR
    assert messages[0].hint == f"Replace it with {DEVICE_BACKEND!r}."
    with pytest.raises(SystemCheckError, match=r"auth_token\.E012"):
        call_command("check")


# --- services.login(backend=<a class>) ------------------------------------------------------------


@pytest.mark.parametrize("backend", [ModelBackend, ModelBackend()])
def test_login__backend_not_a_path_is_a_type_error(alice, backend):
    with pytest.raises(TypeError, match="dotted import path"):
        services.login(None, alice, backend=backend)
    assert not Token.objects.exists()


def test_login__user_backend_attribute_not_a_path_is_a_type_error(alice):
    alice.backend = ModelBackend
    with pytest.raises(TypeError, match="dotted import path"):
        services.login(None, alice)
    assert not Token.objects.exists()


# --- Settings the original library had and we dropped: W002 with the replacement, not W003 -------


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("COUNT_USER_PRESERVED_TOKENS", "cleartokens"),
        ("TWO_FACTOR_ENABLED", "two-factor"),
        ("TWO_FACTOR_SENDING_FUNCTION", "two-factor"),
        ("TWO_FACTOR_REDIRECT_URL", "two-factor"),
        ("MAX_RANDOM_KEY_ITERATIONS", "256 random bits"),
        ("EXPIRATION_DELTA", "AUTH_TOKEN_RENEWAL_INTERVAL"),
        ("COOKIE_AGE", "AUTH_TOKEN_MAX_TOKEN_AGE"),
        ("LENGTH", "AUTH_TOKEN_KEY_PREFIX"),
        ("HASH_SALT", "SHA-256"),
        ("TAKEOVER_ENABLED", "AUTH_TOKEN_TAKEOVER_PERMISSION"),
        ("OTP_DEFAULT_AGE", "One-time passwords"),
        ("AUTHORIZATION_REQUEST_BACKENDS", "Authorization requests"),
    ],
)
def test_removed_setting__w002_with_its_replacement(settings, name, replacement):
    setattr(settings, f"AUTH_TOKEN_{name}", 1)
    messages = auth_checks.check_settings()
    assert ids(messages) == ["auth_token.W002"]
    assert messages[0].msg == f"AUTH_TOKEN_{name} is no longer used."
    assert replacement in messages[0].hint


@pytest.mark.parametrize("name", ["TWO_FACTOR", "COOKIE_AGES", "EXPIRATION", "DEFAULT_TOKEN_AGES"])
def test_near_miss__is_still_a_typo_w003(settings, name):
    setattr(settings, f"AUTH_TOKEN_{name}", 1)
    assert ids(auth_checks.check_settings()) == ["auth_token.W003"]
