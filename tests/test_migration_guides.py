"""What the migration guides (docs/howto/migrate-*.rst) tell a user of another library, checked.

Each test names the guide and the claim it holds to; a claim the code stops keeping fails here.
"""

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, user_logged_out
from django.contrib.auth.backends import ModelBackend
from django.contrib.contenttypes.models import ContentType
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from auth_token import checks as auth_checks
from auth_token import conf, services
from auth_token.contrib.rest_framework.authentication import TokenAuthentication
from auth_token.exceptions import DeviceKeyAlreadyExists, TakeoverNotAllowed
from auth_token.models import DeviceKey, Token, UserTokenTakeover
from auth_token.test import Client
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

HOWTO = Path(__file__).resolve().parent.parent / "docs" / "howto"
PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
CREDENTIALS = {"username": "alice", "password": "password"}
ISSUED = {"token", "expires_at", "id", "user"}


def guide(name):
    return (HOWTO / f"migrate-{name}.rst").read_text()


def post_json(client, url, data=None, **extra):
    return client.post(url, data or {}, content_type="application/json", **extra)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def ids(messages):
    return [message.id for message in messages]


def request_of(user):
    """A real request of ``user`` through the middleware."""
    client = Client()
    client.force_login(user)
    return client, client.get("/me/").wsgi_request


# --- druids' django-auth-token 0.0.x: what carries over ----------------------------------------


def test_auth_token__a_0x_token_is_refused_before_any_query(client, alice, django_assert_num_queries):
    old = "0123456789abcdef0123456789abcdef01234567"  # 40 hex: a 0.0.x token value
    with django_assert_num_queries(0):
        assert client.get("/me/", **bearer(old)).json()["user"] is None
    client.cookies["Authorization"] = old
    with django_assert_num_queries(0):
        assert client.get("/me/").json()["user"] is None


def test_auth_token__the_key_column_holds_a_digest_and_id_is_the_primary_key(alice):
    token, raw = issue_token(alice)
    assert Token._meta.pk.name == "id"
    assert token.key.startswith("1$") and raw not in token.key
    assert not Token.objects.filter(key=raw).exists()


def test_auth_token__user_relation_is_authorization_tokens(alice):
    token, _ = issue_token(alice)
    assert Token._meta.get_field("user").remote_field.related_name == "authorization_tokens"
    assert list(alice.authorization_tokens.all()) == [token]


def test_auth_token__takeover_relations(staff, alice):
    _, request = request_of(staff)
    record = services.takeover(request, alice)
    token = Token.objects.get(user=staff)
    assert list(token.takeovers.all()) == [record]
    assert not hasattr(token, "user_takeovers")
    assert list(alice.user_token_takeovers.all()) == [record]
    assert token.active_takeover == record


def test_auth_token__kept_and_removed_fields():
    names = {field.name for field in Token._meta.get_fields()}
    kept = {"key", "user", "created_at", "last_access", "is_active", "user_agent", "expiration", "ip"}
    kept |= {"auth_slug", "backend", "allowed_cookie", "allowed_header", "related_objects"}
    new = {"expires_at", "name", "session_auth_hash", "device", "active_takeover"}
    assert kept | new <= names
    assert not {"is_authenticated", "two_factor_code"} & names
    takeover_fields = {field.name for field in UserTokenTakeover._meta.get_fields()}
    assert {"token", "user", "is_active", "actor", "actor_repr", "user_repr"} <= takeover_fields
    assert {"reason", "ip", "user_agent", "created_at", "ended_at", "end_reason"} <= takeover_fields
    device_fields = {field.name for field in DeviceKey._meta.get_fields()}
    assert {"uuid", "user", "login_token", "is_active", "user_agent"} <= device_fields
    assert {"created_at", "last_login"} <= device_fields
    assert {"name", "session_auth_hash"} <= device_fields
    assert [constraint.fields for constraint in DeviceKey._meta.constraints] == [("uuid", "user")]


@pytest.mark.parametrize(("expiration", "age"), [(True, "DEFAULT_TOKEN_AGE"), (False, "MAX_TOKEN_AGE")])
def test_auth_token__expiration_keeps_its_meaning(alice, expiration, age):
    token, _ = issue_token(alice, expiration=expiration)
    lifetime = (token.expires_at - timezone.now()).total_seconds()
    assert getattr(conf.settings, age) - 5 < lifetime <= getattr(conf.settings, age)


