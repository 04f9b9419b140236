"""API clients: each client's policy for the tokens its logins get (DESIGN §12). A token without
a client behaves as before (the rest of the suite)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from auth_token import services
from auth_token.exceptions import InvalidClient
from auth_token.models import Client, Token
from auth_token.scopes import UnknownScope
from auth_token.test import Client as HttpClient
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

LOGIN = "/api/login/"
CREDENTIALS = {"username": "alice", "password": "password"}


@pytest.fixture(autouse=True)
def declared_scopes(settings):
    settings.AUTH_TOKEN_SCOPES = {"orders:read": "See orders", "orders:write": "Place orders"}
    cache.clear()  # the client throttle's counters


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def api_login(**body):
    return HttpClient().post(LOGIN, {**CREDENTIALS, **body}, content_type="application/json")


def status_with(raw, path="/me/"):
    return HttpClient().get(path, **bearer(raw)).status_code


def whoami(raw):
    return HttpClient().get("/me/", **bearer(raw)).json()["user"]


# Logging in with a client.


def test_api_login__names_its_client(alice):
    Client.objects.create(name="cli")
    response = api_login(client="cli")
    assert response.status_code == 201
    token = Token.objects.get()
    assert (token.client.name, token.allowed_header, token.allowed_cookie) == ("cli", True, False)
    me = HttpClient().get("/api/me/", **bearer(response.json()["token"])).json()["token"]
    assert me["client"] == "cli"


@pytest.mark.parametrize("name", ["nope", "retired", "", "x" * 51])
def test_api_login__unknown_or_inactive_client_400_before_the_password(alice, login_attempts, name):
    Client.objects.create(name="retired", is_active=False)
    response = api_login(client=name)
    assert response.status_code == 400
    assert list(response.json()) == ["client"]
    assert not Token.objects.exists()
    assert login_attempts == []  # no password was checked


def test_api_login__client_must_be_a_string(alice):
    assert api_login(client=["cli"]).status_code == 400


def test_login__a_client_without_the_header_refuses_an_api_login(alice):
    Client.objects.create(name="web", allow_header=False)
    response = api_login(client="web")
    assert response.status_code == 400
    assert response.json() == {"client": ["The client web does not accept this kind of login."]}
    assert not Token.objects.exists()


def test_login__the_clients_transports_narrow_the_token(alice):
    web = Client.objects.create(name="web", allow_header=False)
    token, _ = issue_token(alice, client=web)
    assert (token.allowed_cookie, token.allowed_header) == (True, False)


def test_login__an_inactive_client_refuses_before_writing(alice):
    kiosk = Client.objects.create(name="kiosk", is_active=False)
    with pytest.raises(InvalidClient):
        issue_token(alice, client=kiosk)
    assert not Token.objects.exists()


# Lifetimes.


def test_lifetimes__the_clients_replace_the_settings(alice):
    kiosk = Client.objects.create(name="kiosk", idle_age=600, remember_age=3600, absolute_age=5400)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        short, _ = issue_token(alice, client=kiosk)
        remembered, _ = issue_token(alice, client=kiosk, expiration=False)
        plain, _ = issue_token(alice)
    assert short.expires_at == now + timedelta(seconds=600)
    assert remembered.expires_at == now + timedelta(seconds=3600)
    assert plain.expires_at == now + timedelta(hours=1)  # AUTH_TOKEN_DEFAULT_TOKEN_AGE


def test_lifetimes__renewal_slides_by_the_clients_idle_age_and_stops_at_its_absolute_age(alice):
    kiosk = Client.objects.create(name="kiosk", idle_age=600, absolute_age=900)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, raw = issue_token(alice, client=kiosk)
    with time_machine.travel(start + timedelta(seconds=300), tick=False):
        assert whoami(raw) == "alice"
        assert Token.objects.get(pk=token.pk).expires_at == start + timedelta(seconds=900)  # capped
    with time_machine.travel(start + timedelta(seconds=901), tick=False):
        assert whoami(raw) is None


def test_lifetimes__ten_minutes_for_the_kiosk_set_in_the_admin(alice, admin_client):
    """The tutorial's promise: a 10-minute lifetime set in the admin holds for the next login."""
    kiosk = Client.objects.create(name="kiosk")
    response = admin_client.post(
        f"/admin/auth_token/client/{kiosk.pk}/change/",
        {"name": "kiosk", "is_active": "on", "allow_cookie": "on", "allow_header": "on", "idle_age": "600"},
    )
    assert response.status_code == 302, response.content
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        raw = api_login(client="kiosk").json()["token"]
    with time_machine.travel(now + timedelta(seconds=599), tick=False):
        assert whoami(raw) == "alice"
    with time_machine.travel(now + timedelta(seconds=599 + 601), tick=False):
        assert whoami(raw) is None


# One token per user per client.


def test_limit__one_token_per_client_replaces_the_old_one(alice, revocations):
    cli = Client.objects.create(name="cli", max_tokens_per_user=1)
    old, old_raw = issue_token(alice, client=cli)
    other, _ = issue_token(alice)  # no client: untouched
    new, new_raw = issue_token(alice, client=cli)
    assert list(Token.objects.filter(is_active=True).order_by("pk")) == [other, new]
    assert (whoami(old_raw), whoami(new_raw)) == (None, "alice")
    assert revocations == [(old.pk, "limit")]


# Changing a client.


