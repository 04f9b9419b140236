"""The raw token never lands in a column, a log record, a repr or an error report."""

import json
import logging
import sys
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.signals import got_request_exception
from django.test import Client, RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from rest_framework.authtoken.models import Token as DRFToken

from auth_token import backends, keys, resolver, services, signals
from auth_token.contrib.rest_framework import serializers as api_serializers
from auth_token.contrib.rest_framework import views as api_views
from auth_token.credentials import get_credential
from auth_token.models import Token
from auth_token.services import devices as devices_service
from auth_token.services import tokens as tokens_service
from auth_token.state import RequestState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_cycle(client, alice, caplog, settings):
    """Log in through the view, use the cookie, renew, log out; return the raw token."""
    for name in ("", "django", "django.db.backends", "auth_token"):
        caplog.set_level(logging.DEBUG, logger=name)
    settings.DEBUG = True  # SQL is logged too
    client.post("/auth/login/", {"username": "alice", "password": "password"})
    raw = client.cookies["Authorization"].value
    client.get("/me/")
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.get("/me/")
    client.post("/auth/logout/")
    return raw


def test_never_in_a_column(full_cycle):
    stored = []
    for model in [*apps.get_app_config("auth_token").get_models(), Session]:
        for row in model.objects.all():
            stored += [str(getattr(row, field.attname)) for field in model._meta.concrete_fields]
    assert stored
    assert not [value for value in stored if full_cycle in value or full_cycle[3:40] in value]


def test_never_in_a_log_record(full_cycle, caplog):
    records = caplog.get_records("setup")
    assert any("auth_token_token" in record.getMessage() for record in records)
    assert not [record for record in records if full_cycle in record.getMessage()]


def test_never_in_a_repr(alice_token):
    token, raw = alice_token
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    state = RequestState(get_credential(request), resolver)
    texts = [repr(token), str(token), repr(state.credential), repr(state.get_token()), str(vars(token))]
    assert not [text for text in texts if raw in text]


def test_digest_only(alice_token):
    token, raw = alice_token
    assert Token.objects.get().key == token.key
    assert token.key.startswith("1$")
    assert raw not in token.key


def test_error_reports_hide_header_and_cookie(alice_token):
    raw = alice_token[1]
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    request.COOKIES["Authorization"] = raw
    report_filter = SafeExceptionReporterFilter()
    assert raw not in str(report_filter.get_safe_request_meta(request))
    assert raw not in str(report_filter.get_safe_cookies(request))


# --- error reports ------------------------------------------------------------------------------
# A failure after a secret is in hand (a receiver, the database, a misconfigured cookie) renders
# every frame's locals into the report that AdminEmailHandler mails and the 500 page shows (DEBUG
# off: that is when the filter applies). Each test makes such a failure happen and reads the report.

PASSWORD = "Tr0ub4dor&3-correct-horse"
HIDDEN = repr(SafeExceptionReporterFilter.cleansed_substitute)
PHONE = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"


class Downstream(Exception):
    """What the patched call raises: a failure below the code holding the secret."""


def fail(*args, **kwargs):
    raise Downstream


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", password=PASSWORD)


@pytest.fixture
def minted(monkeypatch):
    """Every raw token and device secret generated during the test."""
    values = []
    generate = keys.generate

    def spy(*args, **kwargs):
        values.append(generate(*args, **kwargs))
        return values[-1]

    monkeypatch.setattr(keys, "generate", spy)
    return values


@pytest.fixture
def reports():
    """The error report Django would send for each request that raised."""
    collected = []

    def collect(sender, request, **kwargs):
        collected.append(ExceptionReporter(request, *sys.exc_info()))

    got_request_exception.connect(collect, weak=False)
    yield collected
    got_request_exception.disconnect(collect)


@pytest.fixture
def failing_client():
    """A test client that answers 500 instead of raising, as a server does."""
    client = Client()
    client.raise_request_exception = False
    return client


def report_of(error, function):
    """The report of ``error`` from the frame of ``function`` down: the frames above are the test's."""
    traceback = error.__traceback__
    while traceback.tb_frame.f_code.co_name != function:
        traceback = traceback.tb_next
    return ExceptionReporter(None, type(error), error, traceback)


