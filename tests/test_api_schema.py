"""The OpenAPI schema of the token API, and a property-based run against it (schemathesis).

The schema must list every path, method and status code the API answers, with no warning from
drf-spectacular; schemathesis then sends generated requests through the WSGI application and
checks that none gets a 5xx and that every answer matches the schema.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from auth_token import services
from tests.factories import issue_token
from tests.test_api import SESSION_FIELDS

pytestmark = pytest.mark.django_db

# path: {method: status codes}, as the API reference lists them.
BODY_ERRORS = {"400", "413", "415"}
EXPECTED = {
    "/api/login/": {"post": {"201", "403", "429", *BODY_ERRORS}},
    "/api/devices/login/": {"post": {"201", "403", "429", *BODY_ERRORS}},
    "/api/logout/": {"post": {"204", "401", "403"}},
    "/api/logout-all/": {"post": {"204", "401", "403", *BODY_ERRORS}},
    "/api/renew/": {"post": {"200", "401", "403"}},
    "/api/me/": {"get": {"200", "401", "403"}},
    "/api/sessions/": {"get": {"200", "401", "403"}},
    "/api/sessions/{session_id}/": {"delete": {"204", "401", "403", "404"}},
    "/api/devices/": {"get": {"200", "401", "403"}, "post": {"201", "401", "403", "409", *BODY_ERRORS}},
    "/api/tokens/": {"get": {"200", "401", "403"}, "post": {"201", "401", "403", *BODY_ERRORS}},
    "/api/tokens/{token_id}/": {"delete": {"204", "401", "403", "404"}},
    "/api/devices/{device_id}/": {"delete": {"204", "401", "403", "404"}},
}
PUBLIC = {"/api/login/", "/api/devices/login/"}


def generate_schema():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema, dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)


@pytest.fixture(scope="module")
def openapi():
    schema, warnings, errors = generate_schema()
    assert (warnings, errors) == ({}, {})
    return schema


def test_schema__valid_and_without_warnings(openapi):
    validate_schema(openapi)


def test_schema__bearer_scheme(openapi):
    assert openapi["components"]["securitySchemes"] == {"authToken": {"type": "http", "scheme": "bearer"}}
    for path, methods in EXPECTED.items():
        for method in methods:
            security = openapi["paths"][path][method]["security"]
            if path in PUBLIC:
                assert security == [{}], (path, method)
            else:
                assert list(security[0]) == ["authToken"] and len(security) == 1, (path, method)


def test_schema__every_path_method_and_status(openapi):
    api_paths = {
        path: operations for path, operations in openapi["paths"].items() if path.startswith("/api/")
    }
    assert set(api_paths) == set(EXPECTED)
    for path, methods in EXPECTED.items():
        assert set(api_paths[path]) == set(methods), path
        for method, statuses in methods.items():
            assert set(api_paths[path][method]["responses"]) == statuses, (path, method)


def test_schema__bodies(openapi):
    schemas = openapi["components"]["schemas"]
    assert set(schemas["IssuedToken"]["properties"]) == {"token", "expires_at", "id", "user"}
    assert set(schemas["TokenUser"]["properties"]) == {"id", "username"}
    assert set(schemas["TokenLogin"]["properties"]) == {"username", "password", "name", "remember", "client"}
    assert set(schemas["DeviceLogin"]["properties"]) == {"uuid", "device_token", "name"}
    assert set(schemas["DeviceRegistration"]["properties"]) == {"uuid", "name"}
    assert set(schemas["RegisteredDevice"]["properties"]) == {"id", "uuid", "name", "device_token"}
    assert set(schemas["DeviceKey"]["properties"]) == {
        "id",
        "uuid",
        "name",
        "is_active",
        "created_at",
        "last_login",
    }
    assert set(schemas["LogoutAll"]["properties"]) == {"keep_current"}
    assert set(schemas["Renewal"]["properties"]) == {"expires_at"}
    assert set(schemas["TokenSession"]["properties"]) == SESSION_FIELDS


@override_settings(AUTH_TOKEN_HEADER_TOKEN_TYPE="Session")
def test_schema__other_scheme_is_an_api_key():
    schema, _, _ = generate_schema()
    scheme = schema["components"]["securitySchemes"]["authToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


# --- property-based run ----------------------------------------------------------------------------


@pytest.fixture
def wsgi_app():
    """The site's WSGI application, keeping the test's database connection (as Django's Client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Not positive_data_acceptance: a schema-valid login with a wrong password is rightly a 400.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
OPERATIONS = [(path, method.upper()) for path, methods in EXPECTED.items() for method in methods]


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_fuzz(openapi, wsgi_app, alice, path, method, mode):
    cache.clear()
    operation = schemathesis.openapi.from_dict(openapi)[path][method]
    services.register_device(None, alice, "phone")

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        _, raw = issue_token(alice)
        headers = {"Host": "testserver"}
        if path not in PUBLIC:
            headers["Authorization"] = f"Bearer {raw}"
        case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)

    with override_settings(AUTH_TOKEN_LOGIN_THROTTLE_RATE=None):
        run()