def test_auth_token__user_agent_is_cleaned_and_kept_to_512(alice, rf):
    request = rf.get("/", HTTP_USER_AGENT="Agent\x00\x1f" + "x" * 600)
    token, _ = issue_token(alice, request=request)
    assert token.user_agent.startswith("Agent") and "\x00" not in token.user_agent
    assert len(token.user_agent) == 512


def test_auth_token__related_objects_through_login(alice, bob):
    token, _ = issue_token(alice, related_objs=[bob])
    related = token.related_objects.get()
    assert (related.content_type, related.object_id, related.content_object) == (
        ContentType.objects.get_for_model(bob),
        str(bob.pk),
        bob,
    )


# --- druids' django-auth-token 0.0.x: functions ------------------------------------------------


def test_auth_token__utils_module_is_gone():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("auth_token.utils")
    assert importlib.import_module("auth_token.middleware").TokenAuthenticationMiddleware


def test_auth_token__login_takes_keyword_options_and_returns_the_token_and_its_value(alice):
    with pytest.raises(TypeError):
        services.login(None, alice, True)  # 0.0.x: login(request, user, expiration)
    with pytest.raises(TypeError):
        services.login(None, alice, two_factor_login=True)
    with pytest.raises(TypeError):
        services.login(None, alice, backend=ModelBackend)
    assert not Token.objects.exists()
    token, raw = issue_token(alice)
    assert isinstance(token, Token) and isinstance(raw, str)


def test_auth_token__logout_and_logout_all(alice):
    client, request = request_of(alice)
    current = request.token
    other, _ = issue_token(alice)
    services.logout(request)
    current.refresh_from_db()
    assert not current.is_active
    assert client.get("/me/").json()["user"] is None
    other.refresh_from_db()
    assert other.is_active
    assert services.logout_all(alice) == 1
    other.refresh_from_db()
    assert not other.is_active


# --- druids' django-auth-token 0.0.x: device keys ----------------------------------------------


def test_auth_token__get_or_create_token_returns_the_secret_and_raises_for_an_active_key(alice):
    secret = DeviceKey.objects.get_or_create_token(PHONE, alice)
    assert isinstance(secret, str)  # 0.0.x: (secret, created)
    with pytest.raises(DeviceKeyAlreadyExists):
        DeviceKey.objects.get_or_create_token(PHONE, alice)  # 0.0.x: (unsaved secret, False)
    assert DeviceKey.objects.count() == 1
    assert authenticate(None, device_uuid=PHONE, device_token=secret) == alice
    assert not hasattr(DeviceKey.objects, "create_token")  # 0.0.15-0.0.25's name


def test_auth_token__get_or_create_token_reactivates_with_a_new_secret(alice):
    old = DeviceKey.objects.get_or_create_token(PHONE, alice)
    services.deactivate_device(DeviceKey.objects.get())
    new = DeviceKey.objects.get_or_create_token(PHONE, alice)
    assert new != old
    assert DeviceKey.objects.get().is_active
    assert authenticate(None, device_uuid=PHONE, device_token=old) is None
    assert authenticate(None, device_uuid=PHONE, device_token=new) == alice


def test_auth_token__register_device_returns_the_device_and_its_secret(alice):
    device, secret = services.register_device(None, alice, PHONE, name="Phone")
    assert (device.name, device.user) == ("Phone", alice)
    with pytest.raises(DeviceKeyAlreadyExists):
        services.register_device(None, alice, PHONE)
    assert authenticate(None, device_uuid=PHONE, device_token=secret) == alice


def test_auth_token__device_backend_keywords(alice):
    secret = DeviceKey.objects.get_or_create_token(PHONE, alice)
    assert authenticate(None, device_uuid=PHONE, mobile_login_token=secret) is None
    assert authenticate(None, device_uuid=PHONE, device_token=secret) == alice


def test_auth_token__a_wrong_device_is_none_not_permission_denied(alice):
    DeviceKey.objects.get_or_create_token(PHONE, alice)
    assert authenticate(None, device_uuid="unknown", device_token="x" * 60) is None
    assert authenticate(None, device_uuid=PHONE, device_token="x" * 60) is None


def test_auth_token__old_device_backend_path_is_e012(settings):
    settings.AUTHENTICATION_BACKENDS = ["auth_token.backends.DeviceBackend"]
    assert "auth_token.E012" in ids(auth_checks.check_device_login())


# --- druids' django-auth-token 0.0.x: settings -------------------------------------------------