def assert_hidden(report, secrets, hidden):
    """No secret anywhere in ``report``; ``hidden`` maps a function name to variables shown masked."""
    frames = report.get_traceback_data()["frames"]
    texts = [report.get_traceback_text(), report.get_traceback_html()]
    for frame in frames:
        texts += [f"{name}={value}" for name, value in frame["vars"]]
    assert not [secret for secret in secrets if any(secret in text for text in texts)]
    seen = {(frame["function"], name): value for frame in frames for name, value in frame["vars"]}
    for function, names in hidden.items():
        for name in names:
            assert seen[function, name] == HIDDEN, (function, name)


def test_error_report__login_hides_raw_token(alice, minted, monkeypatch):
    # A token_created receiver fails after the token was minted: login's local ``raw``.
    monkeypatch.setattr(signals.token_created, "send", fail)
    with pytest.raises(Downstream) as caught:
        services.login(None, alice, backend="django.contrib.auth.backends.ModelBackend")
    assert_hidden(report_of(caught.value, "login"), minted, {"login": ["raw"]})


def test_error_report__api_login_hides_password_and_token(
    carol, minted, monkeypatch, reports, failing_client
):
    monkeypatch.setattr(signals.token_created, "send", fail)
    body = json.dumps({"username": "carol", "password": PASSWORD})
    response = failing_client.post("/api/login/", body, content_type="application/json")
    assert response.status_code == 500
    [report] = reports
    assert_hidden(report, [PASSWORD, *minted], {"post": ["data"], "login": ["raw"]})


def test_error_report__api_login_hides_form_encoded_password(carol, monkeypatch, reports, failing_client):
    # A form body is not parsed by the API, but the report reads request.POST.
    monkeypatch.setattr(api_views.LoginView, "initial", fail)
    failing_client.post("/api/login/", {"username": "carol", "password": PASSWORD})
    [report] = reports
    assert_hidden(report, [PASSWORD], {})
    assert report.filter.get_post_parameters(report.request)["password"] == HIDDEN.strip("'")


def test_error_report__api_login_validation_hides_password(carol, monkeypatch, reports, failing_client):
    # The database fails while the serializer authenticates: its ``attrs`` and ``self`` hold it.
    monkeypatch.setattr(api_serializers.TokenLoginSerializer, "confirm_login_allowed", fail)
    body = json.dumps({"username": "carol", "password": PASSWORD})
    failing_client.post("/api/login/", body, content_type="application/json")
    [report] = reports
    assert_hidden(report, [PASSWORD], {"validate": ["attrs", "self"], "post": ["self"]})


@pytest.fixture
def phone(alice, minted):
    _, secret = services.register_device(None, alice, PHONE, name="phone")
    minted.clear()
    return secret


def test_error_report__api_device_login_hides_secret_and_token(
    phone, minted, monkeypatch, reports, failing_client
):
    monkeypatch.setattr(signals.token_created, "send", fail)
    body = json.dumps({"uuid": PHONE, "device_token": phone})
    failing_client.post("/api/devices/login/", body, content_type="application/json")
    [report] = reports
    assert_hidden(report, [phone, *minted], {"post": ["data"], "login_device": ["secret"], "login": ["raw"]})


def test_error_report__device_backend_hides_device_token(phone, monkeypatch):
    # The lookup fails inside DeviceKeyBackend.authenticate (Django masks only its own frame).
    monkeypatch.setattr(backends, "normalize_device_uuid", fail)
    with pytest.raises(Downstream) as caught:
        services.login_device(None, PHONE, phone)
    assert_hidden(report_of(caught.value, "login_device"), [phone], {"authenticate": ["device_token"]})


def test_error_report__async_device_login_hides_secret(phone, monkeypatch):
    monkeypatch.setattr(signals.token_created, "send", fail)
    with pytest.raises(Downstream) as caught:
        async_to_sync(services.alogin_device)(None, PHONE, phone)
    assert_hidden(
        report_of(caught.value, "alogin_device"),
        [phone],
        {"alogin_device": ["secret"], "login_device": ["secret"]},
    )


