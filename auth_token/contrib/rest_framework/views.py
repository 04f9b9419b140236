"""The token API. The views validate bodies and call ``services``; they hold no token logic.

Each view sets its own authentication, permission and throttle classes, so a project's
``REST_FRAMEWORK`` defaults change nothing here. Serializers are class attributes: subclass a
view to change a body (e.g. ``user_serializer_class``) and mount the subclass.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from auth_token import services
from auth_token.conf import settings as app_settings
from auth_token.contrib.rest_framework import serializers
from auth_token.contrib.rest_framework.authentication import TokenAuthentication
from auth_token.contrib.rest_framework.exceptions import RequestBodyTooLarge, to_api_exception
from auth_token.contrib.rest_framework.openapi import (
    BODY_ERRORS,
    TAGS,
    OpenApiParameter,
    OpenApiTypes,
    errors,
    extend_schema,
)
from auth_token.contrib.rest_framework.parsers import SafeJSONParser
from auth_token.contrib.rest_framework.permissions import TokenHasScope
from auth_token.contrib.rest_framework.throttling import LoginRateThrottle
from auth_token.credentials import foreign_scheme
from auth_token.exceptions import InvalidDeviceCredentials
from auth_token.models import DeviceKey, Token

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from rest_framework.request import Request

# DeviceKey ids are BigAutoField values (< 2**63); up to 18 digits always fit. A longer number or
# a non-ASCII digit that int() accepts would make the database raise instead of matching nothing.
DEVICE_ID = re.compile(r"[1-9][0-9]{0,17}")


@method_decorator(login_not_required, name="dispatch")
class TokenAPIView(APIView):
    """Base of the API views: small JSON bodies only, and service exceptions as their HTTP codes.

    Exempt from ``LoginRequiredMiddleware``: the views answer 401 themselves, where a redirect
    to a login page would mean nothing to an API client.
    """

    parser_classes = (SafeJSONParser,)
    # The largest body is a login (a password of up to 4096 characters, escaped as JSON). DRF
    # reads bodies as a stream, which escapes Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
    max_body_size = 64 * 1024

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if self.body_size(request) > self.max_body_size:
            raise RequestBodyTooLarge
        super().initial(request, *args, **kwargs)

    @staticmethod
    def body_size(request: Request) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(to_api_exception(exc))

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "view": self}

    def validated_data(self, serializer_class: type, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def body_string(request: Request, name: str) -> str | None:
        """Return the string ``name`` of the body, before validation; None if absent or not a string."""
        value = request.data.get(name) if isinstance(request.data, dict) else None
        return value if isinstance(value, str) else None


class AuthenticatedAPIView(TokenAPIView):
    """Base of the views that act on the caller's own tokens: our token required, no throttle.

    ``scopes_by_method`` names the scopes each HTTP method needs (none by default: a token may
    always end or renew itself).
    """

    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated, TokenHasScope)
    throttle_classes = ()
    scopes_by_method: dict[str, tuple[str, ...]] = {}

    def get_required_scopes(self, request: Request) -> tuple[str, ...]:
        method = "GET" if request.method == "HEAD" else request.method
        return self.scopes_by_method.get(method, ())

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> None:
        # A client sending another scheme (``Token``, from DRF's authtoken) learns which one we expect.
        scheme = foreign_scheme(request._request) if request.successful_authenticator is None else None
        if scheme is not None:
            raise NotAuthenticated(
                _(
                    "Authentication credentials were not provided: this API expects the %(ours)s scheme "
                    '("%(header)s: %(ours)s <token>"), not %(theirs)s.'
                )
                % {
                    "header": app_settings.HEADER_NAME,
                    "ours": app_settings.HEADER_TOKEN_TYPE,
                    "theirs": scheme,
                }
            )
        super().permission_denied(request, message=message, code=code)


class IssueTokenMixin:
    """Answer a login with the new token, shown this once."""

    issued_token_serializer_class = serializers.IssuedTokenSerializer
    user_serializer_class = serializers.TokenUserSerializer

    @sensitive_variables()  # the raw token, also inside the serializer's frames
    def issued_token_response(self, token: Token, raw: str, user: AbstractBaseUser) -> Response:
        body = {"token": raw, "expires_at": token.expires_at, "id": token.public_id, "user": user}
        serializer = self.issued_token_serializer_class(body, context=self.get_serializer_context())
        serializer.fields["user"] = self.user_serializer_class(read_only=True)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


# The API parses JSON only, but an error report reads request.POST, which parses a form body.
@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(IssueTokenMixin, TokenAPIView):
    """Log in with a username and password; the answer holds a header-only token."""

    # No authentication: a stale token sent along must not turn a login into a 401.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginRateThrottle,)
    serializer_class = serializers.TokenLoginSerializer

    def throttle_credentials(self, request: Request) -> dict[str, str]:
        """The username the throttle counts this attempt under, before anything authenticates."""
        username = self.body_string(request, "username")
        return {} if username is None else {"username": username}

    @extend_schema(
        tags=TAGS,
        request=serializers.TokenLoginSerializer,
        responses={201: serializers.IssuedTokenSerializer, **errors(*BODY_ERRORS, 403, 429)},
    )
    # Every local, and every frame below that holds the body (DRF's validation, the serializer,
    # whose repr shows its data), is masked in error reports: the password and the raw token.
    @sensitive_variables()
    def post(self, request: Request) -> Response:
        data = self.validated_data(self.serializer_class, request)
        user = data["user"]
        token, raw = services.login(
            request._request,
            user,
            expiration=not data["remember"],
            name=data["name"],
            allowed_cookie=False,
            client=data.get("client"),
        )
        return self.issued_token_response(token, raw, user)


@method_decorator(sensitive_post_parameters("device_token"), name="dispatch")
class DeviceLoginView(IssueTokenMixin, TokenAPIView):
    """Log a registered device in with its UUID and secret; the answer holds a header-only token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginRateThrottle,)
    serializer_class = serializers.DeviceLoginSerializer

    def throttle_credentials(self, request: Request) -> dict[str, str]:
        """The device uuid the throttle counts this attempt under, as the device backend's name."""
        device_uuid = self.body_string(request, "uuid")
        return {} if device_uuid is None else {"device_uuid": device_uuid}

    @extend_schema(
        tags=TAGS,
        request=serializers.DeviceLoginSerializer,
        responses={201: serializers.IssuedTokenSerializer, **errors(*BODY_ERRORS, 403, 429)},
    )
    @sensitive_variables()  # the device secret and the raw token, as LoginView.post
    def post(self, request: Request) -> Response:
        data = self.validated_data(self.serializer_class, request)
        # Without a name, the token takes the device's.
        options = {"name": data["name"]} if data["name"] else {}
        try:
            token, raw = services.login_device(
                request._request, data["uuid"], data["device_token"], **options
            )
        except InvalidDeviceCredentials:
            raise ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [serializers.INVALID_DEVICE]}, code="invalid_device"
            ) from None
        return self.issued_token_response(token, raw, token.user)


