"""Scopes narrow what a token may call; the view's own permissions still apply (DESIGN §12).

A permission table through real requests, by header and by cookie; the library's API views and
the scopes they need; unknown scopes refused at creation; no query beyond the lookup.
"""

from uuid import uuid4

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from auth_token import services
from auth_token.models import DeviceKey, Token, TokenKind
from auth_token.scopes import UnknownScope
from auth_token.test import Client
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

ORDERS = {"orders:read": "See orders", "orders:write": "Place orders"}


@pytest.fixture(autouse=True)
def declared_scopes(settings):
    settings.AUTH_TOKEN_SCOPES = ORDERS


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def client_for(raw, source):
    """A client sending ``raw`` by ``source``: a header, or the cookie a browser would send."""
    client = Client()
    if source == "cookie":
        client.cookies["Authorization"] = raw
        return client, {}
    return client, bearer(raw)


def granted(user, permission):
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="view_user"))


# Token scopes x the user's permission x what the view needs -> the answer.
TABLE = [
    # scopes,                         user may view users, method, needs,        status
    (None, True, "get", "orders:read", 200),
    (None, False, "get", "orders:read", 403),
    (["orders:read"], True, "get", "orders:read", 200),
    (["orders:read"], True, "post", "orders:write", 403),
    (["orders:read"], False, "get", "orders:read", 403),
    (["orders:write"], True, "get", "orders:read", 403),
    (["orders:write"], True, "post", "orders:write", 201),
    (["orders:read", "orders:write"], True, "post", "orders:write", 201),
    (["orders:read", "orders:write"], False, "post", "orders:write", 403),
    ([], True, "get", "orders:read", 403),
    (["sessions:read"], True, "get", "orders:read", 403),
]


# Our authentication class, and DRF's defaults, whose SessionAuthentication takes the user the
# middleware set: the token's scopes hold either way.
DRF_VIEWS = ["/orders/", "/session-auth/orders/"]


@pytest.mark.parametrize("path", DRF_VIEWS)
@pytest.mark.parametrize("source", ["header", "cookie"])
@pytest.mark.parametrize(("scopes", "permission", "method", "needs", "status"), TABLE)
def test_drf_view__scopes_and_permissions_both_hold(
    alice, path, source, scopes, permission, method, needs, status
):
    granted(alice, permission)
    _, raw = issue_token(alice, scopes=scopes, allowed_cookie=source == "cookie")
    client, headers = client_for(raw, source)
    response = getattr(client, method)(path, **headers)
    assert response.status_code == status
    lacks_scope = scopes is not None and needs not in scopes
    if lacks_scope:  # checked first: it reads only the token
        assert response.json() == {"detail": f"This token lacks the scope: {needs}."}
        assert response["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{needs}"'
    elif status == 403:
        assert "insufficient_scope" not in response.get("WWW-Authenticate", "")


@pytest.mark.parametrize("path", ["/plain-orders/", "/plain-orders-async/"])
@pytest.mark.parametrize("source", ["header", "cookie"])
@pytest.mark.parametrize(
    ("scopes", "status"), [(None, 200), (["orders:read"], 200), (["orders:write"], 403), ([], 403)]
)
def test_plain_view__scope_required(alice, path, source, scopes, status):
    granted(alice, True)
    _, raw = issue_token(alice, scopes=scopes, allowed_cookie=source == "cookie")
    client, headers = client_for(raw, source)
    response = client.get(path, **headers)
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"detail": "This token lacks the scope: orders:read."}
        assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="orders:read"'


def test_plain_view__the_views_own_permission_still_applies(alice):
    _, raw = issue_token(alice, scopes=["orders:read"])
    assert Client().get("/plain-orders/", **bearer(raw)).status_code == 403  # no auth.view_user


def test_plain_view__anonymous_is_unauthorized_not_forbidden(db):
    response = Client().get("/plain-orders/", HTTP_AUTHORIZATION="Bearer at_nope")
    assert response.status_code == 401
    assert Client().get("/plain-orders/")["Location"].startswith("/auth/login/")


def test_drf_view__anonymous_never_gets_in(db):
    assert Client().get("/orders/").status_code in (401, 403)


def test_scopes__no_query_beyond_the_lookup(alice, django_assert_num_queries):
    granted(alice, True)
    alice = type(alice).objects.get(pk=alice.pk)  # no cached permissions
    _, raw = issue_token(alice, scopes=["orders:write"])
    client = Client()
    with django_assert_num_queries(1):  # the lookup; the scope check reads what it loaded
        assert client.get("/orders/", **bearer(raw)).status_code == 403
    with django_assert_num_queries(1):
        assert client.get("/plain-orders/", **bearer(raw)).status_code == 403


# The library's own API.

LIBRARY = [
    ("get", "/api/me/", "sessions:read", 200),
    ("get", "/api/sessions/", "sessions:read", 200),
    ("delete", "/api/sessions/{other}/", "sessions:write", 204),
    ("post", "/api/logout-all/", "sessions:write", 204),
    ("get", "/api/devices/", "devices:read", 200),
]