def test_success_bodies_match_schema(openapi, wsgi_app, alice):
    """The generated requests rarely log in: check each success answer against the schema here."""
    schema = schemathesis.openapi.from_dict(openapi)
    device, secret = services.register_device(None, alice, "phone")
    other_token = issue_token(alice)[0]
    _, raw = issue_token(alice)
    cases = [
        (
            "/api/login/",
            "POST",
            {"body": {"username": "alice", "password": "password", "remember": True}},
            201,
        ),
        ("/api/devices/login/", "POST", {"body": {"uuid": "phone", "device_token": secret}}, 201),
        ("/api/sessions/", "GET", {}, 200),
        ("/api/me/", "GET", {}, 200),
        ("/api/devices/", "GET", {}, 200),
        ("/api/devices/", "POST", {"body": {"uuid": "tablet", "name": "Tablet"}}, 201),
        ("/api/devices/", "POST", {"body": {"uuid": "tablet"}}, 409),
        ("/api/renew/", "POST", {}, 200),
        (
            "/api/sessions/{session_id}/",
            "DELETE",
            {"path_parameters": {"session_id": other_token.public_id}},
            204,
        ),
        ("/api/devices/{device_id}/", "DELETE", {"path_parameters": {"device_id": device.pk}}, 204),
        ("/api/logout-all/", "POST", {"body": {"keep_current": True}}, 204),
        ("/api/logout/", "POST", {}, 204),
        ("/api/logout/", "POST", {}, 401),
    ]
    for path, method, parts, status in cases:
        case = schema[path][method].Case(**parts)
        headers = {"Host": "testserver", "Authorization": f"Bearer {raw}"}
        response = case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)
        assert response.status_code == status, (path, method, response.text)


def test_without_drf_spectacular__decorators_are_inert(monkeypatch):
    """The API must import and work when drf-spectacular is not installed."""
    import importlib
    import sys

    from auth_token.contrib.rest_framework import openapi

    monkeypatch.setitem(sys.modules, "drf_spectacular", None)
    monkeypatch.setitem(sys.modules, "drf_spectacular.types", None)
    monkeypatch.setitem(sys.modules, "drf_spectacular.utils", None)
    try:
        stand_ins = importlib.reload(openapi)

        def view():
            pass

        decorated = stand_ins.extend_schema(
            responses={400: stand_ins.OpenApiResponse(stand_ins.OpenApiTypes.OBJECT, description="x")},
            parameters=[
                stand_ins.OpenApiParameter("id", stand_ins.OpenApiTypes.INT, stand_ins.OpenApiParameter.PATH)
            ],
        )(view)
        assert decorated is view
    finally:
        monkeypatch.undo()
        importlib.reload(openapi)
    assert openapi.extend_schema.__module__ == "drf_spectacular.utils"


def test_schema__each_operation_lists_the_scopes_it_needs(openapi):
    paths = openapi["paths"]

    def security(path, method):
        return paths[path][method]["security"]

    assert security("/api/me/", "get") == [{"authToken": ["sessions:read"]}]
    assert security("/api/sessions/", "get") == [{"authToken": ["sessions:read"]}]
    assert security("/api/sessions/{session_id}/", "delete") == [{"authToken": ["sessions:write"]}]
    assert security("/api/logout-all/", "post") == [{"authToken": ["sessions:write"]}]
    assert security("/api/devices/", "post") == [{"authToken": ["devices:write"]}]
    assert security("/api/logout/", "post") == [{"authToken": []}]
    assert security("/api/tokens/", "post") == [
        {"authToken": []}
    ]  # the service's rule: cookie or tokens:write
