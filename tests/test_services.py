from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import user_logged_in, user_logged_out
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.utils import timezone

from auth_token import resolver, services, signals
from auth_token.credentials import get_credential
from auth_token.exceptions import TakeoverActive
from auth_token.models import DeviceKey, Token, TokenRelatedObject
from auth_token.services._request import clean_user_agent
from auth_token.state import get_state, start
from tests.factories import issue_token

pytestmark = pytest.mark.django_db


SIGNALS = {
    "user_logged_in": user_logged_in,
    "user_logged_out": user_logged_out,
    "token_created": signals.token_created,
    "token_revoked": signals.token_revoked,
    "token_renewed": signals.token_renewed,
}


@pytest.fixture
def signal_log():
    """Collect (signal name, kwargs) for every auth signal sent during the test."""
    sent = []
    receivers = {name: (lambda sender, name=name, **kwargs: sent.append((name, kwargs))) for name in SIGNALS}
    for name, signal in SIGNALS.items():
        signal.connect(receivers[name], weak=False)
    yield sent
    for name, signal in SIGNALS.items():
        signal.disconnect(receivers[name])


def make_request(**meta):
    request = RequestFactory().get("/", **meta)
    start(request, get_credential(request), resolver)
    return request


def test_login__records_request_details(alice):
    request = make_request(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)")
    token, raw = services.login(
        request, alice, name="laptop", auth_slug="web", backend="django.contrib.auth.backends.ModelBackend"
    )
    token.refresh_from_db()
    assert token.user == alice
    assert token.name == "laptop"
    assert token.auth_slug == "web"
    assert token.ip == "203.0.113.9"
    assert token.user_agent == "Mozilla/5.0 (X11; Linux x86_64)"
    assert token.backend == "django.contrib.auth.backends.ModelBackend"
    assert token.session_auth_hash == alice.get_session_auth_hash()
    assert token.is_active and token.expiration
    assert raw.startswith("at_")
    assert request.user == alice
    assert request.token == token


def test_login__without_request(alice):
    token, _ = issue_token(alice)
    assert token.ip is None
    assert token.user_agent == ""


def test_login__backend_defaults_to_the_only_one(alice, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    token, _ = services.login(None, alice)
    assert token.backend == "django.contrib.auth.backends.AllowAllUsersModelBackend"


def test_login__backend_ambiguous(alice, settings):
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "auth_token.backends.DeviceKeyBackend",
    ]
    with pytest.raises(ValueError, match="multiple authentication backends"):
        services.login(None, alice)
    assert not Token.objects.exists()


def test_login__related_objects(alice, bob):
    token, _ = issue_token(alice, related_objs=[bob, alice])
    related = TokenRelatedObject.objects.filter(token=token)
    assert {(r.content_type, r.object_id) for r in related} == {
        (ContentType.objects.get_for_model(bob), str(bob.pk)),
        (ContentType.objects.get_for_model(alice), str(alice.pk)),
    }
    assert {r.content_object for r in related} == {alice, bob}


def test_login__signals(alice, signal_log):
    request = make_request()
    token, _ = issue_token(alice, request=request)
    assert [name for name, _ in signal_log] == ["token_created", "user_logged_in"]
    assert signal_log[0][1]["token"] == token
    assert signal_log[0][1]["request"] is request
    assert signal_log[1][1]["user"] == alice
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_login__rotates_csrf_for_cookie_tokens(alice):
    request = make_request()
    request.META["CSRF_COOKIE"] = "x" * 32
    issue_token(alice, request=request)
    assert request.META["CSRF_COOKIE"] != "x" * 32
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"]


def test_login__header_only_keeps_csrf(alice):
    request = make_request()
    request.META["CSRF_COOKIE"] = "x" * 32
    issue_token(alice, request=request, allowed_cookie=False)
    assert request.META["CSRF_COOKIE"] == "x" * 32


def test_login__replaces_previous_cookie_token(alice, bob, signal_log):
    old, raw = issue_token(alice)
    request = make_request()
    request.COOKIES["Authorization"] = raw
    start(request, get_credential(request), resolver)
    new, _ = issue_token(bob, request=request)
    old.refresh_from_db()
    assert not old.is_active
    assert new.is_active
    revoked = [kwargs for name, kwargs in signal_log if name == "token_revoked"]
    assert [(kwargs["token"], kwargs["reason"], kwargs["request"]) for kwargs in revoked] == [
        (old, "replaced", request)
    ]


