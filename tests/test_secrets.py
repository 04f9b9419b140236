"""The raw token never lands in a column, a log record, a repr or an error report."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter

from auth_token.models import Token
from auth_token.resolver import RequestState

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
    state = RequestState(request)
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
