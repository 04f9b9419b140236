"""One login budget (AUTH_TOKEN_LOGIN_THROTTLE_RATE) for the HTML, admin, API and device logins.

Each test replays a password-guessing attack. The budget here is 5 attempts a minute: per client
address, every attempt; per username (or device uuid), every failure.
"""

import socket
import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from asgiref.sync import async_to_sync
from django.contrib.auth import aauthenticate, authenticate, user_login_failed
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from auth_token import services, throttling
from auth_token.models import Token
from auth_token.throttling import LoginThrottleBackend
from tests.conftest import REDIS_URL, use_two_process_caches
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RATE = "5/min"
PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
ADMIN_ERROR = "Please enter the correct username and password for a staff account."
HTML_LOGIN = reverse("auth_token:login")
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def budget(settings, login_window):
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = RATE


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def phone(alice):
    """Alice's registered phone and its raw secret."""
    return services.register_device(None, alice, PHONE, name="Alice's phone")


@pytest.fixture
def failures():
    """The ``credentials`` of every ``user_login_failed`` sent."""
    sent = []

    def receiver(sender, credentials, request=None, **kwargs):
        sent.append(credentials)

    user_login_failed.connect(receiver)
    yield sent
    user_login_failed.disconnect(receiver)


def api_login(client, username, password, **extra):
    body = {"username": username, "password": password}
    return client.post("/api/login/", body, content_type="application/json", **extra)


def device_login(client, device_uuid, secret, **extra):
    body = {"uuid": device_uuid, "device_token": secret}
    return client.post("/api/devices/login/", body, content_type="application/json", **extra)


def html_login(client, username, password, **extra):
    return client.post(HTML_LOGIN, {"username": username, "password": password}, **extra)


def admin_login(client, username, password, **extra):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password}, **extra)


def spend_address_budget(client):
    """Five wrong passwords through the API, each for another username: the sixth gets 429."""
    for number in range(5):
        assert api_login(client, f"guess{number}", "wrong").status_code == 400
    assert api_login(client, "guess5", "wrong").status_code == 429