def test_login__max_tokens_evicts_oldest(alice, settings, signal_log):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 2
    first, _ = issue_token(alice)
    second, _ = issue_token(alice)
    third, _ = issue_token(alice)
    assert set(Token.objects.filter(is_active=True)) == {second, third}
    assert [kwargs["token"] for name, kwargs in signal_log if name == "token_revoked"] == [first]
    assert [kwargs["reason"] for name, kwargs in signal_log if name == "token_revoked"] == ["limit"]


def test_login__max_tokens_is_per_user(alice, bob, settings):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 1
    issue_token(alice)
    issue_token(bob)
    assert Token.objects.filter(is_active=True).count() == 2


def test_logout__revokes_and_signals(alice, alice_token, signal_log):
    token, raw = alice_token
    request = make_request(HTTP_AUTHORIZATION=f"Bearer {raw}")
    services.logout(request)
    token.refresh_from_db()
    assert not token.is_active
    assert [name for name, _ in signal_log] == ["token_revoked", "user_logged_out"]
    assert signal_log[0][1]["reason"] == "logout"
    assert signal_log[1][1]["user"] == alice
    assert not request.user.is_authenticated
    assert not request.token.is_authenticated


def test_logout__anonymous_is_harmless(signal_log):
    request = make_request()
    services.logout(request)
    assert [name for name, _ in signal_log] == ["user_logged_out"]
    assert signal_log[0][1]["user"] is None


def test_logout_all__keeps_one_and_revokes_devices(alice, bob):
    keep, _ = issue_token(alice)
    others = [issue_token(alice)[0] for _ in range(3)]
    bobs, _ = issue_token(bob)
    DeviceKey.objects.create(uuid="phone", user=alice, login_token="1$x")
    assert services.logout_all(alice, keep=keep) == 3
    assert set(Token.objects.filter(is_active=True)) == {keep, bobs}
    assert not DeviceKey.objects.get().is_active
    assert all(not Token.objects.get(pk=token.pk).is_active for token in others)


def test_logout_all__devices_false(alice):
    issue_token(alice)
    DeviceKey.objects.create(uuid="phone", user=alice, login_token="1$x")
    assert services.logout_all(alice, devices=False) == 1
    assert DeviceKey.objects.get().is_active


def test_revoke__once(alice_token, signal_log):
    token, _ = alice_token
    assert services.revoke(token) is True
    assert services.revoke(token) is False
    assert [name for name, _ in signal_log] == ["token_revoked"]


def test_revoke__never_revived_by_renewal(client, alice_token, alice_header):
    token, _ = alice_token
    services.revoke(token)
    with time_machine.travel(timezone.now() + timedelta(seconds=120), tick=False):
        assert client.get("/me/", **alice_header).json()["user"] is None
    token.refresh_from_db()
    assert not token.is_active


def test_renew__moves_expiry(alice_token, signal_log):
    token, raw = alice_token
    with time_machine.travel(timezone.now() + timedelta(seconds=10), tick=False):
        request = make_request(HTTP_AUTHORIZATION=f"Bearer {raw}")
        request.token = get_state(request).get_token()
        renewed = services.renew(request)
        now = timezone.now()
    assert renewed.expires_at == now + timedelta(hours=1)
    token.refresh_from_db()
    assert token.expires_at == renewed.expires_at
    assert [name for name, _ in signal_log] == ["token_renewed"]


def test_takeover_active__refuses_minting(alice, bob):
    request = make_request()
    token, _ = issue_token(alice)
    token.active_takeover_id = 1
    request.token = token
    with pytest.raises(TakeoverActive):
        services.login(request, bob)
    with pytest.raises(TakeoverActive):
        services.renew(request)
    with pytest.raises(TakeoverActive):
        services.update_session_auth_hash(request, alice)


def test_user_agent__cleaned():
    request = make_request(HTTP_USER_AGENT="Bad\x00Agent\r\n\x1b[31m" + "x" * 1000)
    cleaned = clean_user_agent(request)
    assert cleaned.startswith("BadAgent[31m")
    assert len(cleaned) == 512


def test_user_agent__parsed_lazily(alice):
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    token, _ = issue_token(alice, request=make_request(HTTP_USER_AGENT=ua))
    assert token.os == "iOS"
    assert token.device_type == "mobile"
