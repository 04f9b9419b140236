"""The example site as a visitor sees it (``make test`` runs this with the site's own settings)."""

import io

import pytest
from django.core.management import call_command

from auth_token.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users():
    call_command("demo_users", stdout=io.StringIO())


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


def test_admin_login__goes_to_token_login_keeping_next(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_admin__reachable_after_token_login(client, demo_users):
    client.post("/accounts/login/?next=/admin/", {"username": "admin", "password": "admin"})
    assert client.get("/admin/").status_code == 200


def test_demo_users__idempotent(demo_users):
    from django.contrib.auth import get_user_model

    call_command("demo_users", stdout=io.StringIO())
    assert sorted(get_user_model().objects.values_list("username", flat=True)) == ["admin", "alice", "bob"]
