"""Takeover through the services: rules, audit record, release, and what ends it."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import user_logged_in
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from auth_token import services, signals
from auth_token.exceptions import TakeoverActive, TakeoverNotAllowed
from auth_token.models import Token, UserTokenTakeover
from auth_token.test import Client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def takeover_permission():
    return Permission.objects.get(codename="takeover_user", content_type__app_label="auth_token")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def start(client, target, **options):
    """Take over ``target`` in a real request of ``client``; return that request."""
    request = client.get("/me/").wsgi_request
    services.takeover(request, target, **options)
    return request


def whoami(client):
    return client.get("/me/").json()["user"]


def test_takeover__acts_as_target(staff_client, staff, alice):
    last_login = alice.last_login
    token = Token.objects.get(user=staff)
    expires_at = token.expires_at
    logins = []
    user_logged_in.connect(receiver := lambda **kwargs: logins.append(kwargs))
    try:
        request = start(staff_client, alice, reason="ticket 42")
    finally:
        user_logged_in.disconnect(receiver)
    assert request.user == alice
    assert request.token.user == staff
    assert whoami(staff_client) == "alice"
    record = UserTokenTakeover.objects.get()
    assert (record.actor, record.user, record.token, record.is_active) == (staff, alice, token, True)
    assert (record.actor_repr, record.user_repr, record.reason, record.ip) == (
        "staff",
        "alice",
        "ticket 42",
        "127.0.0.1",
    )
    token.refresh_from_db()
    assert token.active_takeover == record
    assert token.expires_at == expires_at
    alice.refresh_from_db()
    assert alice.last_login == last_login
    assert logins == []


def test_takeover__survives_a_secret_key_rotation_with_the_old_key_in_fallbacks(
    staff_client, alice, settings
):
    start(staff_client, alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert whoami(staff_client) == "alice"
    assert UserTokenTakeover.objects.get().is_active


def test_takeover__signals(staff_client, alice):
    sent = []
    started = lambda sender, **kwargs: sent.append(("started", kwargs["takeover"], kwargs["request"]))  # noqa: E731
    ended = lambda sender, **kwargs: sent.append(("ended", kwargs["takeover"], kwargs["reason"]))  # noqa: E731
    signals.takeover_started.connect(started)
    signals.takeover_ended.connect(ended)
    try:
        request = start(staff_client, alice)
        services.release_takeover(request)
    finally:
        signals.takeover_started.disconnect(started)
        signals.takeover_ended.disconnect(ended)
    record = UserTokenTakeover.objects.get()
    assert sent == [("started", record, request), ("ended", record, "released")]


@pytest.mark.parametrize(
    ("target_name", "message"),
    [
        ("self", "yourself"),
        ("inactive", "inactive"),
        ("superuser", "superuser"),
        ("plain", None),
    ],
)
def test_takeover__fixed_rules(staff_client, staff, target_name, message):
    target = {
        "self": staff,
        "inactive": UserFactory(username="gone", is_active=False),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "plain": UserFactory(username="plain"),
    }[target_name]
    request = staff_client.get("/me/").wsgi_request
    if message is None:
        services.takeover(request, target)
        assert whoami(staff_client) == "plain"
    else:
        with pytest.raises(TakeoverNotAllowed, match=message):
            services.takeover(request, target)
        assert not UserTokenTakeover.objects.exists()


def test_takeover__needs_permission(alice, bob):
    client = Client()
    client.force_login(UserFactory(username="helper", is_staff=True))
    with pytest.raises(TakeoverNotAllowed, match="permission"):
        start(client, alice)


def test_takeover__permission_read_from_database(staff_client, staff, alice):
    request = staff_client.get("/me/").wsgi_request
    assert request.user.has_perm("auth_token.takeover_user")  # warms the permission cache
    staff.user_permissions.clear()
    with pytest.raises(TakeoverNotAllowed):
        services.takeover(request, alice)


def test_takeover__nested_refused(staff_client, alice, bob):
    start(staff_client, alice)
    request = staff_client.get("/me/").wsgi_request
    with pytest.raises(TakeoverNotAllowed, match="Release"):
        services.takeover(request, bob)


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_takeover__required_reason_refused_before_anything_is_written(settings, staff_client, alice, reason):
    settings.AUTH_TOKEN_TAKEOVER_REQUIRE_REASON = True
    request = staff_client.get("/me/").wsgi_request
    with pytest.raises(TakeoverNotAllowed, match="Give a reason"):
        services.takeover(request, alice, reason=reason)
    assert not UserTokenTakeover.objects.exists()
    assert whoami(staff_client) == "staff"
    start(staff_client, alice, reason="Ticket 12")
    assert UserTokenTakeover.objects.get().reason == "Ticket 12"


def test_takeover__reason_optional_by_default_and_kept_on_one_line(staff_client, alice):
    start(staff_client, alice, reason="  Ticket\t12\n  " + "x" * 300)
    reason = UserTokenTakeover.objects.get().reason
    assert reason.startswith("Ticket 12 xx") and len(reason) == 255


def test_takeover__anonymous_refused(client, alice):
    with pytest.raises(TakeoverNotAllowed):
        services.takeover(client.get("/me/").wsgi_request, alice)


def test_takeover__custom_rule_replaces_permission(settings, alice):
    settings.AUTH_TOKEN_TAKEOVER_PERMISSION = lambda *, actor, target: actor.username == "helpdesk"
    client = Client()
    client.force_login(UserFactory(username="helpdesk", is_staff=True))
    start(client, alice)
    assert whoami(client) == "alice"


def test_takeover__custom_rule_cannot_admit_non_staff(settings, alice):
    settings.AUTH_TOKEN_TAKEOVER_PERMISSION = "tests.test_takeover.allow_everyone"
    client = Client()
    client.force_login(UserFactory(username="visitor"))
    with pytest.raises(TakeoverNotAllowed, match="staff"):
        start(client, alice)


def allow_everyone(*, actor, target):
    return True


@pytest.mark.parametrize(
    "action",
    [
        lambda request, user: services.login(request, user),
        lambda request, user: services.logout_all(user, request=request),
        lambda request, user: services.renew(request),
        lambda request, user: services.register_device(request, user, "phone"),
        lambda request, user: services.update_session_auth_hash(request, user),
    ],
    ids=["login", "logout_all", "renew", "register_device", "password"],
)
def test_takeover__refuses_minting_and_account_wide_actions(staff_client, alice, action):
    start(staff_client, alice)
    request = staff_client.get("/me/").wsgi_request
    with pytest.raises(TakeoverActive):
        action(request, request.user)


def test_release__view(staff_client, alice):
    start(staff_client, alice)
    page = staff_client.get("/auth/takeover/release/")  # a typed address: the button, nothing ended
    assert page.status_code == 200
    assert "You are acting as alice." in page.content.decode()
    assert whoami(staff_client) == "alice"
    response = staff_client.post("/auth/takeover/release/", {"next": "/protected/"})
    assert response["Location"] == "/protected/"
    assert whoami(staff_client) == "staff"
    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, "released")
    assert record.ended_at is not None
    assert Token.objects.get().active_takeover is None
    assert (
        "You are not acting as another user." in staff_client.get("/auth/takeover/release/").content.decode()
    )


def test_release__unsafe_next(staff_client, alice, settings):
    settings.AUTH_TOKEN_TAKEOVER_REDIRECT_URL = "/me/"
    start(staff_client, alice)
    response = staff_client.post("/auth/takeover/release/", {"next": "https://evil.example/"})
    assert response["Location"] == "/me/"


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_release__works_when_target_is_gone(staff_client, alice, change):
    start(staff_client, alice)
    if change == "delete":
        alice.delete()
    else:
        alice.is_active = False
        alice.save()
    assert whoami(staff_client) == "staff"  # the takeover no longer holds: ignored
    staff_client.post("/auth/takeover/release/")
    assert Token.objects.get().active_takeover is None
    assert not UserTokenTakeover.objects.get().is_active


def test_logout__first_ends_takeover_then_token(staff_client, alice):
    start(staff_client, alice)
    staff_client.post("/auth/logout/")
    assert whoami(staff_client) == "staff"
    assert UserTokenTakeover.objects.get().end_reason == "logout"
    staff_client.post("/auth/logout/")
    assert whoami(staff_client) is None


def test_revoke__ends_takeover(staff_client, alice):
    start(staff_client, alice)
    services.revoke(Token.objects.select_related("active_takeover").get())
    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, "token_revoked")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda staff, alice: staff.user_permissions.clear(), "permission"),
        (lambda staff, alice: (alice.set_password("x"), alice.save()), "target_changed"),
    ],
    ids=["permission", "target-password"],
)
def test_renewal__rechecks_the_full_rule(staff_client, staff, alice, change, reason):
    start(staff_client, alice)
    Token.objects.update(last_access=timezone.now() - timedelta(seconds=120))
    # Bypass the m2m receiver for the permission case: the renewal must catch it on its own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("auth_token.receivers.recheck_takeovers_of", lambda users: None)
        change(staff, alice)
    whoami(staff_client)  # renews, and the renewal applies the full rule
    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, reason)
    assert whoami(staff_client) == "staff"


def test_renewal__keeps_a_valid_takeover(staff_client, alice):
    start(staff_client, alice)
    with time_machine.travel(timezone.now() + timedelta(seconds=120), tick=False):
        assert whoami(staff_client) == "alice"
    assert UserTokenTakeover.objects.get().is_active


@pytest.mark.parametrize("how", ["user-permission", "group", "group-permission"])
def test_permission_change__ends_takeover_at_once(alice, how):
    actor = UserFactory(username="actor", is_staff=True)
    group = Group.objects.create(name="support")
    if how == "user-permission":
        actor.user_permissions.add(takeover_permission())
    else:
        group.permissions.add(takeover_permission())
        actor.groups.add(group)
    client = Client()
    client.force_login(actor)
    start(client, alice)
    {
        "user-permission": lambda: actor.user_permissions.remove(takeover_permission()),
        "group": lambda: group.user_set.clear(),
        "group-permission": lambda: group.permissions.remove(takeover_permission()),
    }[how]()
    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, "permission")
    assert whoami(client) == "actor"


def test_bridge__django_login_issues_cookie_token(client, alice):
    response = client.post("/django-login/", {"username": "alice", "password": "password"})
    assert response.status_code == 204
    token = Token.objects.get()
    assert token.allowed_cookie and not token.allowed_header
    assert token.backend == "django.contrib.auth.backends.ModelBackend"
    assert response.cookies["Authorization"].value
    assert whoami(client) == "alice"


def test_bridge__django_login_sends_one_signal(client, alice):
    logins = []
    receiver = lambda **kwargs: logins.append(kwargs["user"])  # noqa: E731
    user_logged_in.connect(receiver)
    try:
        client.post("/django-login/", {"username": "alice", "password": "password"})
    finally:
        user_logged_in.disconnect(receiver)
    assert logins == [alice]


def test_bridge__django_logout_revokes(client, alice):
    client.post("/django-login/", {"username": "alice", "password": "password"})
    response = client.post("/django-logout/")
    assert response.cookies["Authorization"].value == ""
    assert not Token.objects.get().is_active
    assert whoami(client) is None


def test_bridge__django_logout_during_takeover_ends_takeover_only(staff_client, alice):
    start(staff_client, alice)
    staff_client.post("/django-logout/")
    assert whoami(staff_client) == "staff"
    assert UserTokenTakeover.objects.get().end_reason == "logout"


# --- The permission re-check cannot be dodged --------------------------------


def test_group_deletion__ends_takeover_at_once(alice):
    """Replays the dodge: deleting the actor's group sends no m2m_changed, so the takeover ran on."""
    actor = UserFactory(username="actor", is_staff=True)
    group = Group.objects.create(name="support")
    group.permissions.add(takeover_permission())
    actor.groups.add(group)
    client = Client()
    client.force_login(actor)
    start(client, alice)

    group.delete()

    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, "permission")
    assert whoami(client) == "actor"


