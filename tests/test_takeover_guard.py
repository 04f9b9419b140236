"""During a takeover, every credential-changing or account-wide path refuses BEFORE it writes.

The password form saved the target's new password and then answered 403. Each
path below runs during a takeover, and the database must be exactly as it was before.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from auth_token import services
from auth_token.models import DeviceKey, Token, UserTokenTakeover
from auth_token.test import Client
from tests.factories import UserFactory, issue_token

pytestmark = pytest.mark.django_db


def permissions(*codenames):
    return list(Permission.objects.filter(codename__in=codenames))


@pytest.fixture
def staff():
    """An actor who may take over the target: the takeover permission and the target's rights."""
    user = UserFactory(username="staff", is_staff=True)
    user.user_permissions.add(*permissions("takeover_user", "change_user", "view_user"))
    return user


@pytest.fixture
def target():
    """Staff with the rights to use the admin's password form, so that path can be replayed."""
    user = UserFactory(username="target", is_staff=True)
    user.user_permissions.add(*permissions("change_user", "view_user"))
    return user


@pytest.fixture
def acting(staff, target):
    """A client whose cookie token has taken over ``target``, and the target's other session."""
    client = Client()
    client.force_login(staff)
    request = client.get("/me/").wsgi_request
    services.takeover(request, target)
    assert client.get("/me/").json()["user"] == "target"
    other_session, _ = issue_token(target, name="other")
    services.register_device(None, target, "phone")
    UserFactory(username="third")
    return client, other_session


def snapshot():
    """Everything a refused path must leave untouched."""
    return (
        list(
            get_user_model()
            .objects.order_by("pk")
            .values_list("pk", "password", "last_login", "is_superuser", "is_staff")
        ),
        list(
            Token.objects.order_by("pk").values_list(
                "pk", "is_active", "expires_at", "session_auth_hash", "active_takeover_id"
            )
        ),
        list(DeviceKey.objects.order_by("pk").values_list("pk", "is_active", "login_token")),
        list(UserTokenTakeover.objects.order_by("pk").values_list("pk", "is_active", "ended_at")),
    )


def json_post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


PATHS = {
    "password view": lambda client, target, other: client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": "N3w-secret-pass", "new_password2": "N3w-secret-pass"},
    ),
    "admin password form (own)": lambda client, target, other: client.post(
        f"/admin/auth/user/{target.pk}/password/",
        {"password1": "N3w-secret-pass", "password2": "N3w-secret-pass", "usable_password": "true"},
    ),
    "admin password form (another user)": lambda client, target, other: client.post(
        f"/admin/auth/user/{get_user_model().objects.get(username='third').pk}/password/",
        {"password1": "N3w-secret-pass", "password2": "N3w-secret-pass", "usable_password": "true"},
    ),
    "a project's view (set_password, save)": lambda client, target, other: client.post(
        "/django-password/", {"password": "N3w-secret-pass"}
    ),
    "browser login": lambda client, target, other: client.post(
        "/auth/login/", {"username": "target", "password": "password"}
    ),
    "sign out everywhere else": lambda client, target, other: client.post("/auth/sessions/revoke-others/"),
    "sign out another session": lambda client, target, other: client.post(
        f"/auth/sessions/{other.public_id}/revoke/"
    ),
    "renew": lambda client, target, other: client.post("/renew/"),
    "API logout-all": lambda client, target, other: json_post(client, "/api/logout-all/"),
    "API renew": lambda client, target, other: json_post(client, "/api/renew/"),
    "API revoke another session": lambda client, target, other: client.delete(
        f"/api/sessions/{other.public_id}/"
    ),
    "API register a device": lambda client, target, other: json_post(
        client, "/api/devices/", {"uuid": "tablet"}
    ),
    "API remove a device": lambda client, target, other: client.delete(
        f"/api/devices/{DeviceKey.objects.get().pk}/"
    ),
}


@pytest.mark.parametrize("path", PATHS)
def test_takeover__refuses_before_writing(acting, target, path):
    client, other = acting
    before = snapshot()

    response = PATHS[path](client, target, other)

    assert response.status_code == 403
    assert snapshot() == before
    assert client.get("/me/").json()["user"] == "target"  # the takeover still holds
    assert UserTokenTakeover.objects.get().is_active


def test_takeover__release_restores_the_password_form(acting, staff):
    client, _ = acting
    client.post("/auth/takeover/release/")
    response = client.post(
        "/auth/password/",
        {"old_password": "password", "new_password1": "N3w-secret-pass", "new_password2": "N3w-secret-pass"},
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("N3w-secret-pass")