def assert_html_refused(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"Too many login attempts" in response.content
    assert "Authorization" not in response.cookies


def assert_admin_refused(client, response):
    assert response.status_code == 200
    assert ADMIN_ERROR in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- The defect: one address, every login path ----------------------------------------------


def test_html_login__refused_after_the_api_budget_is_spent(client, alice):
    spend_address_budget(client)
    response = html_login(client, "alice", "password")
    assert_html_refused(response)
    assert not Token.objects.exists()


def test_admin_login__refused_after_the_api_budget_is_spent(client, root):
    spend_address_budget(client)
    response = admin_login(client, "root", "password")
    assert_admin_refused(client, response)
    assert not Token.objects.exists()


def test_admin_login__a_hundred_guesses_then_the_right_password(client, root):
    for _ in range(100):
        assert ADMIN_ERROR in admin_login(client, "root", "wrong").content.decode()
    assert_admin_refused(client, admin_login(client, "root", "password"))
    assert not Token.objects.exists()


@pytest.mark.parametrize("spend", ["html", "admin", "device"])
def test_api_login__refused_after_another_path_spent_the_budget(client, alice, spend):
    for number in range(5):
        if spend == "html":
            assert html_login(client, f"guess{number}", "wrong").status_code == 200
        elif spend == "admin":
            assert admin_login(client, f"guess{number}", "wrong").status_code == 200
        else:
            assert device_login(client, str(uuid.uuid4()), "atd_guess").status_code == 400
    response = api_login(client, "alice", "password")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert not Token.objects.exists()


def test_device_login__refused_after_the_password_budget_is_spent(client, phone):
    spend_address_budget(client)
    response = device_login(client, PHONE, phone[1])
    assert response.status_code == 429
    assert not Token.objects.exists()


def test_address_budget__counts_successes_and_is_not_reset_by_them(client, alice):
    for _ in range(4):
        assert api_login(client, "alice", "wrong").status_code == 400
    assert api_login(client, "alice", "password").status_code == 201  # the fifth attempt
    assert api_login(client, "bob", "anything").status_code == 429


@pytest.mark.parametrize(("path", "success"), [("html", 302), ("admin", 302), ("api", 201), ("device", 201)])
def test_address_budget__each_login_counts_once(client, root, path, success):
    _, secret = services.register_device(None, root, PHONE)
    login = {
        "html": lambda: html_login(client, "root", "password"),
        "admin": lambda: admin_login(client, "root", "password"),
        "api": lambda: api_login(client, "root", "password"),
        "device": lambda: device_login(client, PHONE, secret),
    }[path]
    for _ in range(5):
        assert login().status_code == success
    assert login().status_code in (200, 429)  # the admin shows its usual error
    assert Token.objects.count() == 5


def test_address_budget__other_addresses_are_not_affected(client, alice):
    spend_address_budget(client)
    assert api_login(client, "alice", "password", REMOTE_ADDR="10.0.0.2").status_code == 201


@pytest.mark.parametrize("address", ["", "garbage", "999.1.1.1"])
def test_address_budget__requests_without_an_address_share_one(client, alice, address):
    for number in range(5):
        assert api_login(client, f"guess{number}", "wrong", REMOTE_ADDR=address).status_code == 400
    assert api_login(client, "alice", "password", REMOTE_ADDR="not-an-address").status_code == 429
    assert api_login(client, "alice", "password").status_code == 201  # 127.0.0.1 has its own


# --- Per username and per device: a botnet of rotating addresses ------------------------------


def guess_from_many_addresses(client, username, login=api_login):
    for number in range(5):
        login(client, username, "wrong", REMOTE_ADDR=f"10.1.0.{number + 1}")


@pytest.mark.parametrize("path", ["api", "html"])
def test_username_budget__failures_from_many_addresses_lock_the_username(client, alice, bob, path):
    guess_from_many_addresses(client, "alice")
    if path == "api":
        assert api_login(client, "alice", "password", REMOTE_ADDR="10.2.0.1").status_code == 429
    else:
        assert_html_refused(html_login(client, "alice", "password", REMOTE_ADDR="10.2.0.1"))
    assert api_login(client, "bob", "password", REMOTE_ADDR="10.2.0.1").status_code == 201
    assert list(Token.objects.values_list("user__username", flat=True)) == ["bob"]


def test_username_budget__locks_the_admin_login_too(client, root):
    guess_from_many_addresses(client, "root", login=admin_login)
    assert_admin_refused(client, admin_login(client, "root", "password", REMOTE_ADDR="10.2.0.1"))
    assert not Token.objects.exists()


def test_username_budget__spellings_of_one_name_share_it(client, alice):
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in fullwidth letters: NFKC makes it ASCII
    for number, spelling in enumerate(["alice", "Alice", "ALICE", fullwidth, "alicE"]):
        api_login(client, spelling, "wrong", REMOTE_ADDR=f"10.1.0.{number + 1}")
    assert api_login(client, "alice", "password", REMOTE_ADDR="10.2.0.1").status_code == 429


def test_username_budget__counts_failures_only(client, alice):
    for number in range(6):
        response = api_login(client, "alice", "password", REMOTE_ADDR=f"10.1.0.{number + 1}")
        assert response.status_code == 201


def test_device_budget__failures_from_many_addresses_lock_the_device(client, alice, phone):
    tablet = services.register_device(None, alice, "tablet")
    for number in range(5):
        response = device_login(client, PHONE, "atd_guess", REMOTE_ADDR=f"10.1.0.{number + 1}")
        assert response.status_code == 400
    # Another spelling of the same uuid is the same device.
    plain = uuid.UUID(PHONE).hex
    assert device_login(client, plain, phone[1], REMOTE_ADDR="10.2.0.1").status_code == 429
    assert device_login(client, "tablet", tablet[1], REMOTE_ADDR="10.2.0.1").status_code == 201
    assert api_login(client, "alice", "password", REMOTE_ADDR="10.2.0.1").status_code == 201
    assert Token.objects.filter(device=phone[0]).count() == 0


# --- Windows, settings, signals, writes -----------------------------------------------------


def test_window__budget_comes_back_when_it_ends(client, alice):
    spend_address_budget(client)
    response = api_login(client, "alice", "password")
    assert response.status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=int(response["Retry-After"])), tick=False):
        assert api_login(client, "alice", "password").status_code == 201