KEPT_SETTINGS = (
    "HEADER",
    "HEADER_NAME",
    "HEADER_TOKEN_TYPE",
    "COOKIE",
    "COOKIE_NAME",
    "COOKIE_HTTPONLY",
    "COOKIE_SECURE",
    "COOKIE_DOMAIN",
    "DEFAULT_TOKEN_AGE",
    "MAX_TOKEN_AGE",
    "RENEWAL_EXEMPT_HEADER",
    "EXPIRATION_HEADER",
    "TAKEOVER_REDIRECT_URL",
)
# 0.0.x's defaults of the settings that kept their meaning and value.
KEPT_DEFAULTS = {
    "HEADER": True,
    "HEADER_NAME": "Authorization",
    "HEADER_TOKEN_TYPE": "Bearer",
    "COOKIE": True,
    "COOKIE_NAME": "Authorization",
    "COOKIE_DOMAIN": None,
    "DEFAULT_TOKEN_AGE": 60 * 60,
    "MAX_TOKEN_AGE": 60 * 60 * 24 * 7 * 2,
    "RENEWAL_EXEMPT_HEADER": "X-Authorization-Renewal-Exempt",
    "EXPIRATION_HEADER": "X-Authorization-Expiration",
    "TAKEOVER_REDIRECT_URL": "/",
}
REMOVED_SETTINGS = (
    "COOKIE_AGE",
    "EXPIRATION_DELTA",
    "COUNT_USER_PRESERVED_TOKENS",
    "MAX_RANDOM_KEY_ITERATIONS",
    "LENGTH",
    "HASH_SALT",
    "TAKEOVER_ENABLED",
    "TWO_FACTOR_ENABLED",
    "TWO_FACTOR_SENDING_FUNCTION",
    "OTP_DEFAULT_AGE",
    "AUTHORIZATION_REQUEST_BACKENDS",
)


def test_auth_token__the_guide_lists_the_kept_settings():
    text = guide("django-auth-token")
    kept_paragraph = text.split("These keep their ``AUTH_TOKEN_`` names", 1)[1].split("What\nchanged", 1)[0]
    assert set(re.findall(r"``([A-Z_]+)``", kept_paragraph)) == set(KEPT_SETTINGS)


def test_auth_token__kept_settings_keep_their_defaults():
    assert set(KEPT_SETTINGS) <= set(conf.DEFAULTS)
    assert {name: conf.DEFAULTS[name] for name in KEPT_DEFAULTS} == KEPT_DEFAULTS


def test_auth_token__cookie_flags_default_to_on(client, settings, alice):
    assert (conf.DEFAULTS["COOKIE_HTTPONLY"], conf.DEFAULTS["COOKIE_SECURE"]) == (True, True)
    assert conf.DEFAULTS["COOKIE_SAMESITE"] == "Lax"
    del settings.AUTH_TOKEN_COOKIE_SECURE  # the test settings turn it off for plain HTTP
    conf.settings.reload()  # pytest-django's delattr sends no setting_changed, nor does its undo
    try:
        morsel = client.post("/auth/login/", CREDENTIALS).cookies["Authorization"]
    finally:
        conf.settings.reload()
    assert (morsel["httponly"], morsel["secure"], morsel["samesite"]) == (True, True, "Lax")


def test_auth_token__bare_token_setting_is_e011(settings):
    settings.AUTH_TOKEN_HEADER_TOKEN_TYPE = None
    assert ids(auth_checks.check_settings()) == ["auth_token.E011"]


@pytest.mark.parametrize("name", REMOVED_SETTINGS)
def test_auth_token__removed_settings_are_w002_with_their_replacement(settings, name):
    setattr(settings, f"AUTH_TOKEN_{name}", 1)
    messages = [message for message in auth_checks.check_settings() if message.id == "auth_token.W002"]
    assert len(messages) == 1
    assert messages[0].level == checks.WARNING
    assert f"AUTH_TOKEN_{name}" in messages[0].msg
    assert messages[0].hint == conf.removed_setting_replacement(name)


def test_auth_token__guide_names_only_settings_that_exist_or_are_reported():
    for name in re.findall(r"``AUTH_TOKEN_([A-Z_]+)", guide("django-auth-token")):
        assert name in conf.DEFAULTS or conf.removed_setting_replacement(name), name


# --- druids' django-auth-token 0.0.x: responses, the API, commands, takeover -------------------


