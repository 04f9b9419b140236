"""drf-spectacular: describe ``TokenAuthentication`` as the Bearer scheme.

Imported by ``authentication`` only when drf-spectacular is installed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from auth_token.conf import meta_key, settings


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "auth_token.contrib.rest_framework.authentication.TokenAuthentication"
    match_subclasses = True
    name = "authToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        # An http/bearer scheme for the default header; OpenAPI 3.0 can only call another header
        # or scheme word an apiKey.
        return build_bearer_security_scheme_object(
            header_name=meta_key(settings.HEADER_NAME),
            token_prefix=settings.HEADER_TOKEN_TYPE,
        )