def test_window__retry_after_counts_down_to_its_end(client, alice):
    spend_address_budget(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=20), tick=False):
        response = api_login(client, "alice", "password")
    assert response.status_code == 429
    assert 30 <= int(response["Retry-After"]) <= 40


def test_rate_none__disables_every_path(client, settings, root):
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = None
    for _ in range(10):
        assert api_login(client, "root", "wrong").status_code == 400
        assert html_login(client, "root", "wrong").status_code == 200
        assert admin_login(client, "root", "wrong").status_code == 200
        assert device_login(client, PHONE, "atd_guess").status_code == 400
    assert api_login(client, "root", "password").status_code == 201
    assert html_login(client, "root", "password").status_code == 302
    assert admin_login(client, "root", "password").status_code == 302


@pytest.mark.parametrize("rate", ["1/s", "2/sec", "3/m", "3/minute", "4/h", "5/hour", "6/d", "7/day"])
def test_parse_rate__accepts(rate):
    count, seconds = throttling.parse_rate(rate)
    assert count == int(rate.split("/")[0])
    assert seconds in (1, 60, 3600, 86400)


@pytest.mark.parametrize("rate", ["30", "30/", "/min", "0/min", "-1/min", "30/mango", " 30/min", "x/min", 30])
def test_parse_rate__refuses(rate):
    with pytest.raises(ValueError, match="not a rate"):
        throttling.parse_rate(rate)


def test_signal__refusals_send_user_login_failed(client, alice, root, phone, failures):
    spend_address_budget(client)
    failures.clear()
    assert html_login(client, "alice", "password").status_code == 429
    assert api_login(client, "alice", "password").status_code == 429
    assert device_login(client, PHONE, phone[1]).status_code == 429
    assert_admin_refused(client, admin_login(client, "root", "password"))
    assert failures == [
        {"username": "alice"},
        {"username": "alice"},
        {"device_uuid": PHONE},
        {"username": "root", "password": "********************"},  # Django's, masked
    ]


@pytest.mark.parametrize("path", ["html", "api", "device"])
def test_refusal__writes_nothing_and_reads_no_database(client, alice, phone, path, django_assert_num_queries):
    spend_address_budget(client)
    with django_assert_num_queries(0):
        if path == "html":
            assert html_login(client, "alice", "password").status_code == 429
        elif path == "api":
            assert api_login(client, "alice", "password").status_code == 429
        else:
            assert device_login(client, PHONE, phone[1]).status_code == 429
    assert not Token.objects.exists()


# --- The guard backend ----------------------------------------------------------------------


def test_guard__refuses_inside_authenticate(client, alice, failures):
    spend_address_budget(client)
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1")
    failures.clear()
    assert authenticate(request, username="alice", password="password") is None
    assert failures == [{"username": "alice", "password": "********************"}]
    assert authenticate(None, username="alice", password="password") == alice  # no client address


def test_guard__refuses_inside_aauthenticate(client, alice):
    guess_from_many_addresses(client, "alice")
    assert async_to_sync(aauthenticate)(None, username="alice", password="password") is None


def test_guard__never_authenticates_and_loads_nobody(alice):
    guard = LoginThrottleBackend()
    assert guard.authenticate(None, username="alice", password="password") is None
    # No get_user: Django's test client picks the first backend that has one to load users.
    for name in ("get_user", "has_perm", "get_all_permissions", "user_can_authenticate"):
        assert not hasattr(guard, name)
    guess_from_many_addresses(Client(), "alice")
    with pytest.raises(PermissionDenied):
        guard.authenticate(None, username="alice", password="password")


def test_guard__missing_leaves_only_our_views_protected(client, settings, root):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    spend_address_budget(client)
    assert_html_refused(html_login(client, "root", "password"))
    assert admin_login(client, "root", "password").status_code == 302