def test_auth_token__expiration_header_is_whole_seconds(client, alice):
    _, raw = issue_token(alice)
    value = client.get("/me/", **bearer(raw))["X-Authorization-Expiration"]
    assert re.fullmatch(r"\d+", value)
    assert conf.settings.DEFAULT_TOKEN_AGE - 5 < int(value) <= conf.settings.DEFAULT_TOKEN_AGE


def test_auth_token__api_login_takes_remember_and_answers_201(client, alice):
    response = post_json(client, "/api/login/", {**CREDENTIALS, "remember": True})
    assert response.status_code == 201
    assert set(response.json()) == ISSUED
    assert not Token.objects.get().expiration


def test_auth_token__api_login_does_not_read_permanent(client, alice):
    response = post_json(client, "/api/login/", {**CREDENTIALS, "permanent": True})
    assert response.status_code == 201
    assert Token.objects.get().expiration  # short-lived: "permanent" was not read


def test_auth_token__api_logout_is_a_post(client, alice):
    token, raw = issue_token(alice)
    assert client.delete("/api/logout/", **bearer(raw)).status_code == 405
    token.refresh_from_db()
    assert token.is_active
    assert client.post("/api/logout/", **bearer(raw)).status_code == 204
    token.refresh_from_db()
    assert not token.is_active


@pytest.mark.parametrize("path", ["/api/mobile-request-token/", "/api/mobile-login/"])
def test_auth_token__old_device_paths_are_gone(client, alice, path):
    _, raw = issue_token(alice)
    assert post_json(client, path, {"uuid": PHONE}, **bearer(raw)).status_code == 404


def test_auth_token__device_registration_and_login(client, alice):
    _, raw = issue_token(alice)
    response = post_json(client, "/api/devices/", {"uuid": PHONE, "name": "Phone"}, **bearer(raw))
    assert response.status_code == 201
    assert set(response.json()) == {"id", "uuid", "name", "device_token"}
    assert post_json(client, "/api/devices/", {"uuid": PHONE}, **bearer(raw)).status_code == 409
    secret = response.json()["device_token"]
    old_field = post_json(client, "/api/devices/login/", {"uuid": PHONE, "login_device_token": secret})
    assert old_field.status_code == 400
    login = post_json(client, "/api/devices/login/", {"uuid": PHONE, "device_token": secret})
    assert login.status_code == 201
    assert set(login.json()) == ISSUED


def test_auth_token__browser_logout_is_a_post(client, alice):
    client.post("/auth/login/", CREDENTIALS)
    confirmation = client.get("/auth/logout/")  # ends nothing: its button POSTs
    assert '<form method="post" action="/auth/logout/">' in confirmation.content.decode()
    assert Token.objects.get().is_active
    client.post("/auth/logout/")
    assert not Token.objects.get().is_active


def test_auth_token__clean_tokens_is_cleartokens_without_per_user_retention(alice):
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("clean_tokens")
    for _ in range(25):  # 0.0.x kept the newest 20 of each user
        issue_token(alice)
    Token.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    current, _ = issue_token(alice)
    call_command("cleartokens", verbosity=0)
    assert list(Token.objects.all()) == [current]


def test_auth_token__max_tokens_per_user_revokes_the_oldest(settings, alice):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 2
    _, second, third = (issue_token(alice)[0] for _ in range(3))
    active = set(Token.objects.filter(is_active=True).values_list("pk", flat=True))
    assert active == {second.pk, third.pk}


def test_auth_token__takeover_needs_staff_and_the_permission(staff, alice, bob):
    _, as_alice = request_of(alice)
    with pytest.raises(TakeoverNotAllowed):
        services.takeover(as_alice, bob)  # not staff
    bob.is_staff = True
    bob.save()
    _, as_bob = request_of(bob)
    with pytest.raises(TakeoverNotAllowed):
        services.takeover(as_bob, alice)  # staff without auth_token.takeover_user
    _, as_staff = request_of(staff)
    with pytest.raises(TakeoverNotAllowed) as refused:
        services.takeover(as_staff, staff)  # 0.0.x returned False
    assert isinstance(refused.value, PermissionDenied)
    assert not UserTokenTakeover.objects.exists()
    record = services.takeover(as_staff, alice)
    assert isinstance(record, UserTokenTakeover) and record.actor == staff


def test_auth_token__logout_during_takeover_ends_the_takeover_only(staff, alice):
    client, request = request_of(staff)
    services.takeover(request, alice)
    assert client.get("/me/").json()["user"] == "alice"
    services.logout(client.get("/me/").wsgi_request)
    assert client.get("/me/").json()["user"] == "staff"
    services.takeover(client.get("/me/").wsgi_request, alice)
    assert services.release_takeover(client.get("/me/").wsgi_request)
    assert client.get("/me/").json()["user"] == "staff"