@pytest.mark.parametrize(("method", "path", "needs", "status"), LIBRARY)
def test_library_api__each_view_needs_its_scope(alice, method, path, needs, status):
    other, _ = issue_token(alice)
    path = path.format(other=other.public_id)
    body = {"keep_current": True} if path.endswith("logout-all/") else None
    for scopes, expected in ((["orders:read"], 403), ([needs], status)):
        _, raw = issue_token(alice, scopes=scopes)
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        response = getattr(Client(), method)(path, **kwargs, **bearer(raw))
        assert response.status_code == expected, (scopes, response.content)
        if expected == 403:
            assert response["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{needs}"'
            assert response.json() == {"detail": f"This token lacks the scope: {needs}."}


def test_library_api__device_registration_needs_devices_write(alice):
    _, raw = issue_token(alice, scopes=["devices:read"])
    response = Client().post(
        "/api/devices/", {"uuid": "dev-1", "name": "Phone"}, content_type="application/json", **bearer(raw)
    )
    assert response.status_code == 403
    assert not DeviceKey.objects.exists()


@pytest.mark.parametrize("path", ["/api/renew/", "/api/logout/"])
def test_library_api__a_token_may_always_renew_or_end_itself(alice, path):
    _, raw = issue_token(alice, scopes=[])
    response = Client().post(path, content_type="application/json", **bearer(raw))
    assert response.status_code in (200, 204)


def test_me__shows_the_scopes(alice):
    _, raw = issue_token(alice, scopes=["sessions:read", "orders:read"])
    token = Client().get("/api/me/", **bearer(raw)).json()["token"]
    assert token["scopes"] == ["orders:read", "sessions:read"]
    assert token["kind"] == "session"


# Creation.


def test_login__every_scope_by_default(alice):
    token, _ = issue_token(alice)
    assert Token.objects.get(pk=token.pk).scopes == ["*"]
    assert token.kind == TokenKind.SESSION


@pytest.mark.parametrize(
    "scopes", [["orders:delete"], ["orders:read", "nope"], ["*", "orders:read"], [""], [None]]
)
def test_login__an_undeclared_scope_is_refused_before_anything_is_written(alice, scopes):
    with pytest.raises(UnknownScope):
        issue_token(alice, scopes=scopes)
    assert not Token.objects.exists()


def test_login__scopes_are_stored_sorted_once(alice):
    token, _ = issue_token(alice, scopes=["orders:write", "orders:read", "orders:write"])
    assert Token.objects.get(pk=token.pk).scopes == ["orders:read", "orders:write"]


def test_password_change__the_new_token_keeps_the_scopes(alice):
    client = Client()
    _, raw = issue_token(alice, scopes=["orders:read"])
    request = client.get("/me/", **bearer(raw)).wsgi_request
    new, _ = services.update_session_auth_hash(request, alice)
    assert (new.scopes, new.kind) == (["orders:read"], TokenKind.SESSION)


# Existing rows.


@pytest.fixture
def migrate_to():
    """Migrate the test database to the given nodes and back to the latest afterwards; yield
    the migrated apps registry."""

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration__existing_tokens_keep_every_scope_and_get_their_kind(alice, migrate_to):
    """Every client that works today keeps working: existing tokens hold every scope; device
    and imported tokens are told apart from sessions."""
    old = migrate_to([("auth_token", "0003_takeover_end_reason_choices")])
    OldToken, OldDevice = old.get_model("auth_token", "Token"), old.get_model("auth_token", "DeviceKey")
    device = OldDevice.objects.create(uuid="d1", user_id=alice.pk, login_token="v1$x")
    common = {"user_id": alice.pk, "backend": "b", "expires_at": timezone.now()}
    OldToken.objects.create(key="v1$session", **common)
    OldToken.objects.create(key="v1$device", device=device, **common)
    OldToken.objects.create(key="drf$imported", **common)
    migrate_to([("auth_token", "0004_token_kind_and_scopes")])
    rows = dict(Token.objects.values_list("key", "kind"))
    assert rows == {"v1$session": "session", "v1$device": "device", "drf$imported": "import"}
    assert set(map(tuple, Token.objects.values_list("scopes", flat=True))) == {("*",)}


@pytest.mark.django_db(transaction=True)
def test_migration__code_that_predates_kind_and_scopes_still_inserts(alice, migrate_to):
    """A rolling upgrade: while old processes still run, their INSERT names neither column and
    the database fills them in, as a session holding every scope."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
    table = connection.ops.quote_name(Token._meta.db_table)
    columns = ", ".join(
        map(
            connection.ops.quote_name,
            [
                "public_id",
                "key",
                "name",
                "created_at",
                "last_access",
                "expires_at",
                "is_active",
                "expiration",
                "user_agent",
                "auth_slug",
                "backend",
                "allowed_cookie",
                "allowed_header",
                "session_auth_hash",
                "user_id",
            ],
        )
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    values = [
        uuid4().hex,
        "v1$old-code",
        "",
        now,
        now,
        now,
        True,
        True,
        "",
        "",
        "b",
        True,
        True,
        "",
        alice.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(values))})", values)
    token = Token.objects.get(key="v1$old-code")
    assert (token.kind, token.scopes) == (TokenKind.SESSION, ["*"])