def test_deactivating_a_client_revokes_its_tokens_at_once(alice, revocations):
    cli = Client.objects.create(name="cli")
    token, raw = issue_token(alice, client=cli)
    _, other_raw = issue_token(alice)
    cli.is_active = False
    assert services.save_client(cli) == 1
    assert (whoami(raw), whoami(other_raw)) == (None, "alice")
    assert revocations == [(token.pk, "client_changed")]


def test_a_client_deactivated_behind_the_services_back_still_stops_its_tokens(alice):
    cli = Client.objects.create(name="cli")
    _, raw = issue_token(alice, client=cli)
    Client.objects.filter(pk=cli.pk).update(is_active=False)  # no save_client: the rule still holds
    assert whoami(raw) is None


def test_withdrawing_the_header_revokes_header_only_tokens(alice):
    cli = Client.objects.create(name="cli")
    header_only, header_raw = issue_token(alice, client=cli, allowed_cookie=False)
    both, _ = issue_token(alice, client=cli)
    cli.allow_header = False
    assert services.save_client(cli) == 1
    assert not Token.objects.get(pk=header_only.pk).is_active
    assert Token.objects.get(pk=both.pk).is_active
    assert whoami(header_raw) is None


def test_narrowing_a_clients_scopes_revokes_the_wider_tokens(alice):
    cli = Client.objects.create(name="cli")
    every, _ = issue_token(alice, client=cli)
    reader, _ = issue_token(alice, client=cli, scopes=["orders:read"])
    cli.allowed_scopes = ["orders:read"]
    assert services.save_client(cli) == 1
    assert list(Token.objects.filter(is_active=True)) == [reader]
    assert not Token.objects.get(pk=every.pk).is_active


def test_a_clients_scopes_cap_its_tokens(alice):
    cli = Client.objects.create(name="cli", allowed_scopes=["orders:read"])
    token, _ = issue_token(alice, client=cli)
    assert token.scopes == ["orders:read"]
    with pytest.raises(UnknownScope, match="Not allowed for this client: orders:write"):
        issue_token(alice, client=cli, scopes=["orders:write"])
    assert Token.objects.count() == 1


def test_save_client__refuses_a_malformed_rate_before_writing(alice):
    cli = Client.objects.create(name="cli", throttle_rate="2/min")
    cli.throttle_rate = "fast"
    with pytest.raises(ValueError, match="is not a rate"):
        services.save_client(cli)
    assert Client.objects.get(pk=cli.pk).throttle_rate == "2/min"


def test_admin__no_allowed_scopes_shows_an_empty_box(admin_client):
    kiosk = Client.objects.create(name="kiosk", idle_age=600)
    page = admin_client.get(f"/admin/auth_token/client/{kiosk.pk}/change/").content.decode()
    box = re.search(r'<textarea name="allowed_scopes"[^>]*>([^<]*)</textarea>', page)
    assert box is not None and box[1].strip() == ""
    form = {"name": "kiosk", "is_active": "on", "allow_header": "on", "idle_age": "600", "allowed_scopes": ""}
    assert admin_client.post(f"/admin/auth_token/client/{kiosk.pk}/change/", form).status_code == 302
    assert Client.objects.get(pk=kiosk.pk).allowed_scopes is None


def test_admin__refuses_an_undeclared_scope_or_a_bad_rate(admin_client):
    form = {"name": "cli", "is_active": "on", "allow_header": "on", "allowed_scopes": '["orders:delete"]'}
    response = admin_client.post("/admin/auth_token/client/add/", form)
    assert response.status_code == 200 and "Unknown scope: orders:delete." in response.content.decode()
    response = admin_client.post(
        "/admin/auth_token/client/add/", {**form, "allowed_scopes": "", "throttle_rate": "fast"}
    )
    assert response.status_code == 200 and "is not a rate" in response.content.decode()
    assert not Client.objects.exists()


# Permissions and throttle per client.


@pytest.mark.parametrize(
    ("client_name", "cli_only", "no_kiosk"),
    [("cli", 200, 200), ("kiosk", 403, 403), (None, 403, 200)],
)
def test_allow_and_deny_clients(alice, client_name, cli_only, no_kiosk):
    client = Client.objects.create(name=client_name) if client_name else None
    _, raw = issue_token(alice, client=client)
    assert status_with(raw, "/cli-only/") == cli_only
    assert status_with(raw, "/no-kiosk/") == no_kiosk
    assert status_with(raw, "/session-auth/no-kiosk/") == no_kiosk  # DRF's default classes


def test_throttle__each_user_of_a_client_at_its_rate(alice, bob):
    cli = Client.objects.create(name="cli", throttle_rate="2/min")
    _, alice_raw = issue_token(alice, client=cli)
    _, bob_raw = issue_token(bob, client=cli)
    _, unthrottled = issue_token(alice)
    assert [status_with(alice_raw, "/cli-only/") for _ in range(3)] == [200, 200, 429]
    assert status_with(bob_raw, "/cli-only/") == 200  # his own budget
    assert [status_with(unthrottled, "/no-kiosk/") for _ in range(3)] == [200, 200, 200]


# Cost.


def test_a_client_token_costs_one_query(alice, django_assert_num_queries):
    cli = Client.objects.create(name="cli")
    _, raw = issue_token(alice, client=cli)
    client = HttpClient()
    with django_assert_num_queries(1):  # the lookup, which joins the client
        assert client.get("/cli-only/", **bearer(raw)).json() == {"client": "cli"}