class LogoutView(AuthenticatedAPIView):
    """End the request's token (during a takeover: end the takeover first)."""

    @extend_schema(tags=TAGS, request=None, responses={204: None, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        services.logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthenticatedAPIView):
    """End every token and device key of the user, optionally but this request's token."""

    scopes_by_method = {"POST": ("sessions:write",)}

    serializer_class = serializers.LogoutAllSerializer

    @extend_schema(
        tags=TAGS,
        request=serializers.LogoutAllSerializer,
        responses={204: None, **errors(*BODY_ERRORS, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated_data(self.serializer_class, request)
        keep = request.auth if data["keep_current"] else None
        services.logout_all(request.user, keep=keep, devices=True, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RenewView(AuthenticatedAPIView):
    """Slide the expiry of the request's token now."""

    renewal_serializer_class = serializers.RenewalSerializer

    @extend_schema(
        tags=TAGS, request=None, responses={200: serializers.RenewalSerializer, **errors(401, 403)}
    )
    def post(self, request: Request) -> Response:
        token = services.renew(request._request)
        return Response(self.renewal_serializer_class(token, context=self.get_serializer_context()).data)


class MeView(AuthenticatedAPIView):
    """The user the request acts as, its token, and the takeover when one holds (no query)."""

    scopes_by_method = {"GET": ("sessions:read",)}

    me_serializer_class = serializers.MeSerializer

    @extend_schema(tags=TAGS, responses={200: serializers.MeSerializer, **errors(401, 403)})
    def get(self, request: Request) -> Response:
        token = request.auth
        takeover = token.active_takeover if request.user is not token.user else None
        data = {
            "user": request.user,
            "token": token,
            "takeover": None
            if takeover is None
            else {"actor": token.user, "started_at": takeover.created_at},
        }
        return Response(self.me_serializer_class(data, context=self.get_serializer_context()).data)


class SessionListView(AuthenticatedAPIView):
    """The user's active tokens, most recently used first (unpaginated: a user has few)."""

    scopes_by_method = {"GET": ("sessions:read",)}

    session_serializer_class = serializers.TokenSessionSerializer

    @extend_schema(
        tags=TAGS, responses={200: serializers.TokenSessionSerializer(many=True), **errors(401, 403)}
    )
    def get(self, request: Request) -> Response:
        tokens = Token.objects.sessions_of(request.user)  # personal tokens are listed apart: api/tokens/
        serializer = self.session_serializer_class(tokens, many=True, context=self.get_serializer_context())
        return Response(serializer.data)


class SessionDetailView(AuthenticatedAPIView):
    """Revoke one of the user's tokens by its public id."""

    scopes_by_method = {"DELETE": ("sessions:write",)}

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("session_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, session_id: str) -> Response:
        token = self.get_token(request, session_id)
        services.revoke(token, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_queryset(self, request: Request) -> QuerySet[Token]:
        """The tokens this view may revoke: every active token of the user."""
        return Token.objects.active().filter(user=request.user)

    def get_token(self, request: Request, session_id: str) -> Token:
        # Parsed here: a garbage id would make the UUIDField lookup raise instead of matching nothing.
        try:
            public_id = uuid.UUID(session_id)
        except ValueError:
            raise NotFound from None
        token = self.get_queryset(request).filter(public_id=public_id).first()
        if token is None:
            raise NotFound
        return token


class PersonalTokenListView(AuthenticatedAPIView):
    """The user's personal access tokens; POST creates one and shows it once."""

    scopes_by_method = {"GET": ("sessions:read",)}  # creating: the service's rule
    serializer_class = serializers.PersonalTokenRequestSerializer
    personal_token_serializer_class = serializers.PersonalTokenSerializer
    created_serializer_class = serializers.CreatedPersonalTokenSerializer

    @extend_schema(
        tags=TAGS, responses={200: serializers.PersonalTokenSerializer(many=True), **errors(401, 403)}
    )
    def get(self, request: Request) -> Response:
        tokens = Token.objects.personal_tokens_of(request.user)
        serializer = self.personal_token_serializer_class(
            tokens, many=True, context=self.get_serializer_context()
        )
        return Response(serializer.data)

    @extend_schema(
        tags=TAGS,
        request=serializers.PersonalTokenRequestSerializer,
        responses={201: serializers.CreatedPersonalTokenSerializer, **errors(*BODY_ERRORS, 401, 403)},
    )
    @sensitive_variables()  # the raw token, also inside the serializer's frames
    def post(self, request: Request) -> Response:
        data = self.validated_data(self.serializer_class, request)
        token, raw = services.create_personal_token(
            request._request,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_at=services.NO_EXPIRY if data["no_expiry"] else data["expires_at"],
        )
        context = {**self.get_serializer_context(), "raw_token": raw}
        return Response(
            self.created_serializer_class(token, context=context).data, status=status.HTTP_201_CREATED
        )


class PersonalTokenDetailView(SessionDetailView):
    """Revoke one of the user's personal access tokens by its public id."""

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("token_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, token_id: str) -> Response:
        return super().delete(request, token_id)

    def get_queryset(self, request: Request) -> QuerySet[Token]:
        """Only personal access tokens: a session's id is a 404 here, as it is not listed."""
        return super().get_queryset(request).personal()


class DeviceListView(AuthenticatedAPIView):
    """The user's device keys; POST registers (or re-activates) one and shows its secret once."""

    scopes_by_method = {"GET": ("devices:read",), "POST": ("devices:write",)}

    serializer_class = serializers.DeviceRegistrationSerializer
    device_serializer_class = serializers.DeviceKeySerializer
    registered_device_serializer_class = serializers.RegisteredDeviceSerializer

    @extend_schema(tags=TAGS, responses={200: serializers.DeviceKeySerializer(many=True), **errors(401, 403)})
    def get(self, request: Request) -> Response:
        devices = DeviceKey.objects.filter(user=request.user).order_by("-created_at", "-pk")
        serializer = self.device_serializer_class(devices, many=True, context=self.get_serializer_context())
        return Response(serializer.data)

    @extend_schema(
        tags=TAGS,
        request=serializers.DeviceRegistrationSerializer,
        responses={201: serializers.RegisteredDeviceSerializer, **errors(*BODY_ERRORS, 401, 403, 409)},
    )
    @sensitive_variables()  # the new device secret, also inside the serializer's frames
    def post(self, request: Request) -> Response:
        data = self.validated_data(self.serializer_class, request)
        device, secret = services.register_device(
            request._request, request.user, data["uuid"], name=data["name"]
        )
        context = {**self.get_serializer_context(), "device_token": secret}
        body = self.registered_device_serializer_class(device, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)


class DeviceDetailView(AuthenticatedAPIView):
    """Deactivate one of the user's devices (kept for re-activation) and revoke its tokens."""

    scopes_by_method = {"DELETE": ("devices:write",)}

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("device_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, device_id: str) -> Response:
        device = self.get_device(request, device_id)
        services.deactivate_device(device, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def get_device(request: Request, device_id: str) -> DeviceKey:
        if not DEVICE_ID.fullmatch(device_id):
            raise NotFound
        device = DeviceKey.objects.filter(user=request.user, pk=int(device_id)).first()
        if device is None:
            raise NotFound
        return device