def test_permission_deletion__ends_takeover_at_once(staff_client, alice):
    start(staff_client, alice)
    takeover_permission().delete()
    assert UserTokenTakeover.objects.get().end_reason == "permission"


@pytest.mark.parametrize("exempt", ["header", "decorator"])
def test_renewal_exempt__still_rechecks_the_takeover(staff_client, staff, alice, exempt):
    """Replays the dodge: the client-controlled renewal-exempt header skipped the renewal, and so
    the re-check, for the token's whole life. It now skips only the expiry extension."""
    start(staff_client, alice)
    past = timezone.now() - timedelta(seconds=120)
    Token.objects.update(last_access=past)
    expires_at = Token.objects.get().expires_at
    with pytest.MonkeyPatch.context() as patch:  # no receiver: only the re-check can notice
        patch.setattr("auth_token.receivers.recheck_takeovers_of", lambda users: None)
        staff.user_permissions.clear()

    if exempt == "header":
        staff_client.get("/me/", HTTP_X_AUTHORIZATION_RENEWAL_EXEMPT="1")
    else:
        staff_client.get("/exempt/")  # the response phase re-checks, after the view

    assert staff_client.get("/exempt/").json()["user"] == "staff"
    record = UserTokenTakeover.objects.get()
    assert (record.is_active, record.end_reason) == (False, "permission")
    token = Token.objects.get()
    assert token.expires_at == expires_at  # the expiry did not move
    assert token.last_access > past  # re-checked: not again before RENEWAL_INTERVAL


