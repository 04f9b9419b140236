"""What the library's own pages tell a person: who is signed in, that a session ended elsewhere,
why a login over http:// cannot work, where a login lands, the devices section, and dates and
names a person can read. Layout at two widths and accessibility: ``test_browser_pages.py``."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from auth_token import keys, services
from auth_token.models import DeviceKey, Token
from auth_token.templatetags.auth_token import relative_time
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db

LOGIN = "/auth/login/"
SESSIONS = "/auth/sessions/"
CREDENTIALS = {"username": "alice", "password": "password"}
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
ENDED = "Your session has ended: it expired or was signed out from another device. Please log in again."
INSECURE = "You cannot log in over an unencrypted connection"


def log_in(client):
    response = client.post(LOGIN, CREDENTIALS)
    assert response.status_code == 302
    return Token.objects.get(key=keys.digest(response.cookies["Authorization"].value))


# Who is signed in.


def test_login_page__tells_a_signed_in_user_who_they_are(client, alice):
    log_in(client)
    page = client.get(f"{LOGIN}?next=/me/").content.decode()
    assert "You are already signed in as alice." in page
    assert '<a class="at-button" href="/me/">Continue</a>' in page
    assert "<summary>Log in as someone else</summary>" in page  # the form, folded away
    assert "Signed in as alice" in page  # the header


def test_login_page__anonymous_sees_the_form_only(client, db):
    page = client.get(LOGIN).content.decode()
    assert "already signed in" not in page and "<details>" not in page
    assert 'name="username"' in page
    assert ENDED not in page and INSECURE not in page


# A session ended elsewhere.


def test_session_ended_elsewhere__the_login_page_says_so_once(client, alice):
    token = log_in(client)
    services.revoke(token)
    response = client.get(SESSIONS)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={SESSIONS}"
    assert response.cookies["Authorization"].value == ""  # the dead cookie is deleted
    page = client.get(response["Location"]).content.decode()
    assert page.count(ENDED) == 1
    assert ENDED not in client.get(LOGIN).content.decode()  # said once


def test_session_ended__straight_to_the_login_page(client, alice):
    token = log_in(client)
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ENDED in client.get(LOGIN).content.decode()


def test_session_ended__not_said_after_a_logout(client, alice):
    log_in(client)
    client.post("/auth/logout/")
    assert ENDED not in client.get(LOGIN).content.decode()


# A login over plain http:// whose Secure cookie the browser would drop.


@pytest.fixture
def public_host(settings):
    settings.AUTH_TOKEN_COOKIE_SECURE = True  # the default; the test settings turn it off
    settings.ALLOWED_HOSTS = ["example.com", "localhost", "127.0.0.1", "[::1]", "app.localhost", "testserver"]


def test_insecure_login__said_and_refused_before_authenticating(client, alice, public_host, login_attempts):
    page = client.get(LOGIN, headers={"Host": "example.com"}).content.decode()
    assert INSECURE in page
    response = client.post(LOGIN, CREDENTIALS, headers={"Host": "example.com"})
    assert response.status_code == 400
    assert INSECURE in response.content.decode()
    assert 'value="alice"' in response.content.decode()  # the username is kept
    assert "Authorization" not in response.cookies
    assert not Token.objects.exists()
    assert login_attempts == []  # no password was checked


@pytest.mark.parametrize(
    "host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost", "testserver"]
)
def test_insecure_login__loopback_hosts_keep_the_cookie(client, alice, public_host, host):
    assert INSECURE not in client.get(LOGIN, headers={"Host": host}).content.decode()
    assert client.post(LOGIN, CREDENTIALS, headers={"Host": host}).status_code == 302


def test_insecure_login__fine_over_https_or_without_secure_cookie(client, alice, public_host, settings):
    assert client.post(LOGIN, CREDENTIALS, headers={"Host": "example.com"}, secure=True).status_code == 302
    settings.AUTH_TOKEN_COOKIE_SECURE = False
    assert client.post(LOGIN, CREDENTIALS, headers={"Host": "example.com"}).status_code == 302


def test_insecure_login__the_admin_login_page_says_so_too(client, public_host):
    assert INSECURE in client.get("/admin/login/", headers={"Host": "example.com"}).content.decode()
    assert INSECURE not in client.get("/admin/login/").content.decode()


# Where a login lands.


def test_login__lands_on_login_redirect_url_when_served(client, alice):
    assert client.post(LOGIN, CREDENTIALS)["Location"] == "/me/"


def test_login__djangos_default_redirect_falls_back_to_the_sessions_page(client, alice, settings):
    settings.LOGIN_REDIRECT_URL = "/accounts/profile/"  # Django's default, which nothing serves here
    assert client.post(LOGIN, CREDENTIALS)["Location"] == SESSIONS


# Password change, devices.


def test_password_change_done__links_back(client, alice):
    log_in(client)
    response = client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": "N3w-secret-pass", "new_password2": "N3w-secret-pass"},
        follow=True,
    )
    page = response.content.decode()
    assert "Password changed" in page
    assert f'href="{SESSIONS}">Back to your sessions</a>' in page


def register(user, uuid="5d4f0a8e-0f7e-4f61-9c7e-1a2b3c4d5e6f", name="", user_agent=""):
    request = RequestFactory().get("/", HTTP_USER_AGENT=user_agent)
    return services.register_device(request, user, uuid, name=name)[0]


def test_devices__listed_and_removed(client, alice, bob):
    log_in(client)
    phone = register(alice, name="Alice phone")
    unnamed = register(alice, uuid="0b7e3a52-5d0c-4c1e-9d2e-6f3f1c1d2a10")
    bobs = register(bob)
    page = client.get(SESSIONS).content.decode()
    assert "Alice phone" in page and "Unnamed device" in page
    assert f"/auth/devices/{bobs.pk}/remove/" not in page

    response = client.post(f"/auth/devices/{phone.pk}/remove/")

    assert response.status_code == 302 and response["Location"] == SESSIONS
    assert list(DeviceKey.objects.filter(is_active=True).order_by("pk")) == [unnamed, bobs]
    assert "The device was removed." in client.get(SESSIONS).content.decode()


@pytest.mark.parametrize("which", ["other user's", "removed", "unknown", "huge"])
def test_devices__remove_anything_else_is_404(client, alice, bob, which):
    log_in(client)
    device = register(bob if which == "other user's" else alice)
    if which == "removed":
        services.deactivate_device(device)
    device_id = {"unknown": 987654, "huge": 10**30}.get(which, device.pk)
    assert client.post(f"/auth/devices/{device_id}/remove/").status_code == 404
    assert DeviceKey.objects.get(pk=device.pk).is_active is (which != "removed")


def test_devices__remove_needs_post_and_login(client, alice):
    device = register(alice)
    assert client.post(f"/auth/devices/{device.pk}/remove/")["Location"].startswith(LOGIN)
    log_in(client)
    assert client.get(f"/auth/devices/{device.pk}/remove/").status_code == 405
    assert DeviceKey.objects.get(pk=device.pk).is_active


def test_devices__remove_refused_during_a_takeover(client, alice, bob):
    token = log_in(client)
    start_takeover(token, bob)
    device = register(bob)
    response = client.post(f"/auth/devices/{device.pk}/remove/")
    assert response.status_code == 403
    assert "You are acting as bob." in response.content.decode()
    assert DeviceKey.objects.get(pk=device.pk).is_active


# Names and dates a person can read.


@pytest.mark.parametrize(
    ("name", "user_agent", "shown"),
    [
        ("", MAC_CHROME, "Chrome on macOS"),
        ("Work laptop", MAC_CHROME, "Work laptop"),
        ("", "python-requests/2.32", "Python Requests"),
        ("", "", "Unknown browser"),
    ],
)
def test_display_name__given_name_else_browser_on_system(alice, name, user_agent, shown):
    token, _ = issue_token(alice, request=RequestFactory().get("/", HTTP_USER_AGENT=user_agent), name=name)
    assert token.display_name == shown


def test_sessions__default_name_and_relative_dates(client, alice):
    client.post(LOGIN, CREDENTIALS, headers={"User-Agent": MAC_CHROME})
    page = client.get(SESSIONS).content.decode()
    assert "Chrome on macOS" in page
    assert "Last active just now · signed in just now" in re.sub(r"<[^>]+>", "", page)
    assert "—" not in page


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (NOW - timedelta(seconds=20), "just now"),
        (NOW - timedelta(minutes=5, seconds=30), "5\xa0minutes ago"),
        (NOW - timedelta(days=2, hours=5), "2\xa0days ago"),
        (NOW + timedelta(minutes=52), "in 52\xa0minutes"),
        (NOW + timedelta(days=7, seconds=-5), "in 1\xa0week"),
        (NOW + timedelta(days=90, seconds=-5), "in 3\xa0months"),
    ],
)
def test_relative_time__short_with_the_exact_time_on_hover(settings, value, text):
    settings.TIME_ZONE = "UTC"
    html = relative_time(value, now=NOW)
    assert html.startswith(f'<time datetime="{value.isoformat()}" title="')
    assert html.endswith(f'">{text}</time>')
    assert value.strftime("%Y") in html.split('title="')[1]


def test_relative_time__none_is_empty():
    assert relative_time(None) == ""