def test_error_report__register_device_hides_secret(alice, minted, monkeypatch):
    monkeypatch.setattr(signals.device_registered, "send", fail)
    with pytest.raises(Downstream) as caught:
        services.register_device(None, alice, PHONE)
    assert_hidden(report_of(caught.value, "register_device"), minted, {"register_device": ["raw"]})


def test_error_report__api_device_registration_hides_secret(
    alice_header, minted, monkeypatch, reports, failing_client
):
    # The secret is back from register_device() when the answer fails to render.
    monkeypatch.setattr(api_serializers.RegisteredDeviceSerializer, "get_device_token", fail)
    body = json.dumps({"uuid": PHONE})
    failing_client.post("/api/devices/", body, content_type="application/json", **alice_header)
    [report] = reports
    assert_hidden(report, minted, {"post": ["secret", "context"]})


def test_error_report__api_issued_token_response_hides_token(
    carol, minted, monkeypatch, reports, failing_client
):
    monkeypatch.setattr(api_serializers.IssuedTokenSerializer, "to_representation", fail)
    body = json.dumps({"username": "carol", "password": PASSWORD})
    failing_client.post("/api/login/", body, content_type="application/json")
    [report] = reports
    assert_hidden(report, [PASSWORD, *minted], {"issued_token_response": ["raw", "body", "serializer"]})


def test_error_report__html_login_hides_password_and_token(
    carol, minted, monkeypatch, reports, failing_client
):
    monkeypatch.setattr(signals.token_created, "send", fail)
    failing_client.post("/auth/login/", {"username": "carol", "password": PASSWORD})
    [report] = reports
    assert_hidden(report, [PASSWORD, *minted], {"login": ["raw"]})


def test_error_report__cookie_hides_token(carol, minted, settings, reports, failing_client):
    # A SameSite value Django refuses (check E006) makes set_cookie raise with the token in hand.
    settings.AUTH_TOKEN_COOKIE_SAMESITE = "Bogus"
    response = failing_client.post("/auth/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 500
    [report] = reports
    assert_hidden(report, [PASSWORD, *minted], {"set_cookie": ["raw", "value"]})


def test_error_report__import_legacy_tokens_hides_keys(alice, monkeypatch):
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    monkeypatch.setattr(tokens_service, "expiry", fail)
    with pytest.raises(Downstream) as caught:
        services.import_legacy_tokens([(key, alice)], backend="django.contrib.auth.backends.ModelBackend")
    assert_hidden(report_of(caught.value, "import_legacy_tokens"), [key], {"import_legacy_tokens": ["pairs"]})


def test_error_report__import_drf_tokens_hides_keys(alice, monkeypatch):
    key = DRFToken.objects.create(user=alice).key
    monkeypatch.setattr(tokens_service, "expiry", fail)
    with pytest.raises(Downstream) as caught:
        call_command("import_drf_tokens")
    assert_hidden(report_of(caught.value, "handle"), [key], {"handle": ["batch", "last_pk"]})


def test_error_report__password_rotation_hides_new_token(client, alice_token, minted, monkeypatch):
    # A token_created receiver fails after the rotated token was minted.
    request = client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}").wsgi_request
    monkeypatch.setattr(signals.token_created, "send", fail)
    with pytest.raises(Downstream) as caught:
        services.update_session_auth_hash(request, request.user)
    assert_hidden(
        report_of(caught.value, "update_session_auth_hash"), minted, {"update_session_auth_hash": ["raw"]}
    )


def test_error_report__device_login_recheck_hides_token(alice, minted, monkeypatch):
    # The re-check after the token was minted fails: login_device's local ``raw``.
    _, secret = services.register_device(None, alice, PHONE)
    monkeypatch.setattr(devices_service, "_still_active", fail)
    with pytest.raises(Downstream) as caught:
        services.login_device(None, PHONE, secret)
    assert_hidden(report_of(caught.value, "login_device"), minted, {"login_device": ["raw", "secret"]})
