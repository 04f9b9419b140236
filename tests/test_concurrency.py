"""Races on a real database server: threads with their own connections, committed data."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from django.test import RequestFactory
from django.utils import timezone

from auth_token import services
from auth_token.exceptions import (
    DeviceKeyAlreadyExists,
    InvalidDeviceCredentials,
    SessionEnded,
    TakeoverNotAllowed,
)
from auth_token.models import DeviceKey, Token, UserTokenTakeover
from auth_token.test import Client
from tests.conftest import server_database
from tests.factories import UserFactory, issue_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency, server_database()]


def run_together(*targets):
    """Run the callables at once in threads; re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def run(target):
        try:
            barrier.wait()
            target()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [thread for thread in threads if thread.is_alive()], "a thread hung"
    if errors:
        raise errors[0]


def test_concurrent_logins__respect_token_limit(settings):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 3
    alice = UserFactory(username="alice")
    run_together(*[lambda: issue_token(alice) for _ in range(12)])
    assert Token.objects.filter(user=alice).count() == 12
    newest = Token.objects.filter(user=alice).order_by("-created_at", "-pk")[:3]
    assert set(Token.objects.filter(user=alice, is_active=True)) == set(newest)


@pytest.mark.parametrize("round_", range(10))
def test_logout_racing_renewal__stays_revoked(round_):
    alice = UserFactory(username="alice")
    token, raw = issue_token(alice)
    past = timezone.now() - timedelta(seconds=120)
    Token.objects.filter(pk=token.pk).update(last_access=past)
    responses = []

    def renew_by_request():
        responses.append(Client().get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code)

    run_together(renew_by_request, lambda: services.revoke(token))
    assert responses == [200]
    token.refresh_from_db()
    assert not token.is_active
    assert Client().get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] is None


def test_logout_all_racing_logins():
    alice = UserFactory(username="alice")
    tokens = [issue_token(alice)[0] for _ in range(5)]
    run_together(
        lambda: services.logout_all(alice), lambda: services.logout_all(alice), lambda: issue_token(alice)
    )
    revoked = set(Token.objects.filter(user=alice, is_active=False))
    assert set(tokens) <= revoked


@pytest.mark.parametrize("reactivate", [False, True], ids=["new", "reactivate"])
def test_concurrent_device_registration__one_key_one_clean_error(reactivate):
    alice = UserFactory(username="alice")
    if reactivate:
        device, _ = services.register_device(None, alice, "phone")
        services.deactivate_device(device)
    outcomes = []

    def register():
        try:
            outcomes.append(services.register_device(None, alice, "phone")[1])
        except DeviceKeyAlreadyExists:
            outcomes.append("exists")

    run_together(*[register for _ in range(6)])
    secrets = [outcome for outcome in outcomes if outcome != "exists"]
    assert len(secrets) == 1
    assert outcomes.count("exists") == 5
    device = DeviceKey.objects.get(user=alice)
    assert device.is_active
    assert services.login_device(None, "phone", secrets[0])[0].user == alice


def test_logout_all_racing_requests__nothing_survives():
    alice = UserFactory(username="alice")
    raws = [issue_token(alice)[1] for _ in range(4)]
    Token.objects.update(last_access=timezone.now() - timedelta(seconds=120))  # renewals are due
    statuses = []

    def request(raw):
        return lambda: statuses.append(Client().get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code)

    run_together(lambda: services.logout_all(alice), *[request(raw) for raw in raws])
    assert statuses == [200] * 4
    assert not Token.objects.filter(is_active=True).exists()
    assert all(
        Client().get("/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["user"] is None for raw in raws
    )


def _staff_request():
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="takeover_user"))
    client = Client()
    client.force_login(staff)
    return client


def test_concurrent_takeovers__one_active_per_token():
    client = _staff_request()
    targets = [UserFactory(username=f"target{i}") for i in range(6)]
    outcomes = []

    def take(target):
        def run():
            request = client.get("/me/").wsgi_request
            try:
                services.takeover(request, target)
                outcomes.append("ok")
            except TakeoverNotAllowed:
                outcomes.append("refused")

        return run

    run_together(*[take(target) for target in targets])
    token = Token.objects.get()
    active = list(UserTokenTakeover.objects.filter(is_active=True))
    assert outcomes.count("ok") == 1
    assert len(active) == 1
    assert token.active_takeover_id == active[0].pk


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_takeover_and_release__consistent(round_):
    client = _staff_request()
    first, second = UserFactory(username="first"), UserFactory(username="second")
    services.takeover(client.get("/me/").wsgi_request, first)

    def release():
        client.post("/auth/takeover/release/")

    def take_second():
        with contextlib.suppress(TakeoverNotAllowed):
            services.takeover(client.get("/me/").wsgi_request, second)

    run_together(release, release, take_second)
    token = Token.objects.get()
    active = list(UserTokenTakeover.objects.filter(is_active=True))
    assert len(active) <= 1
    assert token.active_takeover_id == (active[0].pk if active else None)


# A device login or registration racing the end of the device or the session.


@pytest.mark.parametrize("round_", range(5))
@pytest.mark.parametrize("end", ["logout_all", "deactivate_device"])
def test_device_login_racing_its_end__nothing_survives(round_, end):
    alice = UserFactory(username="alice")
    device, secret = services.register_device(None, alice, "phone")

    def log_in():
        with contextlib.suppress(InvalidDeviceCredentials):
            services.login_device(None, "phone", secret)

    ending = (
        (lambda: services.logout_all(alice))
        if end == "logout_all"
        else (lambda: services.deactivate_device(device))
    )
    run_together(log_in, log_in, ending)
    assert not DeviceKey.objects.filter(is_active=True).exists()
    assert not Token.objects.filter(user=alice, is_active=True).exists()


@pytest.mark.parametrize("round_", range(5))
def test_registration_racing_logout_all__no_device_survives(round_):
    alice = UserFactory(username="alice")
    token, _ = issue_token(alice)
    request = RequestFactory().post("/")
    request.token = token

    def register():
        with contextlib.suppress(SessionEnded):
            services.register_device(request, alice, "phone")

    run_together(register, lambda: services.logout_all(alice))
    assert not DeviceKey.objects.filter(is_active=True).exists()
    assert not Token.objects.filter(user=alice, is_active=True).exists()
