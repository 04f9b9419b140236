"""The example site as a visitor sees it (``make test`` runs this with the site's own settings)."""

import io
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from auth_token.models import Token, UserTokenTakeover

pytestmark = pytest.mark.django_db

BANNER = "You are acting as alice"


@pytest.fixture
def demo_users():
    call_command("demo_users", stdout=io.StringIO())


@pytest.fixture
def csrf_client():
    """A browser-like client: CSRF is checked, so every POST sends the form's own token."""
    return Client(enforce_csrf_checks=True)


def form_fields(html, form_id=None, action=None):
    """Return the hidden inputs of the first form matching ``form_id`` or ``action``, as a dict."""
    for match in re.finditer(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", html, re.S):
        attrs = unescape(match["attrs"])
        if (form_id and f'id="{form_id}"' in attrs) or (action and f'action="{action}"' in attrs):
            return {
                unescape(name): unescape(value)
                for name, value in re.findall(
                    r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match["body"]
                )
            }
    raise AssertionError(f"no form {form_id or action!r} in the page")


def admin_login(client):
    """Log in on the admin's own login page as the demo superuser, as a browser does."""
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 200
    fields = form_fields(page.content.decode(), form_id="login-form")
    response = client.post("/admin/login/?next=/admin/", {**fields, "username": "admin", "password": "admin"})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/admin/"
    return response


def start_takeover(client, username):
    """Take over ``username`` with the user admin's button, as the logged-in superuser does."""
    target = get_user_model().objects.get(username=username)
    change_page = client.get(f"/admin/auth/user/{target.pk}/change/").content.decode()
    takeover_url = f"/admin/auth/user/{target.pk}/takeover/"
    assert f'href="{takeover_url}" class="takeoverlink"' in change_page
    fields = form_fields(client.get(takeover_url).content.decode(), form_id="takeover-form")
    response = client.post(takeover_url, {**fields, "reason": "Support ticket 1"})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/"  # AUTH_TOKEN_TAKEOVER_REDIRECT_URL's default
    return UserTokenTakeover.objects.get(is_active=True, user=target)


def test_home__anonymous_sees_demo_users(client, demo_users):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Signed in as" not in response.content
    assert b"alice" in response.content
    assert "Authorization" not in response.cookies


def test_home__signed_in_shows_token_but_never_the_secret(client, demo_users):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice"})
    assert response.status_code == 302
    raw = response.cookies["Authorization"].value
    page = client.get("/").content.decode()
    assert "Signed in as alice" in page
    assert str(Token.objects.get().public_id) in page
    assert raw not in page
    assert Token.objects.get().key not in page
    assert "You are acting as" not in page


def test_admin_login__own_page_issues_a_token_cookie(csrf_client, demo_users):
    response = admin_login(csrf_client)
    token = Token.objects.get()
    assert token.is_active
    assert token.user.username == "admin"
    assert response.cookies["Authorization"].value
    assert response.cookies["Authorization"]["httponly"]
    page = csrf_client.get("/admin/")
    assert page.status_code == 200
    assert b"Site administration" in page.content
    assert b"You are acting as" not in page.content


def test_admin_login__wrong_password_issues_no_token(csrf_client, demo_users):
    page = csrf_client.get("/admin/login/")
    fields = form_fields(page.content.decode(), form_id="login-form")
    response = csrf_client.post("/admin/login/", {**fields, "username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert "Authorization" not in response.cookies
    assert not Token.objects.exists()


def test_admin__reachable_after_token_login(client, demo_users):
    client.post("/accounts/login/?next=/admin/", {"username": "admin", "password": "admin"})
    assert client.get("/admin/").status_code == 200


def test_admin_logout__ends_the_token(csrf_client, demo_users):
    admin_login(csrf_client)
    index = csrf_client.get("/admin/").content.decode()
    fields = form_fields(index, form_id="logout-form")
    response = csrf_client.post("/admin/logout/", fields)
    assert response.status_code == 302
    assert response["Location"] == "/"  # LOGOUT_REDIRECT_URL
    assert not Token.objects.get().is_active
    assert response.cookies["Authorization"].value == ""
    assert b"Signed in as" not in csrf_client.get("/").content
    assert csrf_client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_takeover__banner_on_site_and_admin_pages_release_leads_back_to_admin(csrf_client, demo_users):
    admin_login(csrf_client)
    record = start_takeover(csrf_client, "alice")

    home = csrf_client.get("/").content.decode()
    assert BANNER in home
    assert "Signed in as alice" in home
    # Alice is no staff: the admin shows its login page, with the banner too.
    admin_page = csrf_client.get("/admin/", follow=True)
    assert admin_page.redirect_chain[-1][0].startswith("/admin/login/")
    assert BANNER in admin_page.content.decode()

    fields = form_fields(home, action="/accounts/takeover/release/")
    assert fields["next"] == "/admin/auth/user/"
    response = csrf_client.post("/accounts/takeover/release/", fields)
    assert response.status_code == 302
    assert response["Location"] == "/admin/auth/user/"

    changelist = csrf_client.get("/admin/auth/user/")
    assert changelist.status_code == 200
    assert b"Select user to change" in changelist.content
    assert b"You are acting as" not in changelist.content
    record.refresh_from_db()
    assert (record.is_active, record.end_reason) == (False, "released")
    assert Token.objects.get().active_takeover is None


def test_takeover__banner_names_a_deleted_user_and_release_still_works(csrf_client, demo_users):
    admin_login(csrf_client)
    record = start_takeover(csrf_client, "alice")
    get_user_model().objects.filter(username="alice").delete()
    home = csrf_client.get("/").content.decode()
    assert BANNER in home
    assert "Signed in as admin" in home
    fields = form_fields(home, action="/accounts/takeover/release/")
    assert csrf_client.post("/accounts/takeover/release/", fields)["Location"] == "/admin/auth/user/"
    record.refresh_from_db()
    assert not record.is_active


def test_demo_users__idempotent(demo_users):
    call_command("demo_users", stdout=io.StringIO())
    assert sorted(get_user_model().objects.values_list("username", flat=True)) == ["admin", "alice", "bob"]
