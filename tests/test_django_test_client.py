"""Django's own test client logs in through this middleware, in a ``TestCase`` and under pytest.

Its ``login()`` / ``force_login()`` call Django's login() on a bare request and then send only a
session cookie; the login() bridge makes that session stand for a token session.
"""

import os
import subprocess
import sys

from asgiref.sync import async_to_sync
from django.test import AsyncClient, TestCase

from auth_token import services
from auth_token.models import Token
from tests.factories import UserFactory


class DjangoTestCaseClientTests(TestCase):
    """What a project without pytest writes: ``self.client`` is Django's ``Client``."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = UserFactory(username="alice", password="alice-password")

    def test_force_login__next_request_is_the_user(self):
        self.client.force_login(self.alice)

        response = self.client.get("/me/")

        self.assertEqual(response.json()["user"], "alice")
        self.assertEqual(response.json()["source"], "cookie")

    def test_login__returns_true_and_next_request_is_the_user(self):
        self.assertTrue(self.client.login(username="alice", password="alice-password"))

        self.assertEqual(self.client.get("/me/").json()["user"], "alice")

    def test_login__wrong_password_returns_false_and_stays_anonymous(self):
        self.assertFalse(self.client.login(username="alice", password="wrong"))

        self.assertIsNone(self.client.get("/me/").json()["user"])
        self.assertFalse(Token.objects.exists())

    def test_force_login__issues_one_cookie_token_of_the_user(self):
        self.client.force_login(self.alice)

        token = Token.objects.get()
        self.assertEqual((token.user, token.is_active), (self.alice, True))
        self.assertEqual((token.allowed_cookie, token.allowed_header), (True, False))
        self.assertEqual(self.client.get("/me/").json()["token"], str(token.public_id))

    def test_logout__ends_the_token_and_the_next_request_is_anonymous(self):
        self.client.force_login(self.alice)
        self.client.get("/me/")

        self.client.logout()

        self.assertIsNone(self.client.get("/me/").json()["user"])
        self.assertFalse(Token.objects.get().is_active)

    def test_revoked_elsewhere__next_request_is_anonymous(self):
        self.client.force_login(self.alice)

        services.logout_all(self.alice)

        self.assertIsNone(self.client.get("/me/").json()["user"])

    def test_two_clients__each_is_its_own_session(self):
        bob = UserFactory(username="bob")
        other = self.client_class()
        self.client.force_login(self.alice)
        other.force_login(bob)

        self.assertEqual(self.client.get("/me/").json()["user"], "alice")
        self.assertEqual(other.get("/me/").json()["user"], "bob")


def test_async_client__aforce_login_then_async_view_sees_the_user(alice):
    client = AsyncClient()

    async_to_sync(client.aforce_login)(alice)
    response = async_to_sync(client.get)("/me-async/")

    assert response.json()["user"] == "alice"


def test_async_client__alogin_then_alogout(alice):
    client = AsyncClient()

    assert async_to_sync(client.alogin)(username="alice", password="password")
    assert async_to_sync(client.get)("/me-async/").json()["user"] == "alice"
    async_to_sync(client.alogout)()

    assert async_to_sync(client.get)("/me-async/").json()["user"] is None
    assert not Token.objects.get().is_active


def test_pytest_django_admin_client__opens_the_admin(admin_client):
    assert admin_client.get("/admin/").status_code == 200


def test_pytest_django_client__force_login(client, alice):
    client.force_login(alice)

    assert client.get("/me/").json()["user"] == "alice"


def test_no_credential__still_no_query_after_test_client_logins(client, alice, django_assert_num_queries):
    client.force_login(alice)
    anonymous = type(client)()

    with django_assert_num_queries(0):
        assert anonymous.get("/me/").json()["user"] is None


def test_auth_token_test__imports_without_pytest():
    code = "import sys; sys.modules['pytest'] = None; import django; django.setup(); import auth_token.test"

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        check=False,
    )

    assert result.returncode == 0, result.stderr
