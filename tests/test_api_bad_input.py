"""Bad input to every API endpoint gets the status and body the API reference documents (or is
ignored by an endpoint without a body): wrong content types, bodies that are not JSON objects,
deep nesting, huge bodies, odd Accept headers and headers, with and without a valid token.
"""

import json

import pytest

from auth_token import services
from tests.factories import issue_token

pytestmark = pytest.mark.django_db

MB = 1024 * 1024

# name: (method, path template, takes a JSON body)
ENDPOINTS = {
    "login": ("post", "/api/login/", True),
    "device-login": ("post", "/api/devices/login/", True),
    "logout": ("post", "/api/logout/", False),
    "logout-all": ("post", "/api/logout-all/", True),
    "renew": ("post", "/api/renew/", False),
    "me": ("get", "/api/me/", False),
    "sessions": ("get", "/api/sessions/", False),
    "session": ("delete", "/api/sessions/{session_id}/", False),
    "devices-list": ("get", "/api/devices/", False),
    "devices-register": ("post", "/api/devices/", True),
    "device": ("delete", "/api/devices/{device_id}/", False),
}

PUBLIC = {"login", "device-login"}  # no authentication: the body is read first
# The status of an endpoint called with "{}" (or no body) by alice: required fields are missing.
ANSWER_TO_EMPTY_OBJECT = {
    "login": 400,
    "device-login": 400,
    "logout": 204,
    "logout-all": 204,
    "renew": 200,
    "me": 200,
    "sessions": 200,
    "session": 204,
    "devices-list": 200,
    "devices-register": 400,
    "device": 204,
}
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID = "Invalid or expired token."

# name: (content type, body, status for an endpoint that reads its body)
BAD_BODIES = {
    "text-plain": ("text/plain", b"username=alice", 415),
    "form": ("application/x-www-form-urlencoded", b"username=alice&password=password", 415),
    "multipart": ("multipart/form-data; boundary=xx", b"--xx\r\n\r\n--xx--\r\n", 415),
    "xml": ("application/xml", b"<login/>", 415),
    "no-content-type": ("", b'{"uuid": "x"}', 415),
    "malformed-json": ("application/json", b"{", 400),
    "not-utf8": ("application/json", b'{"username": "\xff\xfe"}', 400),
    "array": ("application/json", b"[]", 400),
    "string": ("application/json", b'"alice"', 400),
    "number": ("application/json", b"1", 400),
    "null": ("application/json", b"null", 400),
    "true": ("application/json", b"true", 400),
    "deep-nesting": ("application/json", b"[" * 50_000, 400),
    "deep-object": ("application/json", b'{"a":' * 10_000, 400),
    "nan": ("application/json", b'{"keep_current": NaN, "username": NaN, "uuid": NaN}', 400),
    "huge-padding": ("application/json", json.dumps({"pad": "x" * MB}).encode(), 413),
    "huge-field": ("application/json", json.dumps({"username": "x" * MB, "uuid": "x" * MB}).encode(), 413),
    "charset-latin1": ("application/json; charset=latin-1", b'["\xe9"]', 400),
    "charset-bogus": ("application/json; charset=bogus", b'["x"]', 400),
}


@pytest.fixture
def request_endpoint(client, alice, alice_header):
    """Return ``call(name, content_type, body, authenticated=True)`` for an endpoint of ENDPOINTS."""
    other_token = issue_token(alice)[0]
    device, _ = services.register_device(None, alice, "phone")

    def call(name, content_type, body, *, authenticated=True, **extra):
        method, template, _ = ENDPOINTS[name]
        path = template.format(session_id=other_token.public_id, device_id=device.pk)
        headers = alice_header if authenticated else {}
        return client.generic(method.upper(), path, body, content_type=content_type, **headers, **extra)

    return call


def expected_status(name, body_case):
    """The status a bad body gets: its own when the endpoint reads bodies, else only 413 or none."""
    takes_body = ENDPOINTS[name][2]
    status = BAD_BODIES[body_case][2]
    return status if takes_body or status == 413 else None


