"""The views' schema: drf-spectacular's decorators (inert stand-ins when it is not installed) and
the error responses the views list.

The views describe their bodies and codes for the schema, but the API must work without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from auth_token.contrib.rest_framework.serializers import ErrorDetailSerializer

try:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
except ImportError:  # drf-spectacular is optional

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        return lambda view: view

    class OpenApiResponse:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class OpenApiParameter:  # type: ignore[no-redef]
        PATH = "path"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class OpenApiTypes:  # type: ignore[no-redef]
        INT = OBJECT = UUID = None


__all__ = [
    "BODY_ERRORS",
    "TAGS",
    "OpenApiParameter",
    "OpenApiResponse",
    "OpenApiTypes",
    "errors",
    "extend_schema",
]

TAGS = ["auth_token"]
_ERROR = ErrorDetailSerializer
RESPONSES = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT, description=_("Invalid input: messages by field name or under non_field_errors.")
    ),
    401: OpenApiResponse(_ERROR, description=_("No valid token; see the WWW-Authenticate header.")),
    403: OpenApiResponse(
        _ERROR,
        description=_(
            "The token lacks a scope the operation needs (see its security requirement), an action "
            "not allowed during a takeover, or a cookie token without a valid CSRF token."
        ),
    ),
    404: OpenApiResponse(_ERROR, description=_("No such object of yours.")),
    409: OpenApiResponse(_ERROR, description=_("This device is already registered and active.")),
    413: OpenApiResponse(_ERROR, description=_("The request body is too large.")),
    415: OpenApiResponse(_ERROR, description=_("The request body is not JSON.")),
    429: OpenApiResponse(_ERROR, description=_("Too many login attempts from this address.")),
}


def errors(*codes: int) -> dict[int, Any]:
    """Return the schema's error responses for ``codes``."""
    return {code: RESPONSES[code] for code in codes}


BODY_ERRORS = (400, 413, 415)
