"""Personal access tokens: created by a signed-in user (or the command line) with chosen scopes
and expiry, shown once, header-only, never renewed by use, listed apart, revocable; and the
expiry notice, once per token (DESIGN §12)."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from auth_token import keys, services, signals
from auth_token.exceptions import InvalidPersonalToken, PersonalTokenRefused, TakeoverActive
from auth_token.models import Token, TokenKind
from auth_token.scopes import UnknownScope
from auth_token.test import Client
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db

TOKENS = "/api/tokens/"


@pytest.fixture(autouse=True)
def declared_scopes(settings):
    settings.AUTH_TOKEN_SCOPES = {"orders:read": "See orders", "orders:write": "Place orders"}


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def create(client, headers=None, **body):
    return client.post(TOKENS, {"name": "deploy", **body}, content_type="application/json", **(headers or {}))


# Creating one.


def test_create__from_a_browser_session_shown_once(alice):
    client = browser(alice)
    response = create(client, scopes=["orders:read"])
    assert response.status_code == 201
    body = response.json()
    token = Token.objects.get(kind=TokenKind.PERSONAL)
    assert token.key == keys.digest(body["token"]) and body["token"] not in repr(token)
    assert (token.name, token.scopes, token.allowed_header, token.allowed_cookie) == (
        "deploy",
        ["orders:read"],
        True,
        False,
    )
    assert set(body) == {"token", "id", "name", "scopes", "created_at", "last_access", "expires_at"}
    listed = client.get(TOKENS).json()
    assert [item["id"] for item in listed] == [str(token.public_id)] and "token" not in listed[0]
    assert str(token.public_id) not in [item["id"] for item in client.get("/api/sessions/").json()]


def test_create__the_token_works_by_header_only(alice):
    raw = create(browser(alice)).json()["token"]
    assert Client().get("/me/", **bearer(raw)).json()["user"] == "alice"
    cookie_client = Client()
    cookie_client.cookies["Authorization"] = raw
    assert cookie_client.get("/me/").json()["user"] is None


def test_create__needs_tokens_write_from_a_header_token(alice):
    _, plain = issue_token(alice, scopes=["orders:read"])
    response = create(Client(), bearer(plain))
    assert response.status_code == 403
    assert response.json() == {"detail": "Creating a personal access token needs the tokens:write scope."}
    _, writer = issue_token(alice, scopes=["tokens:write", "orders:read"])
    assert create(Client(), bearer(writer), scopes=["orders:read"]).status_code == 201
    assert Token.objects.filter(kind=TokenKind.PERSONAL).count() == 1


def test_create__a_name_in_use_is_refused_before_writing(alice, bob):
    client = browser(alice)
    assert create(client).status_code == 201
    response = create(client)
    assert response.status_code == 400
    assert "You already have a personal access token named “deploy”." in str(response.json())
    assert create(browser(bob)).status_code == 201  # names are per user
    assert Token.objects.filter(kind=TokenKind.PERSONAL).count() == 2


def test_create__never_a_scope_its_creator_lacks(alice):
    _, writer = issue_token(alice, scopes=["tokens:write", "orders:read"])
    response = create(Client(), bearer(writer), scopes=["orders:write"])
    assert response.status_code == 400
    assert response.json() == {"scopes": ["The token creating this one does not hold: orders:write."]}
    inherited = create(Client(), bearer(writer)).json()  # no scopes asked: the creator's
    assert inherited["scopes"] == ["orders:read", "tokens:write"]


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["orders:delete"]},
        {"name": ""},
        {"name": "   "},
        {"expires_at": "2000-01-01T00:00:00Z"},
        {"no_expiry": True},
        {"scopes": "orders:read"},
    ],
)
def test_create__bad_requests_are_400_and_write_nothing(alice, body):
    response = create(browser(alice), **body)
    assert response.status_code == 400, response.content
    assert not Token.objects.filter(kind=TokenKind.PERSONAL).exists()


def test_create__refused_during_a_takeover(alice, bob):
    token, raw = issue_token(alice)
    start_takeover(token, bob)
    response = create(Client(), bearer(raw))
    assert response.status_code == 403
    assert response.json() == {"detail": "This action is not allowed while you act as another user."}
    request = Client().get("/me/", **bearer(raw)).wsgi_request
    with pytest.raises(TakeoverActive):
        services.create_personal_token(request, name="x", scopes=None)
    assert not Token.objects.filter(kind=TokenKind.PERSONAL).exists()


# Expiry.


def test_expiry__defaults_to_and_stops_at_pat_max_age(alice, settings):
    settings.AUTH_TOKEN_PAT_MAX_AGE = 30 * 86400
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        token, _ = services.create_personal_token(None, user=alice, name="a", scopes=None)
        assert token.expires_at == now + timedelta(days=30)
        with pytest.raises(InvalidPersonalToken, match="at most 30 days"):
            services.create_personal_token(
                None, user=alice, name="b", scopes=None, expires_at=now + timedelta(days=31)
            )


def test_expiry__never_only_where_allowed_and_absolute_age_does_not_cap(alice, settings):
    with pytest.raises(InvalidPersonalToken):
        services.create_personal_token(None, user=alice, name="a", scopes=None, expires_at=services.NO_EXPIRY)
    settings.AUTH_TOKEN_PAT_ALLOW_NO_EXPIRY = True
    token, raw = services.create_personal_token(
        None, user=alice, name="a", scopes=None, expires_at=services.NO_EXPIRY
    )
    assert token.expires_at == services.NO_EXPIRY
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        assert Client().get("/me/", **bearer(raw)).json()["user"] == "alice"


def test_expiry__the_boundary_and_no_renewal_by_use(alice, settings):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        token, raw = services.create_personal_token(
            None, user=alice, name="a", scopes=None, expires_at=now + timedelta(days=1)
        )
    with time_machine.travel(now + timedelta(hours=23), tick=False):
        assert Client().get("/me/", **bearer(raw)).json()["user"] == "alice"
        assert Client().post("/api/renew/", content_type="application/json", **bearer(raw)).status_code == 200
    stored = Token.objects.get(pk=token.pk)
    assert stored.expires_at == now + timedelta(days=1)  # use and renew/ never moved it
    assert stored.last_access == now + timedelta(hours=23)  # but "last used" did
    with time_machine.travel(now + timedelta(days=1), tick=False):
        assert Client().get("/me/", **bearer(raw)).json()["user"] is None


def test_limit__personal_tokens_neither_count_nor_get_evicted(alice, settings):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 1
    pat, _ = services.create_personal_token(None, user=alice, name="a", scopes=None)
    issue_token(alice)
    second, _ = issue_token(alice)
    assert set(Token.objects.filter(is_active=True)) == {pat, second}


# Revoking.


def test_revoke__by_the_user_through_the_api_and_the_page(alice, bob):
    client = browser(alice)
    first = create(client).json()
    second = create(client, name="backup").json()
    assert create(browser(bob)).status_code == 201
    bobs = Token.objects.get(user=bob, kind=TokenKind.PERSONAL)
    assert client.delete(f"{TOKENS}{bobs.public_id}/").status_code == 404
    assert client.delete(f"{TOKENS}{first['id']}/").status_code == 204
    assert Client().get("/me/", **bearer(first["token"])).json()["user"] is None
    assert client.post(f"/auth/sessions/{second['id']}/revoke/").status_code == 302
    assert Client().get("/me/", **bearer(second["token"])).json()["user"] is None
    assert Token.objects.get(pk=bobs.pk).is_active


def test_revoke__the_tokens_endpoint_knows_only_personal_tokens(alice):
    """A session is not listed under api/tokens/, so its id there is a 404 and it lives on."""
    client = browser(alice)
    session = Token.objects.get(user=alice)
    assert client.delete(f"{TOKENS}{session.public_id}/").status_code == 404
    assert Token.objects.get(pk=session.pk).is_active
    assert client.get("/me/").json()["user"] == "alice"


# The page.


def test_page__create_shows_the_token_once_and_lists_it_apart(alice):
    client = browser(alice)
    form = client.get("/auth/tokens/new/").content.decode()
    assert 'value="orders:read"' in form and 'value="sessions:read"' in form
    response = client.post(
        "/auth/tokens/new/", {"name": "CLI", "scopes": ["orders:read"], "expires_in": "30"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    token = Token.objects.get(kind=TokenKind.PERSONAL)
    page = response.content.decode()
    raw = re.search(r'<textarea id="personal-token"[^>]*>([^<]+)</textarea>', page)[1]
    assert token.key == keys.digest(raw)
    sessions = client.get("/auth/sessions/").content.decode()
    assert raw not in sessions and "CLI" in sessions and "orders:read" in sessions
    assert "no use recorded yet" in sessions


def test_page__a_resubmitted_form_mints_no_second_token(alice):
    """A reload of the page that showed the token posts the form again: refused by name, and the
    first token is not shown again."""
    client = browser(alice)
    form = {"name": "CLI", "expires_in": "30"}
    first = client.post("/auth/tokens/new/", form).content.decode()
    again = client.post("/auth/tokens/new/", form)
    assert again.status_code == 200
    assert "You already have a personal access token named “CLI”." in again.content.decode()
    raw = re.search(r'<textarea id="personal-token"[^>]*>([^<]+)</textarea>', first)[1]
    assert raw not in again.content.decode()
    assert Token.objects.filter(kind=TokenKind.PERSONAL).count() == 1
    Token.objects.filter(kind=TokenKind.PERSONAL).update(is_active=False)
    assert client.post("/auth/tokens/new/", form).status_code == 200  # a revoked one frees its name
    assert Token.objects.filter(kind=TokenKind.PERSONAL, is_active=True).count() == 1


def test_page__revoking_a_personal_token_says_so(alice):
    client = browser(alice)
    pat = create(client).json()
    page = client.post(f"/auth/sessions/{pat['id']}/revoke/", follow=True).content.decode()
    assert "The token “deploy” was revoked." in page


def test_page__refused_during_a_takeover(alice, bob):
    client = Client()
    token = client.force_login(alice)
    start_takeover(token, bob)
    response = client.post("/auth/tokens/new/", {"name": "CLI", "expires_in": "30"})
    assert response.status_code == 403
    assert not Token.objects.filter(kind=TokenKind.PERSONAL).exists()


# The command line.


def test_createtoken__prints_the_token_once(alice):
    out = io.StringIO()
    call_command(
        "createtoken",
        "alice",
        "--name",
        "cron",
        "--scopes",
        "orders:read, orders:write",
        "--expires-in",
        "7",
        stdout=out,
    )
    raw = out.getvalue().strip()
    token = Token.objects.get(key=keys.digest(raw))
    assert (token.kind, token.name, token.scopes) == (
        TokenKind.PERSONAL,
        "cron",
        ["orders:read", "orders:write"],
    )
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)


@pytest.mark.parametrize(
    "args",
    [
        ["nobody", "--name", "x"],
        ["alice", "--name", "x", "--scopes", "orders:delete"],
        ["alice", "--name", "x", "--expires-in", "0"],
        ["alice", "--name", "x", "--expires-in", "soon"],
        ["alice", "--name", "x", "--expires-in", "never"],
        ["alice", "--name", "x", "--expires-in", "1000"],
    ],
)
def test_createtoken__refusals_are_command_errors(alice, args):
    with pytest.raises(CommandError):
        call_command("createtoken", *args, stdout=io.StringIO())
    assert not Token.objects.exists()


# The expiry notice.


@pytest.fixture
def expiring():
    seen = []

    def receiver(sender, token, days_left, **kwargs):
        seen.append((token.name, days_left))

    signals.token_expiring.connect(receiver)
    yield seen
    signals.token_expiring.disconnect(receiver)


def test_notify__once_per_token_however_often_it_runs(alice, expiring):
    now = timezone.now()
    for name, days in (("soon", 3), ("later", 20)):
        services.create_personal_token(
            None, user=alice, name=name, scopes=None, expires_at=now + timedelta(days=days)
        )
    session, _ = issue_token(alice)  # not a personal token: never told
    Token.objects.filter(pk=session.pk).update(expires_at=now + timedelta(days=1))
    out = io.StringIO()
    call_command("notify_expiring_tokens", "--days", "7", stdout=out)
    assert expiring == [("soon", 2)]
    assert out.getvalue() == "1 expiring tokens notified.\n"
    call_command("notify_expiring_tokens", "--days", "7", stdout=io.StringIO())
    call_command("notify_expiring_tokens", "--days", "30", stdout=io.StringIO())
    assert expiring == [("soon", 2), ("later", 19)]


def test_notify__default_days_and_bad_input(alice, settings, expiring):
    settings.AUTH_TOKEN_PAT_NOTIFY_DAYS = 10
    services.create_personal_token(
        None, user=alice, name="x", scopes=None, expires_at=timezone.now() + timedelta(days=9)
    )
    call_command("notify_expiring_tokens", stdout=io.StringIO())
    assert [name for name, _ in expiring] == ["x"]
    with pytest.raises(CommandError):
        call_command("notify_expiring_tokens", "--days", "-1", stdout=io.StringIO())


def test_service__needs_a_request_or_a_user():
    with pytest.raises(TypeError):
        services.create_personal_token(None, name="x", scopes=None)


def test_service__unknown_scope(alice):
    with pytest.raises(UnknownScope):
        services.create_personal_token(None, user=alice, name="x", scopes=["nope"])
    assert not Token.objects.exists()


def test_service__a_request_without_a_token_of_ours_is_refused(alice):
    request = Client().get("/me/").wsgi_request
    with pytest.raises(PersonalTokenRefused):
        services.create_personal_token(request, name="x", scopes=None)
