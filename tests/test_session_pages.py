"""The browser pages "Your sessions": list, revoke one, revoke the others."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.utils import timezone

from auth_token import keys, services
from auth_token.models import DeviceKey, Token
from auth_token.test import Client
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db

CREDENTIALS = {"username": "alice", "password": "password"}
SESSIONS = "/auth/sessions/"
REVOKE_OTHERS = "/auth/sessions/revoke-others/"
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)


def log_in(client):
    """Log alice in through the browser login view; return her new cookie token."""
    response = client.post("/auth/login/", CREDENTIALS)
    assert response.status_code == 302
    return Token.objects.get(key=keys.digest(response.cookies["Authorization"].value))


def revoke_url(token):
    return f"/auth/sessions/{token.public_id}/revoke/"


def session_items(response):
    """Return the HTML of each item of the sessions list."""
    body = response.content.decode().split('aria-label="Sessions">')[1].split("</ul>")[0]
    return body.split('<li class="at-item')[1:]


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def is_active(token):
    return Token.objects.get(pk=token.pk).is_active


def test_sessions__lists_own_active_tokens_newest_first(client, alice, bob):
    current = log_in(client)
    laptop, laptop_raw = issue_token(alice, name="Laptop")
    Token.objects.filter(pk=laptop.pk).update(last_access=timezone.now() - timedelta(minutes=30))
    phone_request = RequestFactory().get("/", HTTP_USER_AGENT=PHONE_USER_AGENT, REMOTE_ADDR="203.0.113.7")
    phone, phone_raw = issue_token(alice, request=phone_request, name="Phone")
    revoked, _ = issue_token(alice, name="Revoked")
    services.revoke(revoked)
    expired, _ = issue_token(alice, name="Expired")
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    bobs, bobs_raw = issue_token(bob, name="Bob's")

    response = client.get(SESSIONS)

    assert response.status_code == 200
    assert [token.pk for token in response.context["sessions"]] == [phone.pk, current.pk, laptop.pk]
    content = response.content.decode()
    for shown in ("Phone", "Chrome Mobile on Android", "203.0.113.7", "Laptop"):
        assert shown in content
    for hidden in (revoked, expired, bobs):
        assert str(hidden.public_id) not in content
        assert hidden.name not in content
    # Neither a digest (whole or its hex part) nor a raw token is ever shown.
    raw_cookie = client.cookies["Authorization"].value
    for token in Token.objects.all():
        assert token.key not in content
        assert token.key.split("$", 1)[1] not in content
    for raw in (raw_cookie, laptop_raw, phone_raw, bobs_raw):
        assert raw not in content
    # Only the current session's row is marked.
    rows = session_items(response)
    assert len(rows) == 3
    marked = [row for row in rows if 'aria-current="true"' in row]
    assert len(marked) == 1
    assert str(current.public_id) in marked[0]
    assert '<span class="at-badge">This browser</span>' in marked[0]
    assert content.count('<span class="at-badge">') == 1


def test_sessions__other_user_sees_only_own(token_client, alice, bob, alice_token):
    token_client.force_login(bob)
    response = token_client.get(SESSIONS)
    assert response.status_code == 200
    assert [token.user_id for token in response.context["sessions"]] == [bob.pk]
    assert str(alice_token[0].public_id) not in response.content.decode()


def test_revoke__own_other_session(client, alice):
    current = log_in(client)
    other, other_raw = issue_token(alice)

    response = client.post(revoke_url(other))

    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert not is_active(other)
    assert is_active(current)
    assert messages_of(response) == ["The session was signed out."]
    assert client.get("/me/").json()["user"] == "alice"
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {other_raw}").json()["user"] is None


def test_revoke__other_users_session_is_404(client, alice, bob):
    log_in(client)
    bobs, bobs_raw = issue_token(bob)

    assert client.post(revoke_url(bobs)).status_code == 404

    assert is_active(bobs)
    assert client.get("/me/", HTTP_AUTHORIZATION=f"Bearer {bobs_raw}").json()["user"] == "bob"


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired"])
def test_revoke__unknown_or_ended_session_is_404(client, alice, case):
    current = log_in(client)
    other, _ = issue_token(alice)
    if case == "revoked":
        services.revoke(other)
    elif case == "expired":
        Token.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = f"/auth/sessions/{uuid4()}/revoke/" if case == "unknown" else revoke_url(other)

    assert client.post(url).status_code == 404

    assert is_active(current)
    assert is_active(other) is (case != "revoked")


@pytest.mark.parametrize(
    "public_id", ["not-a-uuid", "12345", "%00", "00000000000000000000000000000000", "' OR 1=1 --"]
)
def test_revoke__garbage_id_is_404(client, alice, public_id):
    current = log_in(client)
    assert client.post(f"/auth/sessions/{public_id}/revoke/").status_code == 404
    assert is_active(current)


def test_revoke__uppercase_uuid_is_404(client, alice):
    """The URL converter takes the canonical (lowercase) form only."""
    log_in(client)
    other, _ = issue_token(alice)
    assert client.post(f"/auth/sessions/{str(other.public_id).upper()}/revoke/").status_code == 404
    assert is_active(other)


@pytest.mark.parametrize("which", ["revoke", "revoke_others"])
def test_revoke__get_not_allowed(client, alice, which):
    current = log_in(client)
    other, _ = issue_token(alice)
    url = revoke_url(other) if which == "revoke" else REVOKE_OTHERS

    response = client.get(url)

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert is_active(current)
    assert is_active(other)


def test_revoke__current_session_logs_out(client, alice):
    current = log_in(client)

    response = client.post(revoke_url(current))

    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"
    assert response.cookies["Authorization"].value == ""
    assert not is_active(current)
    assert messages_of(response) == ["You have been signed out."]
    assert client.get("/me/").json()["user"] is None
    assert client.get(SESSIONS)["Location"] == "/auth/login/?next=/auth/sessions/"


def test_revoke__header_client_may_end_its_own_token(client, alice, alice_token, alice_header):
    token, _ = alice_token
    response = client.post(revoke_url(token), **alice_header)
    assert response.status_code == 302
    assert "Authorization" not in response.cookies  # header clients never get a cookie
    assert not is_active(token)


def test_revoke_others__keeps_current_and_other_users__ends_devices(client, alice, bob):
    """The "Sign out everywhere else" button used to leave device keys working."""
    current = log_in(client)
    others = [issue_token(alice)[0], issue_token(alice, allowed_cookie=False)[0]]
    bobs, _ = issue_token(bob)
    device, _ = services.register_device(None, alice, uuid4())
    bobs_device, _ = services.register_device(None, bob, uuid4())

    response = client.post(REVOKE_OTHERS)

    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert is_active(current)
    assert [is_active(token) for token in others] == [False, False]
    assert is_active(bobs)
    assert not DeviceKey.objects.get(pk=device.pk).is_active  # as the API's logout-all
    assert DeviceKey.objects.get(pk=bobs_device.pk).is_active
    assert messages_of(response) == ["2 other sessions were signed out."]
    assert client.get("/me/").json()["user"] == "alice"


@pytest.mark.parametrize(("method", "url"), [("get", SESSIONS), ("post", REVOKE_OTHERS), ("post", "revoke")])
def test_sessions__anonymous_redirects_to_login(client, alice_token, method, url):
    token, _ = alice_token
    url = revoke_url(token) if url == "revoke" else url

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"/auth/login/?next={url}"
    assert is_active(token)


@pytest.mark.parametrize("credential", ["revoked", "expired", "garbage"])
@pytest.mark.parametrize(("method", "url"), [("get", SESSIONS), ("post", REVOKE_OTHERS), ("post", "revoke")])
def test_sessions__header_without_valid_token_is_401(client, alice, credential, method, url):
    stale, stale_raw = issue_token(alice)
    other, _ = issue_token(alice)
    if credential == "revoked":
        services.revoke(stale)
    elif credential == "expired":
        Token.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    raw = "garbage" if credential == "garbage" else stale_raw
    url = revoke_url(other) if url == "revoke" else url

    response = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert is_active(other)


def test_sessions__header_client(client, alice, alice_token, alice_header):
    response = client.get(SESSIONS, **alice_header)
    assert response.status_code == 200
    assert response.context["current_token_id"] == alice_token[0].pk
    assert "Authorization" not in response.cookies


@pytest.mark.parametrize("which", ["revoke", "revoke_others"])
def test_revoke__csrf_enforced_for_cookie_client(alice, which):
    csrf_client = Client(enforce_csrf_checks=True)
    current = csrf_client.force_login(alice)
    other, _ = issue_token(alice)
    url = revoke_url(other) if which == "revoke" else REVOKE_OTHERS

    assert csrf_client.post(url).status_code == 403
    assert is_active(other)
    assert is_active(current)

    # The same request with the page's CSRF token goes through.
    csrf_client.get(SESSIONS)
    response = csrf_client.post(url, {"csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert not is_active(other)
    assert is_active(current)


def test_sessions__query_budget(client, alice, django_assert_num_queries):
    log_in(client)
    for number in range(3):
        issue_token(alice, name=f"Device {number}")

    with django_assert_num_queries(4):
        # 1. The middleware's token lookup (with user, takeover and client); no renewal is due.
        # 2. The user's active sessions, with their clients. Browser, OS and device type are
        #    parsed from the row, no query.
        # 3. The user's active device keys.
        # 4. The user's personal access tokens.
        response = client.get(SESSIONS)

    assert response.status_code == 200
    assert len(response.context["sessions"]) == 4


@pytest.fixture
def taking_over_bob(client, alice, bob):
    """Alice (staff) logged in by cookie, taking over bob; return her token."""
    current = log_in(client)
    start_takeover(current, bob)
    assert client.get("/me/").json()["user"] == "bob"
    return current


def test_revoke__during_takeover_is_403(client, bob, taking_over_bob):
    bobs, _ = issue_token(bob)
    assert client.post(revoke_url(bobs)).status_code == 403
    assert is_active(bobs)
    assert is_active(taking_over_bob)


def test_revoke_others__during_takeover_is_403(client, bob, taking_over_bob):
    bobs, _ = issue_token(bob)
    assert client.post(REVOKE_OTHERS).status_code == 403
    assert is_active(bobs)
    assert is_active(taking_over_bob)
