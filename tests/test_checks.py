"""System checks: every documented id, raised by a bad setting and absent for a good one."""

import pytest
from django.core import checks
from django.core.checks import run_checks

from auth_token import checks as auth_checks
from auth_token.conf import REMOVED

OURS = auth_checks.OUR_MIDDLEWARE
DJANGOS = auth_checks.DJANGO_MIDDLEWARE
CSRF = auth_checks.CSRF_MIDDLEWARE
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"


def _ids(messages):
    return [message.id for message in messages]


def _our_ids(messages):
    return [message.id for message in messages if message.id.startswith("auth_token.")]


def test_checks__test_settings_are_clean():
    assert auth_checks.check_settings() == []
    assert auth_checks.check_middleware() == []
    assert _our_ids(run_checks()) == []


def test_checks__registered_under_security_tag(settings):
    settings.AUTH_TOKEN_HEADER_NAME = "X_Token"
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != OURS]
    assert sorted(_our_ids(run_checks(tags=[checks.Tags.security]))) == [
        "auth_token.E003",
        "auth_token.W004",
    ]
    assert _our_ids(run_checks(tags=[checks.Tags.models])) == []


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("AT", ["auth_token.E001"]),
        ("1a", ["auth_token.E001"]),
        ("a_b", ["auth_token.E001"]),
        ("a-b", ["auth_token.E001"]),
        ("abcdefghijk", ["auth_token.E001"]),
        ("", ["auth_token.E001"]),
        ("at\n", ["auth_token.E001"]),
        ("é", ["auth_token.E001"]),
        (None, ["auth_token.E001"]),
        ("at", []),
        ("a", []),
        ("acme2", []),
        ("abcdefghij", []),
    ],
)
def test_check_settings__key_prefix(settings, prefix, expected):
    settings.AUTH_TOKEN_KEY_PREFIX = prefix
    messages = auth_checks.check_settings()
    assert _ids(messages) == expected
    for message in messages:
        assert message.level == checks.ERROR
        assert repr(prefix) in message.msg


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        pytest.param([SESSION, CSRF, OURS], [], id="ours"),
        pytest.param([SESSION, CSRF, DJANGOS, OURS], [auth_checks.E002], id="both"),
        pytest.param([SESSION, CSRF, OURS, DJANGOS], [auth_checks.E002], id="both-reversed"),
        pytest.param([SESSION, CSRF, DJANGOS], [auth_checks.W004], id="django-only"),
        pytest.param([SESSION, CSRF], [auth_checks.W004], id="none"),
        pytest.param([], [auth_checks.W004], id="empty"),
        pytest.param([SESSION, OURS], [auth_checks.W001], id="no-csrf"),
        pytest.param([SESSION, DJANGOS, OURS], [auth_checks.E002, auth_checks.W001], id="both-no-csrf"),
    ],
)
def test_check_middleware__table(settings, middleware, expected):
    settings.MIDDLEWARE = middleware
    assert auth_checks.check_middleware() == expected


def test_check_middleware__e002_is_an_error(settings):
    settings.MIDDLEWARE = [SESSION, CSRF, DJANGOS, OURS]
    [message] = auth_checks.check_middleware()
    assert message.id == "auth_token.E002"
    assert message.level == checks.ERROR
    assert message.is_serious()


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        pytest.param(True, True, ["auth_token.W001"], id="cookie-on"),
        pytest.param(False, True, [], id="cookie-off"),
        pytest.param(False, False, [], id="both-off"),
    ],
)
def test_check_middleware__w001_cookie_without_csrf(settings, cookie, header, expected):
    settings.MIDDLEWARE = [SESSION, OURS]
    settings.AUTH_TOKEN_COOKIE = cookie
    settings.AUTH_TOKEN_HEADER = header
    messages = auth_checks.check_middleware()
    assert _ids(messages) == expected
    assert all(message.level == checks.WARNING for message in messages)