def test_renewal_exempt__without_takeover_writes_nothing(staff_client, django_assert_num_queries):
    past = timezone.now() - timedelta(seconds=120)
    Token.objects.update(last_access=past)
    with django_assert_num_queries(1):
        staff_client.get("/me/", HTTP_X_AUTHORIZATION_RENEWAL_EXEMPT="1")
    assert Token.objects.get().last_access == past


def test_target_gaining_rights__ends_takeover(staff_client, alice):
    """A target given a permission the actor lacks mid-takeover is released."""
    start(staff_client, alice)
    alice.user_permissions.add(Permission.objects.get(codename="change_user"))
    assert UserTokenTakeover.objects.get().end_reason == "permission"
    assert whoami(staff_client) == "staff"


# A refusal during a takeover is a page that says why and offers Release, never a bare 403.


@pytest.mark.parametrize(
    ("method", "path", "data", "next_url"),
    [
        ("get", "/auth/password/", None, "/auth/password/"),
        ("post", "/auth/login/", {"username": "alice", "password": "password"}, ""),
        ("post", "/auth/sessions/revoke-others/", None, ""),
    ],
    ids=["password-page", "login-again", "sign-out-everywhere-else"],
)
def test_refused_during_takeover__page_says_why_and_offers_release(
    staff_client, alice, method, path, data, next_url
):
    start(staff_client, alice)
    tokens = list(Token.objects.values_list("pk", "is_active").order_by("pk"))
    response = getattr(staff_client, method)(path, data)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode().split('<main class="at-main" id="content">')[1]
    assert "This action is not allowed while you act as another user." in page
    assert "You are acting as alice." in page
    assert '<form method="post" action="/auth/takeover/release/">' in page
    assert ('name="next"' in page) is bool(next_url)
    if next_url:
        assert f'name="next" value="{next_url}"' in page
    assert list(Token.objects.values_list("pk", "is_active").order_by("pk")) == tokens
    assert whoami(staff_client) == "alice"
    release = staff_client.post("/auth/takeover/release/", {"next": next_url} if next_url else {})
    assert release.status_code == 302
    assert whoami(staff_client) == "staff"


