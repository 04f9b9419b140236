"""System checks: every documented id, raised by a bad setting and absent for a good one."""

import io

import pytest
from django.core import checks
from django.core.checks import run_checks
from django.core.management import call_command

from auth_token import checks as auth_checks
from auth_token.conf import REMOVED

# Django 6.1 runs the model checks against every database (JSONField asks each whether it can).
pytestmark = pytest.mark.django_db(databases="__all__")

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


FORWARDED_FOR = {"header": "X-Forwarded-For", "trusted_proxies": ["10.0.0.1", "10.1.0.0/16", "2001:db8::/64"]}


@pytest.mark.parametrize(
    "client_ip",
    [
        pytest.param(None, id="none"),
        pytest.param(FORWARDED_FOR, id="forwarded-for"),
        pytest.param({"header": "X-Real-IP", "trusted_proxies": ("10.0.0.1",)}, id="real-ip-tuple"),
        pytest.param({"header": "x-forwarded-for", "trusted_proxies": ["::1"]}, id="lowercase-ipv6"),
    ],
)
def test_check_settings__client_ip_good(settings, client_ip):
    settings.AUTH_TOKEN_CLIENT_IP = client_ip
    assert auth_checks.check_settings() == []


@pytest.mark.parametrize(
    "client_ip",
    [
        pytest.param({"proxy_count": 1}, id="proxy-count"),
        pytest.param({"proxy_trusted_ips": ["10.0.0.1"]}, id="proxy-trusted-ips"),
        pytest.param({"proxy_count": 1, **FORWARDED_FOR}, id="mixed"),
    ],
)
def test_check_settings__client_ip_ipware_dicts(settings, client_ip):
    # django-ipware's dicts believed what the client wrote; the hint names the new form.
    settings.AUTH_TOKEN_CLIENT_IP = client_ip
    assert auth_checks.check_settings() == [auth_checks.E005]
    assert '"trusted_proxies"' in auth_checks.E005.hint


@pytest.mark.parametrize(
    ("client_ip", "problem"),
    [
        pytest.param({}, "needs 'header'", id="empty-dict"),
        pytest.param("REMOTE_ADDR", "must be None or a dict", id="string"),
        pytest.param(["X-Forwarded-For"], "must be None or a dict", id="list"),
        pytest.param({**FORWARDED_FOR, "bogus": 1}, "unknown keys 'bogus'", id="unknown-key"),
        pytest.param({"trusted_proxies": ["10.0.0.1"]}, "needs 'header'", id="no-header"),
        pytest.param({"header": 1, "trusted_proxies": ["10.0.0.1"]}, "needs 'header'", id="header-not-str"),
        pytest.param({"header": "", "trusted_proxies": ["10.0.0.1"]}, "not a header name", id="empty-header"),
        pytest.param({"header": "X Forwarded", "trusted_proxies": ["10.0.0.1"]}, "not a header", id="space"),
        pytest.param(
            {"header": "HTTP_X_FORWARDED_FOR", "trusted_proxies": ["10.0.0.1"]}, "underscore", id="meta-key"
        ),
        pytest.param({"header": "Forwarded", "trusted_proxies": ["10.0.0.1"]}, "RFC 7239", id="forwarded"),
        pytest.param({"header": "X-Forwarded-For"}, "needs 'trusted_proxies'", id="no-proxies"),
        pytest.param({"header": "X-Real-IP", "trusted_proxies": []}, "needs 'trusted_proxies'", id="empty"),
        pytest.param(
            {"header": "X-Real-IP", "trusted_proxies": "10.0.0.1"},
            "needs 'trusted_proxies'",
            id="str-not-list",
        ),
        pytest.param({"header": "X-Real-IP", "trusted_proxies": [10]}, "must hold strings", id="int-entry"),
        pytest.param(
            {"header": "X-Real-IP", "trusted_proxies": ["nginx"]}, "'nginx' is not an IP", id="hostname"
        ),
        pytest.param(
            {"header": "X-Real-IP", "trusted_proxies": ["10.0.0.1", "10.1.0.5/16"]},
            "host bits",
            id="host-bits",
        ),
        pytest.param({"header": "X-Real-IP", "trusted_proxies": ["0.0.0.0/0"]}, "every address", id="all-v4"),
        pytest.param({"header": "X-Real-IP", "trusted_proxies": ["::/0"]}, "every address", id="all-v6"),
    ],
)
def test_check_settings__client_ip_cannot_work(settings, client_ip, problem):
    settings.AUTH_TOKEN_CLIENT_IP = client_ip
    [error] = auth_checks.check_settings()
    assert error.id == "auth_token.E005"
    assert isinstance(error, checks.Error)
    assert problem in error.msg
    assert error.hint


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
THROTTLED_MODEL_BACKEND = "auth_token.throttling.ThrottledModelBackend"