@pytest.mark.parametrize("body_case", BAD_BODIES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_bad_body(request_endpoint, name, body_case):
    content_type, body, _ = BAD_BODIES[body_case]
    response = request_endpoint(name, content_type, body)
    expected = expected_status(name, body_case)
    if expected is None:
        # An endpoint without a body ignores it.
        assert response.status_code < 300, response.content
    else:
        assert response.status_code == expected, response.content
        assert_error_body(response.json())
    assert response.status_code == 204 or response["Content-Type"] == "application/json"


def assert_error_body(body):
    """DRF's error shapes: ``{"detail": "..."}``, or the fields' messages (``{"uuid": ["..."]}``)."""
    assert isinstance(body, dict) and body, body
    for messages in body.values():
        messages = [messages] if isinstance(messages, str) else messages
        assert messages and all(isinstance(message, str) and message for message in messages), body


def assert_unauthorized(response, detail):
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": detail}
    expected = 'Bearer realm="api"' + (', error="invalid_token"' if detail == INVALID else "")
    assert response["WWW-Authenticate"] == expected


@pytest.mark.parametrize("name", ENDPOINTS)
def test_bad_body__unauthenticated(request_endpoint, name):
    """Authentication comes before the body: a huge or garbled body without a token is a 401."""
    for body_case, (content_type, body, status) in BAD_BODIES.items():
        response = request_endpoint(name, content_type, body, authenticated=False)
        if name in PUBLIC or status == 413:  # a body over the limit is refused before anything
            assert response.status_code == status, (body_case, response.content)
            assert_error_body(response.json())
        else:
            assert_unauthorized(response, NOT_PROVIDED)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_empty_body(request_endpoint, name):
    # No body at all (e.g. curl -X POST): the optional fields take their defaults.
    response = request_endpoint(name, "application/json", b"")
    if name in ("login", "device-login", "devices-register"):
        assert response.status_code == 400
    else:
        assert response.status_code in (200, 204)


@pytest.mark.parametrize(
    ("accept", "status"),
    [("text/html", None), ("application/xml", 406), ("*/*", None), ("application/json; indent=2", None)],
)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_accept_header(request_endpoint, name, accept, status):
    body = b"{}" if ENDPOINTS[name][2] else b""
    response = request_endpoint(name, "application/json", body, HTTP_ACCEPT=accept)
    if accept == "text/html":  # DRF's browsable API shows an empty answer's page as a 200
        expected = ANSWER_TO_EMPTY_OBJECT[name]
        assert response.status_code == (200 if expected == 204 else expected)
        assert response["Content-Type"].startswith("text/html")
    elif status is None:  # a type DRF can serve: the answer "{}" always gets
        assert response.status_code == ANSWER_TO_EMPTY_OBJECT[name], response.content
    else:
        assert response.status_code == status
        assert response.json() == {"detail": "Could not satisfy the request Accept header."}


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer " + "a" * MB},
        {"HTTP_AUTHORIZATION": "Bearer \x00"},
        {"HTTP_AUTHORIZATION": "Bearer é"},
        {"HTTP_COOKIE": "Authorization=" + "a" * 8192},
        {"HTTP_X_FORWARDED_FOR": "not-an-ip, 10.0.0.1"},
        {"REMOTE_ADDR": "garbage"},
        {"HTTP_USER_AGENT": "\x00\x1b[31m" * 1000},
    ],
    ids=["1mb-header", "nul", "non-ascii", "8kb-cookie", "forwarded-for", "bad-remote-addr", "control-ua"],
)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_bad_headers(client, alice, name, headers):
    method, template, _ = ENDPOINTS[name]
    path = template.format(session_id="x", device_id="1")
    body = json.dumps({"username": "alice", "password": "password"}).encode()
    response = client.generic(method.upper(), path, body, content_type="application/json", **headers)
    if name == "login":  # the login view authenticates nobody: the body's password counts
        assert response.status_code == 201
    elif name == "device-login":
        assert response.status_code == 400
        assert set(response.json()) == {"uuid", "device_token"}
    else:  # a malformed credential of ours is refused; no credential at all is asked for
        credential = {"HTTP_AUTHORIZATION", "HTTP_COOKIE"} & set(headers)
        assert_unauthorized(response, INVALID if credential else NOT_PROVIDED)


def test_bad_remote_addr__login_still_works(client, alice):
    # No valid client address: the token stores ip=None and the throttle uses a shared bucket.
    body = json.dumps({"username": "alice", "password": "password"})
    response = client.post("/api/login/", body, content_type="application/json", REMOTE_ADDR="garbage")
    assert response.status_code == 201


def _methods_of(path):
    return {method for method, other_path, _ in ENDPOINTS.values() if other_path == path}


OTHER_METHODS = [
    (name, method)
    for name, (_, path, _) in ENDPOINTS.items()
    for method in ("get", "post", "put", "patch", "delete", "trace")
    if method not in _methods_of(path)
]


@pytest.mark.parametrize(("name", "method"), OTHER_METHODS)
def test_other_methods_405(request_endpoint, name, method):
    response = request_endpoint(name, "application/json", b"", REQUEST_METHOD=method.upper())
    assert response.status_code == 405


@pytest.mark.parametrize("name", ENDPOINTS)
def test_options(request_endpoint, name):
    response = request_endpoint(name, "application/json", b"", REQUEST_METHOD="OPTIONS")
    assert response.status_code == 200


PUBLIC = {"login", "device-login"}
AUTHENTICATED = [name for name in ENDPOINTS if name not in PUBLIC]


@pytest.mark.parametrize(
    ("headers", "www_authenticate"),
    [
        ({}, 'Bearer realm="api"'),
        ({"HTTP_AUTHORIZATION": "Basic YWxpY2U6cGFzc3dvcmQ="}, 'Bearer realm="api"'),
        ({"HTTP_AUTHORIZATION": "Bearer garbage"}, 'Bearer realm="api", error="invalid_token"'),
        ({"HTTP_COOKIE": "Authorization=garbage"}, 'Bearer realm="api", error="invalid_token"'),
    ],
    ids=["none", "other-scheme", "bad-header", "bad-cookie"],
)
@pytest.mark.parametrize("name", AUTHENTICATED)
def test_unauthenticated__every_endpoint_401(
    client, name, headers, www_authenticate, django_assert_num_queries
):
    method, template, _ = ENDPOINTS[name]
    path = template.format(session_id="00000000-0000-0000-0000-000000000000", device_id="1")
    # Garbage never reaches the database.
    with django_assert_num_queries(0):
        response = client.generic(method.upper(), path, b"{}", content_type="application/json", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == www_authenticate