# --- knox --------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["TEST_", "myapp-", "myapp_"])
def test_knox__prefixes_knox_takes_verbatim_are_e001(settings, prefix):
    settings.AUTH_TOKEN_KEY_PREFIX = prefix
    assert ids(auth_checks.check_settings()) == ["auth_token.E001"]


def test_knox__our_prefix_gets_its_underscore(settings, alice):
    settings.AUTH_TOKEN_KEY_PREFIX = "test"
    assert auth_checks.check_settings() == []
    assert issue_token(alice)[1].startswith("test_")
    assert services.register_device(None, alice, PHONE)[1].startswith("testd_")


def test_knox__changing_the_prefix_logs_nobody_out(client, settings, alice):
    _, raw = issue_token(alice)
    settings.AUTH_TOKEN_KEY_PREFIX = "test"
    assert client.get("/me/", **bearer(raw)).json()["user"] == "alice"


def test_knox__login_answer(client, alice):
    response = post_json(client, "/api/login/", CREDENTIALS)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == ISSUED
    token = Token.objects.get()
    assert body["id"] == str(token.public_id)
    assert body["user"]["username"] == "alice"
    sessions = client.get("/api/sessions/", **bearer(body["token"])).json()
    assert [item["id"] for item in sessions] == [body["id"]]
    assert client.delete(f"/api/sessions/{body['id']}/", **bearer(body["token"])).status_code == 204


def test_knox__logout_ends_the_token_and_keeps_its_row(client, alice):
    token, raw = issue_token(alice)
    assert client.post("/api/logout/", **bearer(raw)).status_code == 204
    token.refresh_from_db()
    assert not token.is_active


@pytest.fixture
def logged_out():
    calls = []

    def record(**kwargs):
        calls.append(kwargs)

    user_logged_out.connect(record)
    yield calls
    user_logged_out.disconnect(record)


def test_knox__logout_all_signals_and_device_keys(client, alice, revocations, logged_out):
    current, raw = issue_token(alice)
    other, _ = issue_token(alice)
    services.register_device(None, alice, PHONE)
    assert post_json(client, "/api/logout-all/", **bearer(raw)).status_code == 204
    assert sorted(revocations) == sorted([(current.pk, "logout_all"), (other.pk, "logout_all")])
    assert logged_out == []
    assert not DeviceKey.objects.get().is_active
    assert not Token.objects.filter(is_active=True).exists()


def test_knox__logout_all_can_keep_the_current_token(client, alice, revocations):
    _, raw = issue_token(alice)
    other, _ = issue_token(alice)
    response = post_json(client, "/api/logout-all/", {"keep_current": True}, **bearer(raw))
    assert response.status_code == 204
    assert revocations == [(other.pk, "logout_all")]
    assert client.get("/me/", **bearer(raw)).json()["user"] == "alice"


def test_knox__token_limit_evicts_instead_of_refusing(client, settings, alice):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 1
    first, _ = issue_token(alice)
    assert post_json(client, "/api/login/", CREDENTIALS).status_code == 201
    first.refresh_from_db()
    assert not first.is_active


@pytest.mark.parametrize("age", ["DEFAULT_TOKEN_AGE", "MAX_TOKEN_AGE"])
def test_knox__no_never_expiring_tokens(settings, age):
    setattr(settings, f"AUTH_TOKEN_{age}", None)
    assert ids(auth_checks.check_settings()) == ["auth_token.E007"]


def test_knox__absolute_age_none_removes_only_the_cap(settings, alice):
    settings.AUTH_TOKEN_ABSOLUTE_TOKEN_AGE = None
    assert auth_checks.check_settings() == []
    token, _ = issue_token(alice)
    assert token.expires_at <= timezone.now() + timedelta(seconds=conf.settings.DEFAULT_TOKEN_AGE)


def test_knox__knox_header_is_left_to_the_next_class():
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Token " + "a" * 64)
    assert TokenAuthentication().authenticate(Request(request)) is None


# --- DRF's authtoken ---------------------------------------------------------------------------


def test_drf__login_reads_json_only(client, alice):
    form = client.post("/api/login/", CREDENTIALS)  # obtain_auth_token read this
    assert form.status_code == 415
    assert not Token.objects.exists()
    assert post_json(client, "/api/login/", CREDENTIALS).status_code == 201