@pytest.mark.parametrize(
    ("backends", "rate", "expected"),
    [
        pytest.param([GUARD, MODEL_BACKEND], "30/min", [], id="guard-first"),
        pytest.param([THROTTLED_MODEL_BACKEND], "30/min", [], id="throttled-model-backend"),
        pytest.param([MODEL_BACKEND, THROTTLED_MODEL_BACKEND], "30/min", ["auth_token.W010"], id="second"),
        pytest.param(["no.such.Backend"], "30/min", ["auth_token.W010"], id="unknown-backend"),
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


# --- deploy checks (manage.py check --deploy) ---------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"COOKIE_SECURE": True}, [], id="defaults"),
        pytest.param({"COOKIE_SECURE": False}, ["auth_token.W007"], id="not-secure"),
        pytest.param(
            {"COOKIE_SECURE": True, "COOKIE_HTTPONLY": False}, ["auth_token.W008"], id="not-httponly"
        ),
        pytest.param(
            {"COOKIE_SECURE": False, "COOKIE_SAMESITE": "None"},
            ["auth_token.W007", "auth_token.W009"],
            id="samesite-none-not-secure",
        ),
        pytest.param({"COOKIE_SECURE": True, "COOKIE_SAMESITE": "None"}, [], id="samesite-none-secure"),
        pytest.param({"COOKIE_SECURE": True, "COOKIE_SAMESITE": "Strict"}, [], id="strict"),
        pytest.param(
            {"COOKIE": False, "COOKIE_SECURE": False, "COOKIE_HTTPONLY": False, "COOKIE_SAMESITE": "None"},
            [],
            id="cookie-off",
        ),
    ],
)
def test_check_cookie_deploy__table(settings, overrides, expected):
    for name, value in overrides.items():
        setattr(settings, f"AUTH_TOKEN_{name}", value)
    assert _our_ids(run_checks(include_deployment_checks=True)) == expected


def test_check_cookie_deploy__messages(settings):
    settings.AUTH_TOKEN_COOKIE_SECURE = False
    settings.AUTH_TOKEN_COOKIE_HTTPONLY = False
    settings.AUTH_TOKEN_COOKIE_SAMESITE = "None"
    assert auth_checks.check_cookie_deploy() == [auth_checks.W007, auth_checks.W008, auth_checks.W009]
    for warning in (auth_checks.W007, auth_checks.W008, auth_checks.W009):
        assert isinstance(warning, checks.Warning)
        assert warning.msg.startswith("AUTH_TOKEN_COOKIE_")
        assert "AUTH_TOKEN_COOKIE_" in warning.hint


def test_check_cookie_deploy__only_with_deploy(settings):
    # The test settings run on plain HTTP: a development server is not warned.
    settings.AUTH_TOKEN_COOKIE_SECURE = False
    settings.AUTH_TOKEN_COOKIE_HTTPONLY = False
    assert _our_ids(run_checks()) == []


def test_check_cookie_deploy__manage_py_check_deploy(settings):
    settings.AUTH_TOKEN_COOKIE_SECURE = False
    settings.AUTH_TOKEN_COOKIE_SAMESITE = "None"
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--deploy", stdout=out, stderr=err)
    output = out.getvalue() + err.getvalue()
    assert "auth_token.W007" in output
    assert "auth_token.W009" in output
    assert "auth_token.W008" not in output
