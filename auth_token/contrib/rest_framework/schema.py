"""drf-spectacular: describe ``TokenAuthentication`` as the Bearer scheme, and list in each
operation's security requirement the scopes it needs (``TokenHasScope``).

Imported by ``authentication`` only when drf-spectacular is installed.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from auth_token.conf import meta_key, settings
from auth_token.contrib.rest_framework.permissions import TokenHasScope


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

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        """``{"authToken": [the scopes this operation needs]}``, as OpenAPI 3.1 allows for any scheme."""
        request = SimpleNamespace(method=auto_schema.method.upper())
        needed: list[str] = []
        for permission in auto_schema.view.get_permissions():
            if isinstance(permission, TokenHasScope):
                needed += permission.required_scopes(request, auto_schema.view)
        return {self.name: needed}