def test_refused_during_takeover__api_keeps_its_json_403(staff_client, alice):
    start(staff_client, alice)
    response = staff_client.post("/api/logout-all/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This action is not allowed while you act as another user."}


def test_refused_during_takeover__no_page_for_a_client_that_does_not_take_html(staff_client, alice):
    start(staff_client, alice)
    response = staff_client.get("/auth/password/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert b"You are acting as" not in response.content


def test_refused_during_takeover__names_the_user_taken_over_after_a_refused_admin_login(alice, staff):
    """Replayed from a new-user trial: Django's login() puts its user on the request before the
    bridge refuses it; the page must still say who the request acts as."""
    staff.set_password("staff-pass")
    staff.save()
    client = Client()
    client.force_login(staff)
    start(client, alice)
    response = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "staff-pass"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are acting as alice." in page and "acting as staff" not in page
    assert whoami(client) == "alice"


def test_logout_during_takeover__says_the_takeover_ended(staff_client, alice):
    start(staff_client, alice)
    confirm = staff_client.get("/auth/logout/").content.decode()
    assert "Logging out ends the takeover; you stay signed in as yourself." in confirm
    staff_client.post("/auth/logout/", {"next": "/auth/logout/"})
    page = staff_client.get("/auth/logout/").content.decode()
    assert "You are signed in as staff. Log out of this browser?" in page
    assert whoami(staff_client) == "staff"
