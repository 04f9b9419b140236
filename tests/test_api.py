"""The DRF integration: the authentication class and the login, logout, renew and sessions endpoints.

Devices are in test_api_devices.py, bad input for every endpoint in test_api_bad_input.py, the
schema and the property-based run in test_api_schema.py.
"""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import user_login_failed
from django.test import override_settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication
from rest_framework.authtoken.models import Token as DRFToken
from rest_framework.test import APIRequestFactory

from auth_token import keys, services
from auth_token.contrib.rest_framework.authentication import TokenAuthentication
from auth_token.contrib.rest_framework.views import LogoutView, SessionListView
from auth_token.middleware import TokenAuthenticationMiddleware
from auth_token.models import Token
from auth_token.test import Client
from tests.factories import issue_token, start_takeover

pytestmark = pytest.mark.django_db

CREDENTIALS = {"username": "alice", "password": "password"}
REALM = 'Bearer realm="api"'
INVALID = 'Bearer realm="api", error="invalid_token"'


def post_json(client, url, data=None, **extra):
    return client.post(url, data if data is not None else {}, content_type="application/json", **extra)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- TokenAuthentication ---------------------------------------------------------------------


def test_auth__header_gives_user_and_token(client, alice, alice_token):
    response = client.get("/api/sessions/", **bearer(alice_token[1]))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [str(alice_token[0].public_id)]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, REALM),
        # Another scheme is not ours: as if absent.
        ({"HTTP_AUTHORIZATION": "Basic YWxpY2U6cGFzc3dvcmQ="}, REALM),
        ({"HTTP_AUTHORIZATION": "Bearer garbage"}, INVALID),
        ({"HTTP_AUTHORIZATION": f"Bearer {keys.generate()}"}, INVALID),
        ({"HTTP_AUTHORIZATION": "Bearer"}, INVALID),
    ],
    ids=["none", "other-scheme", "garbage", "unknown", "scheme-only"],
)
def test_auth__unauthenticated_401(client, headers, expected):
    response = client.get("/api/sessions/", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == expected


def test_auth__revoked_token_401(client, alice_token):
    services.revoke(alice_token[0])
    response = client.get("/api/sessions/", **bearer(alice_token[1]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID
    assert response.json() == {"detail": "Invalid or expired token."}


def test_auth__invalid_cookie_401(client):
    client.cookies["Authorization"] = keys.generate()
    response = client.get("/api/sessions/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID


@override_settings(AUTH_TOKEN_HEADER_TOKEN_TYPE="Session")
def test_auth__header_scheme_from_settings(client, alice_token):
    assert client.get("/api/sessions/")["WWW-Authenticate"] == 'Session realm="api"'
    response = client.get("/api/sessions/", HTTP_AUTHORIZATION=f"Session {alice_token[1]}")
    assert response.status_code == 200
    response = client.get("/api/sessions/", HTTP_AUTHORIZATION="Session nope")
    assert response["WWW-Authenticate"] == 'Session realm="api", error="invalid_token"'


def test_auth__cookie_safe_method_needs_no_csrf(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    assert csrf_client.get("/api/sessions/").status_code == 200


def test_auth__cookie_unsafe_method_without_csrf_403(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    response = csrf_client.post("/api/logout/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert Token.objects.get().is_active


def test_auth__cookie_unsafe_method_with_csrf(csrf_client, alice_token):
    csrf_client.cookies["Authorization"] = alice_token[1]
    csrf_client.cookies["csrftoken"] = "a" * 32
    # A form body would be 415: the CSRF check parses it, and the API takes JSON only.
    response = post_json(csrf_client, "/api/logout/", HTTP_X_CSRFTOKEN="a" * 32)
    assert response.status_code == 204
    assert not Token.objects.get().is_active


def test_auth__header_needs_no_csrf(csrf_client, alice_token):
    response = csrf_client.post("/api/logout/", **bearer(alice_token[1]))
    assert response.status_code == 204


def test_auth__header_wins_over_cookie(csrf_client, alice_token, bob):
    # An invalid header is the only source: the valid cookie is not a fallback.
    csrf_client.cookies["Authorization"] = alice_token[1]
    response = csrf_client.get("/api/sessions/", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401


def test_auth__without_middleware(alice, alice_token):
    """Sites without our middleware: the class resolves the header itself, in one query."""
    request = APIRequestFactory().get("/", **bearer(alice_token[1]))
    response = SessionListView.as_view()(request)
    assert response.status_code == 200
    assert response.data[0]["is_current"] is True


def test_auth__without_middleware_services_see_the_token(alice_token):
    request = APIRequestFactory().post("/", **bearer(alice_token[1]))
    assert LogoutView.as_view()(request).status_code == 204
    assert not Token.objects.get().is_active


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer nope"}], ids=["none", "garbage"])
def test_auth__without_middleware_unauthenticated(headers):
    response = SessionListView.as_view()(APIRequestFactory().get("/", **headers))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == (REALM if not headers else INVALID)


def test_auth__returns_none_without_our_credential(rf):
    from rest_framework.request import Request

    request = Request(rf.get("/", HTTP_AUTHORIZATION="Token abc"))
    assert TokenAuthentication().authenticate(request) is None


def _drf_chain_view():
    return SessionListView.as_view(authentication_classes=(TokenAuthentication, DRFTokenAuthentication))


@pytest.mark.parametrize("through_middleware", [False, True], ids=["no-middleware", "middleware"])
def test_auth__drf_authtoken_after_ours(bob, alice_token, through_middleware):
    """DRF's own TokenAuthentication, listed after ours, still authenticates its tokens."""
    view = _drf_chain_view()
    if through_middleware:
        view = TokenAuthenticationMiddleware(view)
    drf_key = DRFToken.objects.create(user=bob).key
    bob_token = issue_token(bob)[0]
    response = view(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {drf_key}"))
    assert response.status_code == 200
    assert [item["id"] for item in response.data] == [str(bob_token.public_id)]
    assert response.data[0]["is_current"] is False
    # Ours still answers for ours, and the 401 header is ours (the first class).
    assert view(APIRequestFactory().get("/", **bearer(alice_token[1]))).status_code == 200
    response = view(APIRequestFactory().get("/", HTTP_AUTHORIZATION="Token wrong"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM


@override_settings(AUTH_TOKEN_LEGACY_HEADER_TOKEN_TYPES=("Token",))
def test_auth__legacy_header_not_imported_falls_through_to_drf(bob):
    """During a move from DRF's authtoken, keys not imported yet still work through DRF's class."""
    drf_key = DRFToken.objects.create(user=bob).key
    response = _drf_chain_view()(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {drf_key}"))
    assert response.status_code == 200


def test_auth__takeover_acts_as_target(client, alice, bob, alice_token):
    bob_token = issue_token(bob)[0]
    start_takeover(alice_token[0], bob)
    response = client.get("/api/sessions/", **bearer(alice_token[1]))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [str(bob_token.public_id)]


def test_auth__login_required_middleware_gives_401_not_redirect(client, settings, alice):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    response = client.get("/api/sessions/")
    assert response.status_code == 401
    assert post_json(client, "/api/login/", CREDENTIALS).status_code == 201


# --- login/ ------------------------------------------------------------------------------------


def test_login__issues_header_only_token(client, alice):
    response = post_json(client, "/api/login/", {**CREDENTIALS, "name": "CLI"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "id", "user"}
    assert body["user"] == {"id": alice.pk, "username": "alice"}
    token = Token.objects.get()
    assert body["id"] == str(token.public_id)
    assert token.key == keys.digest(body["token"])
    assert token.allowed_header and not token.allowed_cookie
    assert token.expiration
    assert token.name == "CLI"
    assert token.backend == "django.contrib.auth.backends.ModelBackend"
    assert "Authorization" not in response.cookies
    assert client.get("/api/sessions/", **bearer(body["token"])).status_code == 200


def test_login__remember_me(client, alice):
    response = post_json(client, "/api/login/", {**CREDENTIALS, "remember": True})
    assert response.status_code == 201
    token = Token.objects.get()
    assert not token.expiration
    assert token.expires_at > timezone.now() + timedelta(days=13)


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "password"},
        {"username": "alice", "password": "password "},
    ],
    # Not "ALICE": MariaDB's default collation matches it, for Django's own login too.
    ids=["wrong-password", "unknown-user", "trailing-space"],
)
def test_login__bad_credentials(client, alice, credentials):
    response = post_json(client, "/api/login/", credentials)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with these credentials."]}
    assert not Token.objects.exists()


def test_login__inactive_user_same_answer(client, alice, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    alice.is_active = False
    alice.save()
    response = post_json(client, "/api/login/", CREDENTIALS)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with these credentials."]}


def test_login__failure_signal_masks_password(client, alice):
    sent = []

    def receiver(sender, credentials, request, **kwargs):
        sent.append((credentials, request))

    user_login_failed.connect(receiver)
    try:
        post_json(client, "/api/login/", {"username": "alice", "password": "wrong"})
    finally:
        user_login_failed.disconnect(receiver)
    [(credentials, request)] = sent
    assert credentials["username"] == "alice"
    assert credentials["password"] != "wrong"
    assert set(credentials["password"]) == {"*"}
    assert request.path == "/api/login/"


@pytest.mark.parametrize(
    "header",
    ["Bearer garbage", f"Bearer {keys.generate()}", "Basic eA=="],
    ids=["garbage", "unknown", "other-scheme"],
)
def test_login__stale_token_is_ignored(client, alice, header):
    response = post_json(client, "/api/login/", CREDENTIALS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 201


def test_login__during_takeover_403(client, alice, bob, alice_token):
    start_takeover(alice_token[0], bob)
    response = post_json(client, "/api/login/", CREDENTIALS, **bearer(alice_token[1]))
    assert response.status_code == 403
    assert Token.objects.count() == 1


@override_settings(AUTH_TOKEN_LOGIN_THROTTLE_RATE="2/min")
def test_login__throttled_per_address(client, alice, login_window):
    # Another username each time: only the address's budget is spent.
    for name in ("mallory", "trudy"):
        assert post_json(client, "/api/login/", {"username": name, "password": "x"}).status_code == 400
    response = post_json(client, "/api/login/", CREDENTIALS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Token.objects.exists()
    # Another address has its own budget; device login shares this one's.
    assert post_json(client, "/api/login/", CREDENTIALS, REMOTE_ADDR="10.0.0.2").status_code == 201
    device_login = {"uuid": "x", "device_token": "y"}
    assert post_json(client, "/api/devices/login/", device_login).status_code == 429


@override_settings(AUTH_TOKEN_LOGIN_THROTTLE_RATE=None)
def test_login__throttle_disabled(client, alice):
    for _ in range(35):
        assert post_json(client, "/api/login/", {"username": "alice", "password": "x"}).status_code == 400


def test_login__throttle_default_rate(client, alice, login_window):
    statuses = [
        post_json(client, "/api/login/", {"username": "a", "password": "x"}).status_code for _ in range(31)
    ]
    assert statuses == [400] * 30 + [429]


def test_login__budget(client, alice, django_assert_num_queries):
    # SELECT the user; SAVEPOINT, INSERT the token, RELEASE (the atomic block of services.login);
    # UPDATE auth_user.last_login (Django's user_logged_in receiver). The throttle uses the cache.
    with django_assert_num_queries(5):
        assert post_json(client, "/api/login/", CREDENTIALS).status_code == 201


def test_login__failure_budget(client, alice, django_assert_num_queries):
    # SELECT the user.
    with django_assert_num_queries(1):
        assert post_json(client, "/api/login/", {"username": "alice", "password": "x"}).status_code == 400


def test_login__get_not_allowed(client):
    assert client.get("/api/login/").status_code == 405


# --- logout/ -----------------------------------------------------------------------------------


def test_logout__revokes_only_the_current_token(client, alice, alice_token):
    other = issue_token(alice)[0]
    response = client.post("/api/logout/", **bearer(alice_token[1]))
    assert response.status_code == 204
    assert not Token.objects.get(pk=alice_token[0].pk).is_active
    assert Token.objects.get(pk=other.pk).is_active
    response = client.post("/api/logout/", **bearer(alice_token[1]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID


def test_logout__unauthenticated(client):
    response = client.post("/api/logout/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM


def test_logout__budget(client, alice_token, django_assert_num_queries):
    # SELECT the token (with user and takeover); SELECT ... FOR UPDATE it; UPDATE it inactive (and
    # its takeover, when it has one).
    with django_assert_num_queries(3):
        assert client.post("/api/logout/", **bearer(alice_token[1])).status_code == 204


# --- logout-all/ -------------------------------------------------------------------------------


def test_logout_all__everything(client, alice, bob, alice_token):
    other = issue_token(alice)[0]
    bobs = issue_token(bob)[0]
    device, _ = services.register_device(None, alice, "phone")
    assert post_json(client, "/api/logout-all/", **bearer(alice_token[1])).status_code == 204
    assert not Token.objects.filter(pk__in=[alice_token[0].pk, other.pk], is_active=True).exists()
    assert Token.objects.get(pk=bobs.pk).is_active
    device.refresh_from_db()
    assert not device.is_active
    assert client.get("/api/sessions/", **bearer(alice_token[1])).status_code == 401


def test_logout_all__keep_current(client, alice, alice_token):
    other = issue_token(alice)[0]
    response = post_json(client, "/api/logout-all/", {"keep_current": True}, **bearer(alice_token[1]))
    assert response.status_code == 204
    assert Token.objects.get(pk=alice_token[0].pk).is_active
    assert not Token.objects.get(pk=other.pk).is_active


@pytest.mark.parametrize("body", [{"keep_current": "maybe"}, {"keep_current": None}, {"keep_current": []}])
def test_logout_all__invalid(client, alice_token, body):
    response = post_json(client, "/api/logout-all/", body, **bearer(alice_token[1]))
    assert response.status_code == 400
    assert "keep_current" in response.json()
    assert Token.objects.get().is_active


def test_logout_all__unauthenticated(client):
    response = client.post("/api/logout-all/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)


def test_logout_all__during_takeover_403(client, alice, bob, alice_token):
    start_takeover(alice_token[0], bob)
    bobs = issue_token(bob)[0]
    response = post_json(client, "/api/logout-all/", {}, **bearer(alice_token[1]))
    assert response.status_code == 403
    assert response.json()["detail"] == "This action is not allowed while you act as another user."
    assert Token.objects.get(pk=bobs.pk).is_active


def test_logout_all__budget(client, alice, alice_token, django_assert_num_queries):
    issue_token(alice)
    # SELECT the token; SAVEPOINT; SELECT ... FOR UPDATE the device keys, then the other active
    # tokens; UPDATE those tokens; UPDATE the device keys; RELEASE.
    with django_assert_num_queries(7):
        assert post_json(client, "/api/logout-all/", **bearer(alice_token[1])).status_code == 204


# --- renew/ ------------------------------------------------------------------------------------


def test_renew__moves_expiry(client, alice_token):
    token = alice_token[0]
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    response = client.post("/api/renew/", **bearer(alice_token[1]))
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.expires_at > timezone.now() + timedelta(minutes=55)
    assert response.json() == {"expires_at": response.json()["expires_at"]}
    assert datetime.fromisoformat(response.json()["expires_at"]) == token.expires_at


def test_renew__unauthenticated(client):
    response = client.post("/api/renew/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)


def test_renew__during_takeover_403(client, alice, bob, alice_token):
    start_takeover(alice_token[0], bob)
    before = Token.objects.get(pk=alice_token[0].pk).expires_at
    response = client.post("/api/renew/", **bearer(alice_token[1]))
    assert response.status_code == 403
    assert Token.objects.get(pk=alice_token[0].pk).expires_at == before


def test_renew__budget(client, alice_token, django_assert_num_queries):
    # SELECT the token; the conditional UPDATE. The middleware does not renew it a second time.
    with django_assert_num_queries(2):
        assert client.post("/api/renew/", **bearer(alice_token[1])).status_code == 200


# --- sessions/ ---------------------------------------------------------------------------------

SESSION_FIELDS = {
    "id",
    "name",
    "kind",
    "client",
    "created_at",
    "last_access",
    "ip",
    "browser",
    "os",
    "device_type",
    "is_current",
}


def test_sessions__lists_own_active_tokens(client, alice, bob, alice_token):
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    laptop = issue_token(alice, name="Laptop")[0]
    Token.objects.filter(pk=laptop.pk).update(user_agent=chrome, ip="192.0.2.7")
    revoked = issue_token(alice)[0]
    services.revoke(revoked)
    expired = issue_token(alice)[0]
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    issue_token(bob)
    response = client.get("/api/sessions/", **bearer(alice_token[1]))
    assert response.status_code == 200
    items = response.json()
    assert {item["id"] for item in items} == {str(alice_token[0].public_id), str(laptop.public_id)}
    assert all(set(item) == SESSION_FIELDS for item in items)
    by_id = {item["id"]: item for item in items}
    assert by_id[str(alice_token[0].public_id)]["is_current"] is True
    laptop_item = by_id[str(laptop.public_id)]
    assert laptop_item["is_current"] is False
    assert (laptop_item["name"], laptop_item["ip"]) == ("Laptop", "192.0.2.7")
    assert (laptop_item["browser"], laptop_item["os"], laptop_item["device_type"]) == (
        "Chrome",
        "Windows",
        "pc",
    )
    assert alice_token[1] not in response.content.decode()
    assert "1$" not in response.content.decode()


def test_sessions__unauthenticated(client):
    response = client.get("/api/sessions/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)


@pytest.mark.parametrize("count", [1, 10])
def test_sessions__budget(client, alice, alice_token, count, django_assert_num_queries):
    for _ in range(count - 1):
        issue_token(alice)
    # SELECT the token; SELECT the user's active tokens. Constant in their number.
    with django_assert_num_queries(2):
        assert len(client.get("/api/sessions/", **bearer(alice_token[1])).json()) == count


def test_session_delete__own_token(client, alice, alice_token):
    other = issue_token(alice)[0]
    response = client.delete(f"/api/sessions/{other.public_id}/", **bearer(alice_token[1]))
    assert response.status_code == 204
    assert not Token.objects.get(pk=other.pk).is_active
    assert Token.objects.get(pk=alice_token[0].pk).is_active
    # Already revoked: nothing to find.
    assert client.delete(f"/api/sessions/{other.public_id}/", **bearer(alice_token[1])).status_code == 404


def test_session_delete__current_token(client, alice_token):
    url = f"/api/sessions/{alice_token[0].public_id}/"
    assert client.delete(url, **bearer(alice_token[1])).status_code == 204
    assert client.get("/api/sessions/", **bearer(alice_token[1])).status_code == 401


@pytest.mark.parametrize(
    "session_id",
    [
        "nope",
        "1",
        "0" * 31,
        "x" * 2000,
        "7dd308db-3242-4e6b-a4b3-dcf27fcb7dcz",
        "{7dd308db-3242-4e6b-a4b3-dcf27fcb7dcc",
        "%00",
        "%C3%A9",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_session_delete__garbage_or_unknown_id_404(
    client, alice_token, session_id, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        response = client.delete(f"/api/sessions/{session_id}/", **bearer(alice_token[1]))
    assert response.status_code == 404
    assert Token.objects.get().is_active


def test_session_delete__other_users_token_404(client, bob, alice_token):
    bobs = issue_token(bob)[0]
    assert client.delete(f"/api/sessions/{bobs.public_id}/", **bearer(alice_token[1])).status_code == 404
    assert Token.objects.get(pk=bobs.pk).is_active


def test_session_delete__unauthenticated(client, alice_token):
    response = client.delete(f"/api/sessions/{alice_token[0].public_id}/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, REALM)
    assert Token.objects.get().is_active


def test_session_delete__other_token_during_takeover_403(client, alice, bob, alice_token):
    start_takeover(alice_token[0], bob)
    bobs = issue_token(bob)[0]
    response = client.delete(f"/api/sessions/{bobs.public_id}/", **bearer(alice_token[1]))
    assert response.status_code == 403
    assert Token.objects.get(pk=bobs.pk).is_active


def test_session_delete__budget(client, alice, alice_token, django_assert_num_queries):
    other = issue_token(alice)[0]
    # SELECT the request's token; SELECT the one to revoke; SELECT ... FOR UPDATE it; UPDATE it.
    with django_assert_num_queries(4):
        assert client.delete(f"/api/sessions/{other.public_id}/", **bearer(alice_token[1])).status_code == 204


def test_api_client_fixture(api_client_factory, alice):
    client = api_client_factory(alice)
    assert isinstance(client, Client)
    assert client.get("/api/sessions/").status_code == 200


def test_login__user_serializer_is_a_hook(alice):
    """Projects change a body by subclassing a view and setting its serializer attribute."""
    from rest_framework import serializers

    from auth_token.contrib.rest_framework.views import LoginView

    class EmailUserSerializer(serializers.Serializer):
        email = serializers.EmailField()

    view = LoginView.as_view(user_serializer_class=EmailUserSerializer)
    request = APIRequestFactory().post("/", CREDENTIALS, format="json")
    response = view(request)
    assert response.status_code == 201
    assert response.data["user"] == {"email": "alice@example.com"}