def test_guard__is_not_recorded_on_tokens(alice):
    from auth_token.test import Client as TokenClient

    token_client = TokenClient()
    token = token_client.force_login(alice)
    assert token.backend == "django.contrib.auth.backends.ModelBackend"
    assert token_client.get("/me/").json()["user"] == "alice"


# --- Storage --------------------------------------------------------------------------------


@pytest.fixture
def broken_cache(settings):
    """The login budget's cache is a Redis server that is not there (a closed port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/15",
        }
    }


def test_cache_error__lets_every_login_through(client, root, phone, broken_cache, caplog):
    for _ in range(6):
        assert api_login(client, "root", "wrong").status_code == 400
    assert api_login(client, "root", "password").status_code == 201
    assert html_login(client, "root", "password").status_code == 302
    assert admin_login(Client(), "root", "password").status_code == 302
    assert device_login(client, PHONE, phone[1]).status_code == 201
    assert "Login throttle: the cache failed" in caplog.text


@pytest.fixture
def shared_redis(settings):
    """Two cache aliases on one Redis (db 15) stand for two processes of one site."""
    prefix = use_two_process_caches(settings)
    client = redis.Redis.from_url(REDIS_URL)
    yield prefix, client
    for key in client.scan_iter(f"{prefix}:*"):  # only this test's keys: never a flush
        client.delete(key)


def test_shared_cache__counters_land_in_redis_and_bind_every_process(client, settings, alice, shared_redis):
    prefix, redis_client = shared_redis
    guess_from_many_addresses(client, "alice")
    keys = [key.decode() for key in redis_client.scan_iter(f"{prefix}:*auth_token:login:*")]
    assert len(keys) == 6  # five addresses and one username
    assert not any("alice" in key or "10.1.0." in key for key in keys)  # hashed
    settings.AUTH_TOKEN_CACHE = "process_b"  # another process, same Redis
    assert api_login(client, "alice", "password", REMOTE_ADDR="10.2.0.1").status_code == 429


# --- ThrottledModelBackend: the guard and Django's ModelBackend in one ---------------------------

THROTTLED_MODEL_BACKEND = "auth_token.throttling.ThrottledModelBackend"


@pytest.fixture
def one_backend(settings):
    """The plain project's setting: Django's ModelBackend replaced by ours, nothing else."""
    settings.AUTHENTICATION_BACKENDS = [THROTTLED_MODEL_BACKEND]


def test_throttled_model_backend__guards_the_admin_login(client, root, one_backend):
    spend_address_budget(client)
    assert_admin_refused(client, admin_login(client, "root", "password"))


def test_throttled_model_backend__authenticates_within_budget(client, root, one_backend):
    response = admin_login(client, "root", "password")
    assert response.status_code == 302
    assert Token.objects.get().backend == THROTTLED_MODEL_BACKEND


def test_throttled_model_backend__refuses_inside_aauthenticate(alice, one_backend):
    request = RequestFactory().post("/", REMOTE_ADDR="10.9.8.7")
    for _ in range(5):
        assert async_to_sync(aauthenticate)(request, username="alice", password="wrong") is None
    assert async_to_sync(aauthenticate)(request, username="alice", password="password") is None


@pytest.mark.parametrize(
    ("backends", "needs_backend"),
    [([THROTTLED_MODEL_BACKEND], False), ([throttling.GUARD_BACKEND, THROTTLED_MODEL_BACKEND], True)],
    ids=["throttled-model-backend", "guard-and-model-backend"],
)
def test_throttled_model_backend__django_login_needs_no_backend(settings, alice, backends, needs_backend):
    """A sign-up view calls Django's login(request, user) for a user authenticate() never saw."""
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore

    settings.AUTHENTICATION_BACKENDS = backends
    request = RequestFactory().post("/")
    request.session = SessionStore()
    user = type(alice)._default_manager.get(pk=alice.pk)  # no .backend: not from authenticate()
    if needs_backend:
        with pytest.raises(ValueError, match="multiple authentication backends"):
            login(request, user)
    else:
        login(request, user)
        assert request.session["_auth_user_backend"] == THROTTLED_MODEL_BACKEND