def test_check_middleware__no_middleware_setting(settings):
    del settings.MIDDLEWARE
    assert auth_checks.check_middleware() == [auth_checks.W004]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("X_Token", [auth_checks.E003]),
        ("_", [auth_checks.E003]),
        ("Authorization", []),
        ("X-Token", []),
    ],
)
def test_check_settings__header_name(settings, name, expected):
    settings.AUTH_TOKEN_HEADER_NAME = name
    assert auth_checks.check_settings() == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"COOKIE_DOMAIN": "example.com"}, [auth_checks.E004], id="domain"),
        pytest.param({"COOKIE_PATH": "/api"}, [auth_checks.E004], id="path"),
        pytest.param({"COOKIE_SECURE": False}, [auth_checks.E004], id="not-secure"),
        pytest.param(
            {"COOKIE_DOMAIN": ".example.com", "COOKIE_PATH": "/api", "COOKIE_SECURE": False},
            [auth_checks.E004],
            id="all-three-once",
        ),
        pytest.param({}, [], id="correct"),
        pytest.param({"COOKIE_DOMAIN": ""}, [], id="empty-domain"),
    ],
)
def test_check_settings__host_cookie(settings, overrides, expected):
    settings.AUTH_TOKEN_COOKIE_NAME = "__Host-x"
    settings.AUTH_TOKEN_COOKIE_SECURE = True
    for name, value in overrides.items():
        setattr(settings, f"AUTH_TOKEN_{name}", value)
    assert auth_checks.check_settings() == expected


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"COOKIE_DOMAIN": "example.com"}, id="domain"),
        pytest.param({"COOKIE_PATH": "/api"}, id="path"),
        pytest.param({"COOKIE_SECURE": False}, id="not-secure"),
    ],
)
def test_check_settings__plain_cookie_name_allows_anything(settings, overrides):
    settings.AUTH_TOKEN_COOKIE_NAME = "Authorization"
    for name, value in overrides.items():
        setattr(settings, f"AUTH_TOKEN_{name}", value)
    assert auth_checks.check_settings() == []


@pytest.mark.parametrize(
    ("client_ip", "expected"),
    [
        pytest.param({}, [auth_checks.E005], id="empty-dict"),
        pytest.param({"proxy_count": 1, "bogus": 1}, [auth_checks.E005], id="unknown-key"),
        pytest.param("REMOTE_ADDR", [auth_checks.E005], id="string"),
        pytest.param(["proxy_count"], [auth_checks.E005], id="list"),
        pytest.param({"proxy_count": 0}, [auth_checks.E005], id="zero-proxies"),
        pytest.param({"proxy_trusted_ips": []}, [auth_checks.E005], id="no-trusted-ips"),
        pytest.param(None, [], id="none"),
        pytest.param({"proxy_count": 1}, [], id="proxy-count"),
        pytest.param({"proxy_trusted_ips": ["10.0.0.1"]}, [], id="trusted-ips"),
        pytest.param({"proxy_count": 1, "proxy_trusted_ips": ["10.0.0.1"]}, [], id="both"),
    ],
)
def test_check_settings__client_ip(settings, client_ip, expected):
    settings.AUTH_TOKEN_CLIENT_IP = client_ip
    assert auth_checks.check_settings() == expected


@pytest.mark.parametrize(
    "client_ip",
    [
        pytest.param({"proxy_count": -1}, id="negative-count"),
        pytest.param({"proxy_count": "1"}, id="string-count"),
        pytest.param({"proxy_count": True}, id="bool-count"),
        pytest.param({"proxy_trusted_ips": "10.0.0.1"}, id="string-not-list"),
    ],
)
def test_check_settings__client_ip_wrong_types(settings, client_ip):
    settings.AUTH_TOKEN_CLIENT_IP = client_ip
    assert auth_checks.check_settings() == [auth_checks.E005]


@pytest.mark.parametrize(
    ("samesite", "expected"),
    [
        ("lax", [auth_checks.E006]),
        ("Bogus", [auth_checks.E006]),
        ("", [auth_checks.E006]),
        (False, [auth_checks.E006]),
        ("Lax", []),
        ("Strict", []),
        ("None", []),
        (None, []),
    ],
)
def test_check_settings__cookie_samesite(settings, samesite, expected):
    settings.AUTH_TOKEN_COOKIE_SAMESITE = samesite
    assert auth_checks.check_settings() == expected


@pytest.mark.parametrize("age", auth_checks.AGES)
@pytest.mark.parametrize("value", [0, -1, "60", True, 1.5, 60.0])
def test_check_settings__bad_age(settings, age, value):
    setattr(settings, f"AUTH_TOKEN_{age}", value)
    messages = auth_checks.check_settings()
    assert _ids(messages) == ["auth_token.E007"]
    assert messages[0].level == checks.ERROR
    assert f"AUTH_TOKEN_{age}" in messages[0].msg


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ("DEFAULT_TOKEN_AGE", ["auth_token.E007"]),
        ("MAX_TOKEN_AGE", ["auth_token.E007"]),
        ("RENEWAL_INTERVAL", ["auth_token.E007"]),
        ("ABSOLUTE_TOKEN_AGE", []),
    ],
)
def test_check_settings__age_none(settings, age, expected):
    setattr(settings, f"AUTH_TOKEN_{age}", None)
    assert _ids(auth_checks.check_settings()) == expected


@pytest.mark.parametrize("age", auth_checks.AGES)
@pytest.mark.parametrize("value", [1, 3600])
def test_check_settings__good_age(settings, age, value):
    setattr(settings, f"AUTH_TOKEN_{age}", value)
    assert auth_checks.check_settings() == []


def test_check_settings__one_e007_per_bad_age(settings):
    settings.AUTH_TOKEN_DEFAULT_TOKEN_AGE = 0
    settings.AUTH_TOKEN_MAX_TOKEN_AGE = "60"
    messages = auth_checks.check_settings()
    assert _ids(messages) == ["auth_token.E007", "auth_token.E007"]
    assert "AUTH_TOKEN_DEFAULT_TOKEN_AGE" in messages[0].msg
    assert "AUTH_TOKEN_MAX_TOKEN_AGE" in messages[1].msg


@pytest.mark.parametrize(
    "rate", ["30", "30/", "/min", "0/min", "30/mango", "30 / min", "", 30, ("30", "min")]
)
def test_check_settings__e010_login_throttle_rate(settings, rate):
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = rate
    messages = auth_checks.check_settings()
    assert _ids(messages) == ["auth_token.E010"]
    assert messages[0].level == checks.ERROR
    assert repr(rate) in messages[0].msg


@pytest.mark.parametrize("rate", ["30/min", "5/s", "100/hour", "1000/day", None])
def test_check_settings__login_throttle_rate_ok(settings, rate):
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = rate
    assert auth_checks.check_settings() == []


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
GUARD = "auth_token.throttling.LoginThrottleBackend"


@pytest.mark.parametrize(
    ("backends", "rate", "expected"),
    [
        pytest.param([GUARD, MODEL_BACKEND], "30/min", [], id="guard-first"),
        pytest.param([MODEL_BACKEND], "30/min", ["auth_token.W010"], id="no-guard"),
        pytest.param([MODEL_BACKEND, GUARD], "30/min", ["auth_token.W010"], id="guard-second"),
        pytest.param([], "30/min", ["auth_token.W010"], id="no-backends"),
        pytest.param([MODEL_BACKEND], None, [], id="throttle-off"),
        pytest.param([MODEL_BACKEND], "30/mango", ["auth_token.E010"], id="bad-rate-e010-only"),
    ],
)
def test_check_settings__w010_login_throttle_backend(settings, backends, rate, expected):
    settings.AUTHENTICATION_BACKENDS = backends
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = rate
    messages = auth_checks.check_settings()
    assert _ids(messages) == expected
    if expected == ["auth_token.W010"]:
        assert messages == [auth_checks.W010]
        assert messages[0].level == checks.WARNING


@pytest.mark.parametrize("old", ["COOKIE_AGE", "EXPIRATION_DELTA"])
def test_check_settings__w002_removed_setting(settings, old):
    setattr(settings, f"AUTH_TOKEN_{old}", 3600)
    assert auth_checks.check_settings() == [
        checks.Warning(f"AUTH_TOKEN_{old} is no longer used.", hint=REMOVED[old], id="auth_token.W002")
    ]
    delattr(settings, f"AUTH_TOKEN_{old}")
    assert auth_checks.check_settings() == []


@pytest.mark.parametrize("name", ["AUTH_TOKEN_TYPO", "AUTH_TOKEN_COOKIE_NAMES", "AUTH_TOKEN_"])
def test_check_settings__w003_unknown_setting(settings, name):
    setattr(settings, name, 1)
    messages = auth_checks.check_settings()
    assert _ids(messages) == ["auth_token.W003"]
    assert messages[0].level == checks.WARNING
    assert name in messages[0].msg


def test_check_settings__w003_not_for_known_or_unprefixed(settings):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 5
    settings.AUTH_TOKENS_TYPO = 1
    settings.TYPO = 1
    assert auth_checks.check_settings() == []


def test_check_settings__several_problems_at_once(settings):
    settings.AUTH_TOKEN_KEY_PREFIX = "AT"
    settings.AUTH_TOKEN_HEADER_NAME = "X_Token"
    settings.AUTH_TOKEN_COOKIE_SAMESITE = "lax"
    settings.AUTH_TOKEN_COOKIE_AGE = 60
    settings.AUTH_TOKEN_TYPO = 1
    assert _ids(auth_checks.check_settings()) == [
        "auth_token.E001",
        "auth_token.E003",
        "auth_token.E006",
        "auth_token.W002",
        "auth_token.W003",
    ]
